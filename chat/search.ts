// Search: the box's text as words, phrases and from:/in: filters, the search, and its highlights.
import { hasSpacelessChar } from "../db/search_terms.ts";
import type { Member, Message, Store } from "../db/store.ts";
import { ChatError, tooFast } from "./chat_error.ts";
import { type Limiters, localLimiters } from "./limiters.ts";
import type { Rooms } from "./rooms.ts";

/** What the search box's text asks for. */
export interface ParsedSearch {
  /**
   * Words, each found as a word or the start of one (any case, accents ignored); words in
   * scripts written without spaces (Chinese, Japanese, Thai…) anywhere inside the text.
   * Only letters, digits and marks: `node.js` is the two words `node` and `js`.
   */
  words: string[];
  /** Phrases: their words in this order, next to each other (single spaces between them). */
  phrases: string[];
  /** The username typed as `from:username` (without `@`; the last one counts), or null. */
  from: string | null;
  /** The room slug typed as `in:room-slug` (without `#`; the last one counts), or null. */
  in: string | null;
}

/** A message found, with the ranges of its text that match: `[start, end)` in UTF-16 units. */
export interface SearchResult {
  message: Message;
  highlights: [number, number][];
}

/** A page of search results, newest first; `next` is the `before` of the next page, or null. */
export interface SearchPage {
  results: SearchResult[];
  next: number | null;
}

/** What a reader asks {@link Search.search} for (the API's query). */
export interface SearchRequest {
  /** The search box's text. */
  q: string;
  /** Only in this room (a slug; the same as typing `in:`). */
  room?: string;
  /** Only by this username (the same as typing `from:`). */
  from?: string;
  /** Only messages older than this id (the `next` of the previous page). */
  before?: number;
  limit?: number;
}

/** Results in a page when no limit is asked for. */
export const SEARCH_PAGE_SIZE = 20;
/** Most results one request may ask for. */
export const MAX_SEARCH_PAGE_SIZE = 50;
/** Searches one member may make per minute (typing in the box sends one per pause). */
export const SEARCHES_PER_MINUTE = 60;
/** Words and phrases one search may hold. */
const MAX_TERMS = 16;

const WORD_CHAR = String.raw`[\p{L}\p{N}\p{M}]`;
const NOT_WORD_CHAR = String.raw`[^\p{L}\p{N}\p{M}]`;
/**
 * Scripts written without spaces between words: their words are found anywhere inside the
 * text (Script_Extensions, so that marks like the Katakana `ー` and combining voicing count).
 */
const SPACELESS_CHAR = String.raw`[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Thai}` +
  String.raw`\p{scx=Lao}\p{scx=Khmer}\p{scx=Myanmar}]`;
/** Runs of letters, digits and marks, split where spaceless scripts start and end. */
const WORD_PIECES = new RegExp(
  `${SPACELESS_CHAR}+|(?:(?!${SPACELESS_CHAR})${WORD_CHAR})+`,
  "gu",
);
/** Opening quotes of a phrase (typographic ones too, as phone keyboards type them). */
const OPEN_QUOTES = new Set(['"', "\u201c", "\u201d", "\u201e"]);
const CLOSE_QUOTES = new Set(['"', "\u201c", "\u201d"]);

/**
 * Whether a word is in a script written without spaces (it then matches anywhere): decided as
 * the stores decide it (db/search_terms.ts), so that highlights find what the search found.
 */
export function isSpacelessWord(word: string): boolean {
  return hasSpacelessChar(word);
}

/** The words of a piece of text: letters, digits and marks, split at spaceless scripts. */
function wordsIn(text: string): string[] {
  return text.normalize("NFC").match(WORD_PIECES) ?? [];
}

/**
 * Reads the search box's text: `"quoted phrases"` (an unclosed quote runs to the end),
 * `from:username` and `in:room-slug` filters, and plain words. A filter with nothing after
 * the colon is ignored (the reader is still typing it).
 */
export function parseSearch(text: string): ParsedSearch {
  const parsed: ParsedSearch = { words: [], phrases: [], from: null, in: null };
  const seenWords = new Set<string>();
  const seenPhrases = new Set<string>();
  const addWord = (word: string) => {
    const key = foldText(word);
    if (!seenWords.has(key)) {
      seenWords.add(key);
      parsed.words.push(word);
    }
  };
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text[i])) {
      i++;
      continue;
    }
    if (OPEN_QUOTES.has(text[i])) {
      let end = i + 1;
      while (end < text.length && !CLOSE_QUOTES.has(text[end])) end++;
      const words = wordsIn(text.slice(i + 1, end));
      const phrase = words.join(" ");
      const key = foldText(phrase);
      if (words.length > 0 && !seenPhrases.has(key)) {
        seenPhrases.add(key);
        parsed.phrases.push(phrase);
      }
      i = end + 1;
      continue;
    }
    let end = i;
    while (end < text.length && !/\s/.test(text[end]) && !OPEN_QUOTES.has(text[end])) end++;
    const token = text.slice(i, end);
    i = end;
    const filter = token.match(/^(from|in):(.*)$/i);
    if (filter) {
      const value = filter[2].replace(filter[1].toLowerCase() === "from" ? /^@/ : /^#/, "");
      if (value === "") continue;
      if (filter[1].toLowerCase() === "from") parsed.from = value;
      else parsed.in = value;
      continue;
    }
    for (const word of wordsIn(token)) addWord(word);
  }
  return parsed;
}

/** Single letters folded further than removing accents (as the search indexes fold them). */
const LETTER_FOLDS: Record<string, string> = {
  "ø": "o",
  "ł": "l",
  "đ": "d",
  "ħ": "h",
  "ı": "i",
  "ŧ": "t",
};
const ACCENTED_SCRIPTS = /^[\p{sc=Latin}\p{sc=Greek}\p{sc=Cyrillic}]/u;
/** A character with the marks that follow it (or marks with nothing before them). */
const UNITS = /\P{M}\p{M}*|\p{M}+/gu;

/**
 * One character (with its marks) as compared: lower case; for Latin, Greek and Cyrillic
 * letters without accents (`É` → `e`). Other scripts keep their marks (they are part of the
 * letter: `ガ` is not `カ`).
 */
function foldUnit(unit: string): string {
  if (!ACCENTED_SCRIPTS.test(unit)) return unit.normalize("NFC").toLowerCase();
  const bare = unit.normalize("NFD").replace(/\p{Mn}/gu, "").toLowerCase();
  return LETTER_FOLDS[bare] ?? bare;
}

/** Text as compared (see {@link foldUnit}). */
function foldText(text: string): string {
  let folded = "";
  for (const [unit] of text.matchAll(UNITS)) folded += foldUnit(unit);
  return folded;
}

/** Folded text with, for each of its code units, the range of the original it comes from. */
function foldWithOffsets(text: string) {
  let folded = "";
  const starts: number[] = [];
  const ends: number[] = [];
  for (const match of text.matchAll(UNITS)) {
    const unit = foldUnit(match[0]);
    folded += unit;
    for (let k = 0; k < unit.length; k++) {
      starts.push(match.index);
      ends.push(match.index + match[0].length);
    }
  }
  return { folded, starts, ends };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\\/]/g, "\\$&");
}

/** Where a word starts: after something that is not a letter, or after a spaceless script. */
const WORD_START = `(?:(?<!${WORD_CHAR})|(?<=${SPACELESS_CHAR}))`;
/** Where a word ends: before something that is not a letter, or before a spaceless script. */
const WORD_END = `(?:(?!${WORD_CHAR})|(?=${SPACELESS_CHAR}))`;

/** The pattern of one word of a phrase (a whole word), or of a search word (a word's start). */
function wordPattern(word: string, whole: boolean): string {
  const text = escapeRegExp(foldText(word));
  if (isSpacelessWord(word)) return text;
  return `${WORD_START}${text}${whole ? WORD_END : ""}`;
}

/** The patterns that find the words and phrases of a search in folded text. */
function searchPatterns(search: Pick<ParsedSearch, "words" | "phrases">): RegExp[] {
  const patterns = search.words.map((word) => wordPattern(word, false));
  for (const phrase of search.phrases) {
    const words = wordsIn(phrase);
    if (words.length === 0) continue;
    // Between the words: anything that is not a letter (spaces, line breaks, punctuation),
    // as the index sees it; spaceless words may also follow each other directly.
    patterns.push(words.map((word) => wordPattern(word, true)).join(`${NOT_WORD_CHAR}*`));
  }
  return patterns.map((pattern) => new RegExp(pattern, "gu"));
}

/**
 * Where a message's text matches a search: sorted, merged `[start, end)` ranges of UTF-16
 * offsets into `body`. A word matches at the start of a word, as long as the word typed
 * (`deplo` in "deploying"), ignoring case and accents (`cafe` in "Café"); a word in a
 * spaceless script matches anywhere; a phrase matches whole, with any spaces or punctuation
 * between its words.
 */
export function findHighlights(
  body: string,
  search: Pick<ParsedSearch, "words" | "phrases">,
): [number, number][] {
  const { folded, starts, ends } = foldWithOffsets(body);
  const found: [number, number][] = [];
  for (const pattern of searchPatterns(search)) {
    pattern.lastIndex = 0;
    for (;;) {
      const match = pattern.exec(folded);
      if (!match) break;
      if (match[0].length > 0) {
        found.push([starts[match.index], ends[match.index + match[0].length - 1]]);
      }
      // On from the next character (not the match's end): overlapping matches count too.
      pattern.lastIndex = match.index + (folded.codePointAt(match.index)! > 0xffff ? 2 : 1);
    }
  }
  return mergeRanges(found);
}

/** Ranges sorted by start, overlapping and touching ones merged. */
export function mergeRanges(ranges: [number, number][]): [number, number][] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: [number, number][] = [];
  for (const [start, end] of sorted) {
    const last = merged.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

/** The search operations; one instance per app. */
export type Search = ReturnType<typeof createSearch>;

/** Options for {@link createSearch}. */
export interface SearchOptions {
  store: Store;
  rooms: Rooms;
  /** Searches one member may make per minute (default {@link SEARCHES_PER_MINUTE}). */
  perMinute?: number;
  /** Where rate limits are counted (default: this worker's memory). */
  limiters?: Limiters;
}

/** Creates the search operations over a store. */
export function createSearch(options: SearchOptions) {
  const { store, rooms } = options;
  const limiter = (options.limiters ?? localLimiters).rate("searches", {
    limit: options.perMinute ?? SEARCHES_PER_MINUTE,
    windowMs: 60_000,
  });

  /** The one room id the filters name (404 for a room the reader may not see), or "none". */
  async function roomFilter(member: Member, slugs: string[]): Promise<number | "none" | null> {
    const ids = new Set<number>();
    for (const slug of slugs) ids.add((await rooms.open(slug, member)).id);
    if (ids.size > 1) return "none";
    return ids.size === 1 ? [...ids][0] : null;
  }

  /** The one author the filters name (usernames, any case), or "none" when there is none. */
  async function authorFilter(usernames: string[]): Promise<number | "none" | null> {
    if (usernames.length === 0) return null;
    const keys = [...new Set(usernames.map((name) => name.toLowerCase()))];
    if (keys.length > 1 || keys[0].length > 64) return "none";
    const [account] = await store.findAccounts(keys);
    return account?.id ?? "none";
  }

  /**
   * Searches the messages `member` may read (public rooms and their own rooms), newest first:
   * 400 `invalid_query` when there is no word or phrase to look for, 404 for a room (`room`
   * or `in:`) they may not see, no results for an unknown `from`. Filters given twice (the
   * parameter and the box) must agree. At most {@link SEARCHES_PER_MINUTE} a minute (429).
   */
  async function search(member: Member, request: SearchRequest): Promise<SearchPage> {
    const parsed = parseSearch(request.q);
    if (parsed.words.length === 0 && parsed.phrases.length === 0) {
      throw new ChatError(
        400,
        "invalid_query",
        "Type a word or a phrase to search for (from: and in: only narrow a search).",
      );
    }
    if (parsed.words.length + parsed.phrases.length > MAX_TERMS) {
      throw new ChatError(
        400,
        "invalid_query",
        `A search can hold at most ${MAX_TERMS} words and phrases.`,
      );
    }
    const wait = limiter.take(String(member.id));
    if (wait > 0) throw tooFast(wait, "searching");
    const limit = Math.max(1, Math.min(request.limit ?? SEARCH_PAGE_SIZE, MAX_SEARCH_PAGE_SIZE));
    const roomId = await roomFilter(
      member,
      [request.room, parsed.in].filter((slug): slug is string => Boolean(slug)),
    );
    const authorId = await authorFilter(
      [request.from?.replace(/^@/, ""), parsed.from].filter((name): name is string =>
        Boolean(name)
      ),
    );
    if (roomId === "none" || authorId === "none") return { results: [], next: null };
    const found = await store.searchMessages({
      readerId: member.id,
      words: parsed.words,
      phrases: parsed.phrases,
      roomId: roomId ?? undefined,
      authorId: authorId ?? undefined,
      before: request.before,
      limit: limit + 1,
    });
    const page = found.slice(0, limit);
    const next = found.length > limit ? page.at(-1)!.id : null;
    return {
      results: page.filter((message) => !message.deleted).map((message) => ({
        message,
        highlights: findHighlights(message.body, parsed),
      })),
      next,
    };
  }

  return { search };
}
