// The room page: the chat island with the room's latest messages, rendered on the server.
import type { PageProps } from "../runtime/mod.ts";
import type { RoomPageData } from "../http/room_page.ts";
import { ChatRoom } from "../islands/chat_room.tsx";
import { RoomSidebar } from "../islands/room_sidebar.tsx";

/** The whole-screen chat for one room, with the room list beside it. */
export default function RoomPage({ data }: PageProps<RoomPageData>) {
  const { roomList, canCreateRooms, ...chat } = data;
  return (
    <div class="workspace">
      {data.room.archived
        ? <a class="skip-link" href="#archived-notice">Skip to the end of the conversation</a>
        : <a class="skip-link" href="#composer-input">Skip to composer</a>}
      {/* The chat comes first (its h1 before the room list's headings); CSS puts the list left. */}
      <ChatRoom {...chat} />
      <RoomSidebar
        current={data.room.slug}
        rooms={roomList.rooms}
        cursor={roomList.cursor}
        meId={data.me.id}
        publicRooms={roomList.publicRooms}
        morePublicRooms={roomList.morePublicRooms}
        canCreateRooms={canCreateRooms}
      />
    </div>
  );
}
