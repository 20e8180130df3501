// Loads what the room page shows: the room, the reader (a new guest on a first visit) and history.
import type { Account, Member, Message, Room } from "../db/store.ts";
import type { RouteContext } from "../runtime/mod.ts";
import type { AppState } from "./app_state.ts";
import { ChatError } from "./chat_error.ts";
import { startGuestSession } from "./sessions.ts";

/** The room page's data, handed to the chat island as props. */
export interface RoomPageData {
  room: Room;
  me: Member;
  /** The reader's account, or null for a guest. */
  account: Account | null;
  messages: Message[];
  hasOlder: boolean;
  pollWait: number;
  pageSize: number;
  maxChars: number;
  maxNameChars: number;
}

/** Renders the room `slug`, or the 404 page when there is none. */
export async function renderRoomPage(
  ctx: RouteContext<RoomPageData, AppState & { title?: string }>,
  slug: string,
): Promise<Response> {
  const { chat, config } = ctx.state;
  let room: Room;
  try {
    room = await chat.room(slug, ctx.state.member);
  } catch (error) {
    if (error instanceof ChatError && error.status === 404) {
      return await ctx.hono.notFound();
    }
    throw error;
  }
  if (!config.accounts.guests && !ctx.state.session?.account) {
    return ctx.hono.redirect(`/login?next=${encodeURIComponent(ctx.url.pathname)}`, 303);
  }
  if (!ctx.state.member) {
    const session = await startGuestSession(ctx.hono, {
      store: chat.store,
      secret: ctx.state.secret,
    });
    ctx.state.session = session;
    ctx.state.member = session.member;
  }
  const pageSize = config.limits.pageSize;
  const latest = await chat.read(room, { limit: pageSize + 1 });
  ctx.state.title = `#${room.name}`;
  return ctx.render({
    room,
    me: ctx.state.member,
    account: ctx.state.session?.account ?? null,
    messages: latest.slice(-pageSize),
    hasOlder: latest.length > pageSize,
    pollWait: config.limits.pollWaitSeconds,
    pageSize,
    maxChars: config.limits.maxMessageChars,
    maxNameChars: config.limits.maxNameChars,
  }, { headers: { "cache-control": "no-store" } });
}
