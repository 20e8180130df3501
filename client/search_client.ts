// The browser side of message search: asks `GET /api/search`, names the rooms of the hits, and
// cuts a hit's text into plain and highlighted pieces from the answer's ranges (never HTML).
import type { Message, Room } from "../db/store.ts";
import { roomLabel, roomSigil } from "../chat/room_sigil.ts";

/** One hit as the API answers it: the message and where the search matched in its body. */
export interface SearchHit {
  message: Message;
  /** `[start, end)` UTF-16 offsets into `message.body`, sorted, not overlapping. */
  highlights: [number, number][];
}

/** A page of hits; `next` is the `before` of the next page, or null on the last. */
export interface SearchPage {
  results: SearchHit[];
  next: number | null;
}

/** What a search came to: a page, or a sentence saying why not. */
export type SearchOutcome = { ok: true; page: SearchPage } | { ok: false; error: string };

/** A piece of a hit's text: shown as is, or marked as matching. */
export interface TextPiece {
  text: string;
  mark: boolean;
}

/** How a room is shown beside a hit: `#general`, `🔒 design`, `@Ada`, and what is read out. */
export interface RoomName {
  shown: string;
  label: string;
}

/**
 * Runs one search (`q` as typed in the box, `before` for the next page); aborted requests
 * reject with the abort error, everything else resolves to a page or an error sentence.
 */
export async function searchMessages(
  options: { q: string; before?: number | null; limit?: number; signal?: AbortSignal },
): Promise<SearchOutcome> {
  const params = new URLSearchParams({ q: options.q });
  if (options.before != null) params.set("before", String(options.before));
  if (options.limit) params.set("limit", String(options.limit));
  let response: Response;
  try {
    response = await fetch(`/api/search?${params}`, {
      headers: { accept: "application/json" },
      signal: options.signal,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    return { ok: false, error: "Search failed: no connection. Try again." };
  }
  const body = await response.json().catch(() => null);
  if (response.ok && Array.isArray(body?.results)) {
    return { ok: true, page: { results: body.results, next: body.next ?? null } };
  }
  const message = typeof body?.error?.message === "string" ? body.error.message : "";
  if (response.status === 429) {
    const seconds = Number(response.headers.get("retry-after")) || 1;
    return { ok: false, error: `Too many searches: try again in ${seconds} s.` };
  }
  if (response.status === 404) {
    return { ok: false, error: message || "That room does not exist, or is not yours to search." };
  }
  if (response.status === 400) return { ok: false, error: message || "Type a word to look for." };
  return { ok: false, error: "Search is not available right now. Try again in a moment." };
}

/**
 * The names of the rooms the reader knows (theirs, and public ones listed to join), by slug,
 * from `GET /api/rooms`; an empty map when it cannot be read (hits then show `#slug`).
 */
export async function roomNames(): Promise<Map<string, RoomName>> {
  const names = new Map<string, RoomName>();
  try {
    const response = await fetch("/api/rooms", { headers: { accept: "application/json" } });
    if (!response.ok) return names;
    const list = await response.json() as { rooms?: Room[]; publicRooms?: Room[] };
    for (const room of [...list.publicRooms ?? [], ...list.rooms ?? []]) {
      names.set(room.slug, nameOf(room));
    }
  } catch {
    // Offline: the hits show their rooms' addresses.
  }
  return names;
}

/** How `room` is shown and read out beside a hit. */
export function nameOf(room: Pick<Room, "kind" | "name">): RoomName {
  return { shown: `${roomSigil(room)}${room.name}`, label: roomLabel(room) };
}

/** Whether the UTF-16 unit at `i` is the second half of a surrogate pair (not a place to cut). */
function insidePair(text: string, i: number): boolean {
  if (i <= 0 || i >= text.length) return false;
  const code = text.charCodeAt(i);
  const before = text.charCodeAt(i - 1);
  return code >= 0xdc00 && code <= 0xdfff && before >= 0xd800 && before <= 0xdbff;
}

/**
 * The text of a hit as pieces to render, the matches marked: the whole body when it is short,
 * else an excerpt of about `max` characters around the first match, with `…` where it was cut.
 * Ranges outside the body or the excerpt are clipped; whitespace runs become one space.
 */
export function highlightedExcerpt(
  body: string,
  highlights: readonly (readonly [number, number])[],
  options: { max?: number; before?: number } = {},
): TextPiece[] {
  const max = options.max ?? 180;
  const lead = options.before ?? 50;
  const ranges = highlights
    .map(([s, e]) => [Math.max(0, s), Math.min(body.length, e)] as const)
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0]);
  let start = 0;
  let end = body.length;
  if (body.length > max) {
    const first = ranges[0]?.[0] ?? 0;
    start = Math.max(0, Math.min(first - lead, body.length - max));
    end = Math.min(body.length, start + max);
    // Start at a word when one begins shortly before.
    if (start > 0) {
      const space = body.slice(Math.max(0, start - 15), start).search(/\s\S*$/);
      if (space >= 0) start = Math.max(0, start - 15) + space + 1;
    }
    if (end < body.length) {
      const space = body.slice(end - 15, end).search(/\s\S*$/);
      if (space >= 0) end = end - 15 + space;
    }
    if (insidePair(body, start)) start++;
    if (insidePair(body, end)) end--;
  }
  const pieces: TextPiece[] = [];
  const push = (text: string, mark: boolean) => {
    const tidy = text.replace(/\s+/g, " ");
    if (tidy === "") return;
    const last = pieces.at(-1);
    if (last && last.mark === mark) last.text += tidy;
    else pieces.push({ text: tidy, mark });
  };
  if (start > 0) push("… ", false);
  let at = start;
  for (const [s, e] of ranges) {
    const from = Math.max(s, at);
    const to = Math.min(e, end);
    if (to <= from) continue;
    push(body.slice(at, from), false);
    push(body.slice(from, to), true);
    at = to;
  }
  push(body.slice(at, end), false);
  if (end < body.length) push(" …", false);
  if (pieces[0] && !pieces[0].mark) pieces[0].text = pieces[0].text.trimStart();
  const last = pieces.at(-1);
  if (last && !last.mark) last.text = last.text.trimEnd();
  return pieces.filter((p) => p.text !== "");
}
