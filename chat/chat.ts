// The chat domain: rooms, history, long polls, sending and renaming, with every rule enforced.
import type { HistoryQuery, Member, Message, MessageWaiter, Room, Store } from "../db/store.ts";
import { ChatError } from "./chat_error.ts";
import type { ChatLimits } from "./limits.ts";
import { normalizeName } from "./member_names.ts";
import { checkBody } from "./message_text.ts";
import { RateLimiter } from "./rate_limiter.ts";
import { PollGate } from "./poll_gate.ts";
import { createRooms, type RoomPolicy } from "./rooms.ts";

/** Options for {@link createChat}. */
export interface ChatOptions {
  store: Store;
  limits: ChatLimits;
  /** Aborted when the server shuts down: long polls then answer at once. */
  shutdown?: AbortSignal;
  /** Who may create rooms, and how many an hour (default: members, 10 an hour). */
  rooms?: RoomPolicy;
  /** Long polls one client address may hold open at once (default: unlimited). */
  maxPollsPerAddress?: number;
}

/** Which messages a reader asks for. */
export interface ReadOptions {
  after?: number;
  before?: number;
  limit?: number;
  /** With `after`: seconds to wait for a new message when there is none yet. */
  wait?: number;
  /** Aborted when the reader goes away. */
  signal?: AbortSignal;
  /** The reader's address, for the cap on waiting long polls per address. */
  address?: string;
}

/**
 * How names are compared for look-alikes: Unicode NFKC (full-width and other compatibility
 * forms fold to plain letters), then lower case.
 */
export function nameKey(name: string): string {
  return name.normalize("NFKC").toLowerCase();
}

/** The chat operations; one instance per app. */
export type Chat = ReturnType<typeof createChat>;

/** Creates the chat domain over a store. */
export function createChat(options: ChatOptions) {
  const { store, limits } = options;
  const sendLimiter = new RateLimiter({
    limit: limits.burstMessages,
    windowMs: limits.burstWindowMs,
  });

  const rooms = createRooms({ store, policy: options.rooms });
  const polls = new PollGate({ maxPerAddress: options.maxPollsPerAddress ?? Infinity });

  /** The room `slug` if `viewer` may see it (private rooms only for members), else 404. */
  function room(slug: string, viewer?: Member): Promise<Room> {
    return rooms.open(slug, viewer);
  }

  const shutdown = options.shutdown;
  // Readers woken by the same message ask the same question: answer it once per moment.
  // Messages do not change once stored, so a shared answer is never stale, only early.
  const reads = new Map<string, Promise<Message[]>>();

  function sharedRead(room: Room, query: { after: number; limit: number }) {
    const key = `${room.id}:${query.after}:${query.limit}`;
    let read = reads.get(key);
    if (!read) {
      read = store.listMessages(room, query);
      reads.set(key, read);
      setTimeout(() => reads.delete(key), 0);
    }
    return read;
  }

  async function read(room: Room, options: ReadOptions): Promise<Message[]> {
    const limit = Math.min(options.limit ?? limits.pageSize, limits.maxPageSize);
    if (options.after !== undefined && options.before !== undefined) {
      throw new ChatError(400, "invalid_request", "Use either after or before, not both.");
    }
    if (options.wait !== undefined && options.after === undefined) {
      throw new ChatError(400, "invalid_request", "wait only goes with after.");
    }
    if (options.before !== undefined) {
      return await store.listMessages(room, { before: options.before, limit });
    }
    if (options.after === undefined) {
      return await store.listMessages(room, { latest: true, limit });
    }
    const query: HistoryQuery = { after: options.after, limit };
    const wait = Math.min(options.wait ?? 0, limits.maxWaitSeconds);
    if (wait === 0) return await store.listMessages(room, query);
    const leave = polls.enter(options.address ?? "unknown");
    // Start waiting before reading, so that a message stored in between still wakes us.
    const signals = [options.signal, shutdown].filter((s) => s !== undefined);
    let waiter: MessageWaiter | undefined;
    try {
      waiter = store.waitForMessage(room, options.after, {
        timeoutMs: wait * 1000,
        signal: signals.length ? AbortSignal.any(signals) : undefined,
      });
      const messages = await store.listMessages(room, query);
      if (messages.length > 0) return messages;
      if (!await waiter.arrived) return [];
      return await sharedRead(room, query);
    } finally {
      waiter?.cancel();
      leave();
    }
  }

  async function send(
    member: Member,
    room: Room,
    input: { body: string; clientId?: string },
  ): Promise<{ message: Message; created: boolean }> {
    const body = checkBody(input.body, limits.maxMessageChars);
    const wait = sendLimiter.take(String(member.id));
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      throw new ChatError(
        429,
        "rate_limited",
        `You are sending messages too fast; try again in ${seconds} s.`,
        { retryAfter: seconds },
      );
    }
    const clientId = input.clientId ?? crypto.randomUUID();
    // Speaking in a public room joins it (it shows in the sidebar with unread counts).
    if (room.kind === "public") await store.addRoomMember(room.id, member.id);
    const result = await store.addMessage({ room, authorId: member.id, body, clientId });
    if (result.message.room !== room.slug) {
      throw new ChatError(
        409,
        "client_id_reused",
        "This clientId was already used for a message in another room.",
      );
    }
    return result;
  }

  /**
   * Renames a member. Nobody may take the name or username of another registered member
   * (compared by {@link nameKey}): a guest could otherwise pass for them.
   */
  async function rename(member: Member, name: string): Promise<Member> {
    const normalized = normalizeName(name, limits.maxNameChars);
    const key = nameKey(normalized);
    // A scan of the accounts (not of guests): few, and renames are rare.
    if ((await store.accountNames(member.id)).some((taken) => nameKey(taken) === key)) {
      throw new ChatError(
        409,
        "name_taken",
        "That is the name of a registered member; choose another one.",
      );
    }
    const renamed = await store.renameMember(member.id, normalized);
    if (!renamed) throw new ChatError(401, "no_member", "Your session has no member.");
    return renamed;
  }

  return { store, limits, rooms, polls, room, read, send, rename };
}
