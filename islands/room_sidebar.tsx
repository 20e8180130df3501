// The room list: my rooms and direct conversations with unread counts, rooms to join, a new room.
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { MyRoom, Room } from "../db/store.ts";
import { roomSigil } from "../chat/room_sigil.ts";

/** Props of {@link RoomSidebar}. */
export interface RoomSidebarProps {
  current: string;
  rooms: MyRoom[];
  publicRooms: Room[];
}

const REFRESH_MS = 15_000;

function roomUrl(slug: string): string {
  return slug === "general" ? "/" : `/rooms/${encodeURIComponent(slug)}`;
}

async function post(path: string, body?: unknown): Promise<{ ok: boolean; json: unknown }> {
  const response = await fetch(path, {
    method: "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { ok: response.ok, json: await response.json().catch(() => null) };
}

/** The sidebar of the room page. */
export function RoomSidebar(props: RoomSidebarProps) {
  const rooms = useSignal(props.rooms);
  const publicRooms = useSignal(props.publicRooms);
  const open = useSignal(false);
  const name = useSignal("");
  const isPrivate = useSignal(false);
  const error = useSignal("");

  useEffect(() => {
    let stopped = false;
    async function refresh() {
      try {
        const response = await fetch("/api/rooms", { headers: { accept: "application/json" } });
        if (!response.ok || stopped) return;
        const list = await response.json() as { rooms: MyRoom[]; publicRooms: Room[] };
        rooms.value = list.rooms;
        publicRooms.value = list.publicRooms;
      } catch {
        // Offline: the chat shows the connection status; counts catch up later.
      }
    }
    const timer = setInterval(refresh, REFRESH_MS);
    addEventListener("focus", refresh);
    return () => {
      stopped = true;
      clearInterval(timer);
      removeEventListener("focus", refresh);
    };
  }, []);

  async function create(event: Event) {
    event.preventDefault();
    error.value = "";
    const { ok, json } = await post("/api/rooms", {
      name: name.value,
      private: isPrivate.value,
    });
    const result = json as { slug?: string; error?: { message: string } } | null;
    if (ok && result?.slug) location.assign(roomUrl(result.slug));
    else error.value = result?.error?.message ?? "Could not create the room.";
  }

  async function join(slug: string) {
    const { ok } = await post(`/api/rooms/${encodeURIComponent(slug)}/join`);
    if (ok) location.assign(roomUrl(slug));
  }

  const groups: [string, MyRoom[]][] = [
    ["Rooms", rooms.value.filter((r) => r.kind !== "direct")],
    ["Direct messages", rooms.value.filter((r) => r.kind === "direct")],
  ];
  return (
    <nav class={`sidebar${open.value ? " open" : ""}`} aria-label="Rooms">
      <button
        type="button"
        class="sidebar-toggle"
        aria-expanded={open.value}
        onClick={() => open.value = !open.value}
      >
        Rooms
      </button>
      <div class="sidebar-body">
        {groups.map(([title, list]) => (
          <section key={title}>
            <h2>{title}</h2>
            {list.length === 0 && <p class="hint">None yet.</p>}
            <ul>
              {list.map((room) => {
                const current = room.slug === props.current;
                const unread = current ? 0 : room.unread;
                return (
                  <li key={room.id}>
                    <a
                      href={roomUrl(room.slug)}
                      aria-current={current ? "page" : undefined}
                      class={unread ? "has-unread" : undefined}
                    >
                      <span>
                        {roomSigil(room)}
                        {room.name}
                      </span>
                      {unread > 0 && (
                        <span class="unread" aria-label={`${unread} unread`}>
                          {unread >= 99 ? "99+" : unread}
                        </span>
                      )}
                    </a>
                  </li>
                );
              })}
            </ul>
          </section>
        ))}
        {publicRooms.value.length > 0 && (
          <section>
            <h2>Join a room</h2>
            <ul>
              {publicRooms.value.map((room) => (
                <li key={room.id} class="joinable">
                  <a href={roomUrl(room.slug)}>#{room.name}</a>
                  <button type="button" class="link" onClick={() => join(room.slug)}>
                    Join
                  </button>
                </li>
              ))}
            </ul>
          </section>
        )}
        <form class="new-room" onSubmit={create}>
          <h2>New room</h2>
          <label>
            <span class="visually-hidden">Room name</span>
            <input
              name="room-name"
              placeholder="Room name"
              value={name.value}
              onInput={(e) => name.value = e.currentTarget.value}
              required
            />
          </label>
          <label class="check">
            <input
              type="checkbox"
              checked={isPrivate.value}
              onChange={(e) => isPrivate.value = e.currentTarget.checked}
            />{" "}
            Private
          </label>
          <button type="submit">Create</button>
          <p class="error" role="alert">{error.value}</p>
        </form>
      </div>
    </nav>
  );
}
