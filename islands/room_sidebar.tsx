// The room list: my rooms and direct conversations with unread counts, rooms to join, a new room.
import { useSignal } from "@preact/signals";
import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import type { MyRoom, Room } from "../db/store.ts";
import { roomSigil } from "../chat/room_sigil.ts";
import { NotificationSettings, notifyChanges } from "../components/notifications.tsx";

/** Props of {@link RoomSidebar}. */
export interface RoomSidebarProps {
  current: string;
  rooms: MyRoom[];
  /** Where `rooms` stand: the sidebar waits for the next change from there. */
  cursor: string;
  /** The reader's member id (a mention notification names who mentioned them). */
  meId: number;
  publicRooms: Room[];
  /** Whether more public rooms could be joined than listed (then a search box finds them). */
  morePublicRooms: boolean;
  /** Whether this reader may create rooms (guests only where the instance allows it). */
  canCreateRooms: boolean;
}

interface RoomListAnswer {
  rooms: MyRoom[];
  cursor: string;
  publicRooms: Room[];
  morePublicRooms: boolean;
}

/** How long one long poll for room changes waits, in seconds. */
const WAIT_S = 25;
/** After a failed poll (offline, server restarting), the next one waits this long, in ms. */
const RETRY_MS = 5_000;

/** The unread messages of the rooms other than `current`, for the tab title. */
function unreadElsewhere(rooms: MyRoom[], current: string): number {
  return rooms.reduce((sum, room) => room.slug === current ? sum : sum + room.unread, 0);
}

/** A count as a badge shows it (99 is the cap of the server's counts). */
function countText(count: number): string {
  return count >= 99 ? "99+" : String(count);
}

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

/**
 * The room list, with public rooms to join whose name contains `query` when given; with
 * `since`, a long poll answered when one of the rooms changes.
 */
async function fetchRooms(
  query: string,
  wait?: { since: string; signal: AbortSignal },
): Promise<RoomListAnswer | null> {
  const params = new URLSearchParams();
  if (query.trim()) params.set("q", query.trim());
  if (wait) {
    params.set("since", wait.since);
    params.set("wait", String(WAIT_S));
  }
  const search = params.size ? `?${params}` : "";
  const response = await fetch(`/api/rooms${search}`, {
    headers: { accept: "application/json" },
    signal: wait?.signal,
  });
  return response.ok ? await response.json() as RoomListAnswer : null;
}

interface FoundMember {
  id: number;
  name: string;
  username: string | null;
}

/**
 * "New direct message": a member search (never oneself; accounts first) whose results start
 * or open the conversation. Arrow keys move between the box and the results, Escape closes
 * and puts focus back on the button.
 */
function NewDirectMessage({ title }: { title: string }) {
  const open = useSignal(false);
  const query = useSignal("");
  const found = useSignal<FoundMember[]>([]);
  const status = useSignal("");
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    if (open.value) panel.current?.querySelector("input")?.focus();
  }, [open.value]);

  function close() {
    open.value = false;
    query.value = "";
    found.value = [];
    status.value = "";
    requestAnimationFrame(() => button.current?.focus());
  }

  async function search(text: string) {
    query.value = text;
    status.value = "";
    if (text.trim() === "") return found.value = [];
    try {
      const response = await fetch(`/api/members?${new URLSearchParams({ q: text.trim() })}`);
      if (!response.ok || query.value !== text) return;
      found.value = (await response.json()).members;
      if (found.value.length === 0) status.value = "Nobody found.";
    } catch {
      status.value = "Offline: try again.";
    }
  }

  async function start(member: FoundMember) {
    status.value = `Opening the conversation with ${member.name}…`;
    const { ok, json } = await post("/api/direct", { memberId: member.id }).catch(() => ({
      ok: false,
      json: null,
    }));
    const room = json as { slug?: string; error?: { message: string } } | null;
    if (ok && room?.slug) location.assign(roomUrl(room.slug));
    else status.value = room?.error?.message ?? "Could not open the conversation.";
  }

  /** Up and down through the box and the results; Escape closes. */
  function onKeyDown(event: KeyboardEvent) {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      return close();
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const stops = [...panel.current!.querySelectorAll<HTMLElement>("input, .dm-result")];
    const at = stops.indexOf(document.activeElement as HTMLElement);
    const next = at + (event.key === "ArrowDown" ? 1 : -1);
    if (next < 0 || next >= stops.length) return;
    event.preventDefault();
    stops[next].focus();
  }

  return (
    <>
      <div class="sidebar-heading">
        <h2>{title}</h2>
        <button
          type="button"
          class="new-dm"
          ref={button}
          aria-expanded={open.value}
          aria-controls="new-dm-panel"
          aria-label="New direct message"
          title="New direct message"
          onClick={() => open.value ? close() : open.value = true}
        >
          <span aria-hidden="true">+</span>
        </button>
      </div>
      {open.value && (
        <div class="new-dm-panel" id="new-dm-panel" ref={panel} onKeyDown={onKeyDown}>
          <label>
            <span class="visually-hidden">Find someone to message</span>
            <input
              type="search"
              name="dm-search"
              placeholder="Name or username"
              autoComplete="off"
              maxLength={40}
              value={query.value}
              onInput={(e) => search(e.currentTarget.value)}
            />
          </label>
          {found.value.length > 0 && (
            <ul aria-label="People">
              {found.value.map((member) => (
                <li key={member.id}>
                  <button type="button" class="dm-result" onClick={() => start(member)}>
                    <span>{member.name}</span>
                    {member.username
                      ? <span class="hint">@{member.username}</span>
                      : <span class="hint">guest</span>}
                  </button>
                </li>
              ))}
            </ul>
          )}
          <p class="hint" role="status">{status.value}</p>
        </div>
      )}
    </>
  );
}

/** The sidebar of the room page. */
export function RoomSidebar(props: RoomSidebarProps) {
  const rooms = useSignal(props.rooms);
  const publicRooms = useSignal(props.publicRooms);
  const morePublicRooms = useSignal(props.morePublicRooms);
  const search = useSignal("");
  const open = useSignal(false);
  const name = useSignal("");
  const isPrivate = useSignal(false);
  const error = useSignal("");

  // Unread counts stay live: one long poll at a time, answered when one of my rooms changes.
  useEffect(() => {
    const stop = new AbortController();
    let cursor = props.cursor;
    let poll = new AbortController();
    const baseTitle = document.title.replace(/^\(\d+\+?\) /, "");
    function show(list: RoomListAnswer) {
      notifyChanges(rooms.value, list.rooms, roomUrl, props.meId);
      rooms.value = list.rooms;
      publicRooms.value = list.publicRooms;
      if (!search.value) morePublicRooms.value = list.morePublicRooms;
      cursor = list.cursor;
      const unread = unreadElsewhere(list.rooms, props.current);
      document.title = unread > 0 ? `(${unread > 99 ? "99+" : unread}) ${baseTitle}` : baseTitle;
    }
    async function run() {
      while (!stop.signal.aborted) {
        poll = new AbortController();
        const signal = AbortSignal.any([stop.signal, poll.signal]);
        try {
          const list = await fetchRooms(
            search.value,
            cursor ? { since: cursor, signal } : undefined,
          );
          if (list) show(list);
          else await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        } catch {
          // Offline, or cut short (focus): counts catch up with the next answer.
          if (!stop.signal.aborted && !poll.signal.aborted) {
            await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
          }
        }
      }
    }
    // Coming back to the tab: read the list now (the read cursor may have moved elsewhere).
    const refresh = () => {
      cursor = "";
      poll.abort();
    };
    addEventListener("focus", refresh);
    run();
    return () => {
      stop.abort();
      removeEventListener("focus", refresh);
    };
  }, []);

  async function find(query: string) {
    search.value = query;
    try {
      const list = await fetchRooms(query);
      if (list && search.value === query) publicRooms.value = list.publicRooms;
    } catch {
      // Offline: the list stays as it was.
    }
  }

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

  const currentRoom = rooms.value.find((r) => r.slug === props.current);
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
        {currentRoom && <NotificationSettings slug={currentRoom.slug} name={currentRoom.name} />}
        {groups.map(([title, list]) => (
          <section key={title}>
            {title === "Direct messages" ? <NewDirectMessage title={title} /> : <h2>{title}</h2>}
            {list.length === 0 && <p class="hint">None yet.</p>}
            <ul>
              {list.map((room) => {
                const current = room.slug === props.current;
                const unread = current ? 0 : room.unread;
                const mentions = current ? 0 : room.mentions ?? 0;
                // Mentions and direct messages get a stronger badge than other unread ones.
                const urgent = mentions > 0 || (room.kind === "direct" && unread > 0);
                return (
                  <li key={room.id}>
                    <a
                      href={roomUrl(room.slug)}
                      aria-current={current ? "page" : undefined}
                      class={unread ? "has-unread" : undefined}
                    >
                      <span>
                        <span aria-hidden="true">{roomSigil(room)}</span>
                        {room.name}
                        {room.kind === "private" && <span class="visually-hidden">, private</span>}
                      </span>
                      {unread > 0 && (
                        <span
                          class={urgent ? "unread urgent" : "unread"}
                          aria-label={mentions > 0
                            ? `${unread} unread, ${mentions} mentioning you`
                            : `${unread} unread`}
                        >
                          {mentions > 0 && <span aria-hidden="true">@</span>}
                          {countText(mentions > 0 ? mentions : unread)}
                        </span>
                      )}
                    </a>
                  </li>
                );
              })}
            </ul>
          </section>
        ))}
        {(publicRooms.value.length > 0 || morePublicRooms.value) && (
          <section>
            <h2>Join a room</h2>
            {morePublicRooms.value && (
              <label>
                <span class="visually-hidden">Find a room to join</span>
                <input
                  type="search"
                  name="room-search"
                  placeholder="Find a room"
                  maxLength={40}
                  value={search.value}
                  onInput={(e) => find(e.currentTarget.value)}
                />
              </label>
            )}
            {search.value && publicRooms.value.length === 0 && <p class="hint">No room found.</p>}
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
        {!props.canCreateRooms && (
          <section class="new-room">
            <h2>New room</h2>
            <p class="hint">
              Guests cannot create rooms here.{" "}
              <a href={`/login?next=${encodeURIComponent(roomUrl(props.current))}`}>Register</a>
              {" "}
              to create one (you keep your name and messages).
            </p>
          </section>
        )}
        {props.canCreateRooms && (
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
        )}
      </div>
    </nav>
  );
}
