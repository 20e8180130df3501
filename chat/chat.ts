// The chat domain: rooms, messages and their change feed, members' names, with every rule enforced.
import type { Member, Room, Store } from "../db/store.ts";
import { ChatError } from "./chat_error.ts";
import { createFiles, type FileLimits } from "./files.ts";
import { type Limiters, localLimiters } from "./limiters.ts";
import type { ChatLimits } from "./limits.ts";
import { normalizeName } from "./member_names.ts";
import { createMessages } from "./messages.ts";
import { PollGate } from "./poll_gate.ts";
import { createRooms, type RoomPolicy } from "./rooms.ts";
import { createSearch } from "./search.ts";
import { createTyping } from "./typing.ts";

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
  /** Upload limits (default: 25 MB a file, 500 MB a day, 30 a minute). */
  files?: FileLimits;
  /** Where rate limits are counted (default: this worker's memory). */
  limiters?: Limiters;
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
  const limiters = options.limiters ?? localLimiters;

  const polls = new PollGate({
    maxPerAddress: options.maxPollsPerAddress ?? Infinity,
    counts: limiters.held("polls"),
  });
  const rooms = createRooms({
    store,
    policy: options.rooms,
    polls,
    shutdown: options.shutdown,
    limiters,
  });

  /** The room `slug` if `viewer` may see it (private rooms only for members), else 404. */
  function room(slug: string, viewer?: Member): Promise<Room> {
    return rooms.open(slug, viewer);
  }

  const messages = createMessages({ store, limits, polls, shutdown: options.shutdown, limiters });
  const files = createFiles({ store, limits: options.files, limiters });
  const search = createSearch({ store, rooms, limiters });
  const typing = createTyping({
    store,
    polls,
    maxWaitSeconds: limits.maxWaitSeconds,
    shutdown: options.shutdown,
  });

  /** Sends a message (see `createMessages`); the author has stopped typing. */
  async function send(...args: Parameters<typeof messages.send>) {
    const result = await messages.send(...args);
    await typing.stop(args[0], args[1]);
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

  return {
    store,
    limits,
    rooms,
    polls,
    room,
    rename,
    read: messages.read,
    send,
    typing,
    edit: messages.edit,
    remove: messages.remove,
    react: messages.react,
    mayDelete: messages.mayDelete,
    files,
    search: search.search,
  };
}
