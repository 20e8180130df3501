// Loads what the room page shows: the room, the reader (a new guest on a first visit) and history.
import type { Account, Member, Message, Room, Store } from "../db/store.ts";
import type { RouteContext } from "../runtime/mod.ts";
import type { AppState } from "./app_state.ts";
import { ChatError } from "../chat/chat_error.ts";
import { startGuestSession } from "../chat/sessions.ts";
import { clientAddress } from "./client_address.ts";
import type { RoomList } from "../chat/rooms.ts";
import { roomSigil } from "../chat/room_sigil.ts";
import { requestTime } from "./reader_time.ts";
import type { TimeSettings } from "../components/timeline.ts";

/** The room page's data, handed to the chat island as props. */
export interface RoomPageData {
  room: Room;
  me: Member;
  /** The reader's account, or null for a guest. */
  account: Account | null;
  /** The reader's rooms (with unread counts) and public rooms to join. */
  roomList: RoomList;
  /** Whether the reader may create rooms (guests only where the instance allows it). */
  canCreateRooms: boolean;
  messages: Message[];
  hasOlder: boolean;
  /** Whether newer messages exist than `messages` (when opened `at` an older message). */
  hasNewer: boolean;
  /**
   * The message the page was opened at (`?at={id}`, e.g. a search hit): `messages` are the
   * history around it, to scroll to and highlight. Absent for the latest page.
   */
  at?: number;
  /**
   * The room's change number when `messages` were read: the island polls `since` it, so
   * nothing that changes between the render and its first poll is missed.
   */
  cursor: number;
  pollWait: number;
  pageSize: number;
  maxChars: number;
  maxNameChars: number;
  /** Largest file one may upload, in bytes (the composer refuses bigger ones at once). */
  maxUploadBytes: number;
  /**
   * The reader's locale and time zone, and the time of the render: the island formats times
   * and day separators with exactly these, so hydration changes no text.
   */
  time: TimeSettings & { now: number };
}

/** What the chat island gets: the page data without the room list (the sidebar's). */
export type ChatRoomProps = Omit<RoomPageData, "roomList" | "canCreateRooms">;

/**
 * The message `?at={id}` asks to open the room at, when it is a message of this room;
 * anything else (no such message, one of another room, not a number) opens the latest page.
 */
async function messageToOpen(url: URL, room: Room, store: Store): Promise<number | undefined> {
  const at = url.searchParams.get("at");
  if (!at || !/^[1-9]\d{0,15}$/.test(at)) return undefined;
  const message = await store.getMessage(room, Number(at));
  return message ? message.id : undefined;
}

/**
 * Renders the room `slug` (around the message `?at={id}` when given), or the 404 page when
 * there is none.
 */
export async function renderRoomPage(
  ctx: RouteContext<RoomPageData, AppState & { title?: string }>,
  slug: string,
): Promise<Response> {
  const { chat, config } = ctx.state;
  // Members only: everyone else goes to the login page before any room is looked up, so that
  // public, private and missing rooms all answer the same.
  if (!config.accounts.guests && !ctx.state.session?.account) {
    const next = ctx.url.pathname + ctx.url.search; // `?at=` too: back to that message
    return ctx.hono.redirect(`/login?next=${encodeURIComponent(next)}`, 303);
  }
  let room: Room;
  try {
    room = await chat.room(slug, ctx.state.member);
  } catch (error) {
    if (error instanceof ChatError && error.status === 404) {
      return await ctx.hono.notFound();
    }
    throw error;
  }
  if (!ctx.state.member) {
    ctx.state.accounts.admitGuest(clientAddress(ctx.hono, config.proxyHops));
    const session = await startGuestSession(ctx.hono, {
      store: chat.store,
      secret: ctx.state.secret,
    });
    ctx.state.session = session;
    ctx.state.member = session.member;
  }
  // Everyone is in the default room; other public rooms are joined by choice or by speaking.
  if (room.slug === "general") await chat.store.addRoomMember(room.id, ctx.state.member.id);
  const roomList = await chat.rooms.list(ctx.state.member);
  // A direct room is shown under the other person's name (as in the room list).
  if (room.kind === "direct") {
    room = { ...room, name: roomList.rooms.find((r) => r.id === room.id)?.name ?? room.name };
  }
  const pageSize = config.limits.pageSize;
  const at = await messageToOpen(ctx.url, room, chat.store);
  const page = await chat.read(room, { limit: pageSize, around: at });
  ctx.state.title = `${roomSigil(room)}${room.name}`;
  return ctx.render({
    room,
    me: ctx.state.member,
    account: ctx.state.session?.account ?? null,
    roomList,
    canCreateRooms: config.guestRooms || Boolean(ctx.state.session?.account),
    messages: page.messages,
    hasOlder: page.hasOlder ?? false,
    hasNewer: page.hasNewer ?? false,
    ...(at === undefined ? {} : { at }),
    cursor: page.cursor,
    pollWait: config.limits.pollWaitSeconds,
    pageSize,
    maxChars: config.limits.maxMessageChars,
    maxNameChars: config.limits.maxNameChars,
    maxUploadBytes: config.files.maxUploadBytes,
    time: {
      ...requestTime(ctx.hono),
      now: Date.now(),
    },
  }, { headers: { "cache-control": "no-store" } });
}
