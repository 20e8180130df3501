// The home page: the room `general`.
import type { Handlers } from "../runtime/mod.ts";
import type { AppState } from "../http/app_state.ts";
import { renderRoomPage, type RoomPageData } from "../http/room_page.ts";
import RoomPage from "../components/room_page.tsx";

export const handler: Handlers<RoomPageData, AppState> = {
  GET: (ctx) => renderRoomPage(ctx, "general"),
};

export default RoomPage;
