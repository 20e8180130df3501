// Mentions: `@username` and `@room` in a message's text, resolved to the member ids it mentions.
import type { Room, Store } from "../db/store.ts";
import { ChatError } from "./chat_error.ts";
import { type Limiters, localLimiters } from "./limiters.ts";
import { withoutCode } from "./code_spans.ts";

/** `@room` messages one member may send (or edit into a message) per hour. */
export const ROOM_MENTIONS_PER_HOUR = 3;
/** Different usernames one message may mention (the rest is plain text). */
const MAX_NAMED = 50;

// `@` not preceded by a word character, `@` or `.` (not an e-mail address), then a username
// (3 to 32 letters, digits, _ or -) that does not run on.
const MENTION = /(?<![\p{L}\p{N}_@.\/-])@([A-Za-z0-9_-]{3,32})(?![A-Za-z0-9_-])/gu;

/** What a text mentions: usernames (lower case, distinct) and whether `@room`. */
export function parseMentions(body: string): { usernames: string[]; room: boolean } {
  const usernames = new Set<string>();
  let room = false;
  // `@name` inside code is an example, not a mention.
  for (const match of withoutCode(body).matchAll(MENTION)) {
    const key = match[1].toLowerCase();
    if (key === "room") room = true;
    else if (usernames.size < MAX_NAMED) usernames.add(key);
  }
  return { usernames: [...usernames], room };
}

/** Who writes: the member and whether they have an account (guests may not use `@room`). */
export interface Author {
  id: number;
  isAccount: boolean;
}

/** Resolves mentions over a store; one instance per app (it holds the `@room` budget). */
export function createMentions(store: Store, limiters: Limiters = localLimiters) {
  const roomMentions = limiters.rate("room-mentions", {
    limit: ROOM_MENTIONS_PER_HOUR,
    windowMs: 3_600_000,
  });

  /**
   * The member ids `body` mentions in `room`, without the author: accounts named by
   * `@username` (in a public room any account, otherwise only the room's members), and with
   * `@room` every member of the room. `@room` is for accounts only (403) and limited per hour
   * (429) unless `hadRoom` (an edit of a message that already had it). Returns the ids and a
   * function that gives the `@room` budget back (for a send that turned out to be a retry).
   */
  async function resolve(
    author: Author,
    room: Room,
    body: string,
    hadRoom = false,
  ): Promise<{ ids: number[]; refund: () => void }> {
    const parsed = parseMentions(body);
    const ids = new Set<number>();
    let refund = () => {};
    let roomMembers: number[] | null = null;
    const members = async () =>
      roomMembers ??= (await store.listRoomMembers(room.id)).map((m) => m.id);
    if (parsed.room) {
      if (!author.isAccount) {
        throw new ChatError(
          403,
          "room_mention_not_allowed",
          "Only members with an account can notify the whole room with @room.",
        );
      }
      if (!hadRoom) {
        const now = Date.now();
        const wait = roomMentions.take(String(author.id), now);
        if (wait > 0) {
          const seconds = Math.ceil(wait / 1000);
          throw new ChatError(
            429,
            "rate_limited",
            `@room notifies everyone: at most ${ROOM_MENTIONS_PER_HOUR} an hour; try again in ${
              Math.ceil(seconds / 60)
            } min.`,
            { retryAfter: seconds },
          );
        }
        refund = () => roomMentions.forgive(String(author.id), now);
      }
      for (const id of await members()) ids.add(id);
    }
    const named = await store.findAccounts(parsed.usernames);
    if (named.length > 0) {
      const allowed = room.kind === "public" ? null : new Set(await members());
      for (const account of named) {
        if (!allowed || allowed.has(account.id)) ids.add(account.id);
      }
    }
    ids.delete(author.id);
    return { ids: [...ids].sort((a, b) => a - b), refund };
  }

  return { resolve };
}
