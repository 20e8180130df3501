// A room's page: /rooms/{slug}.
import type { Handlers } from "../../runtime/mod.ts";
import type { AppState } from "../../http/app_state.ts";
import { renderRoomPage, type RoomPageData } from "../../http/room_page.ts";
import RoomPage from "../../components/room_page.tsx";

export const handler: Handlers<RoomPageData, AppState> = {
  GET: (ctx) => renderRoomPage(ctx, ctx.params.room),
};

export default RoomPage;
