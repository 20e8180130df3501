// The room page: the chat island with the room's latest messages, rendered on the server.
import type { PageProps } from "../runtime/mod.ts";
import type { RoomPageData } from "../chat/room_page.ts";
import { ChatRoom } from "../islands/chat_room.tsx";

/** The whole-screen chat for one room. */
export default function RoomPage({ data }: PageProps<RoomPageData>) {
  return <ChatRoom {...data} />;
}
