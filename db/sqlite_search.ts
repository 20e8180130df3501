// Message search on SQLite: FTS5 queries built from a SearchQuery (SqliteStore delegates here).
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import { inRowOrder, MESSAGE_COLUMNS, MESSAGE_JOINS, type Row, rowsByRoom } from "./rows.ts";
import {
  type SearchTerm,
  searchTerms,
  searchTokens,
  sqliteSpaceless,
  substringPattern,
} from "./search_terms.ts";
import type { Message, SearchQuery } from "./store.ts";

/** Substrings shorter than this cannot be found through trigrams. */
const TRIGRAM = 3;
/** Candidates read at a time when words are checked on their text. */
const CANDIDATE_PAGE = 200;

/** An FTS5 string: the text in double quotes, inner quotes doubled (never query syntax). */
function ftsString(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

/** A word-index term as FTS5 query text: its tokens as one quoted phrase, `*` for a prefix. */
function wordsQuery(term: Extract<SearchTerm, { kind: "tokens" }>): string {
  return ftsString(term.tokens.join(" ")) + (term.prefix ? "*" : "");
}

/**
 * Merges each search index into one segment. Rows inserted in bulk (an import, a benchmark's
 * history) leave many segments, which FTS5 then merges a little at every later commit: at a
 * million messages, posting cost 955 µs a message until this ran, 237 µs after.
 */
export function optimizeSearchIndex(db: DatabaseSync): void {
  db.exec("INSERT INTO message_words (message_words) VALUES ('optimize')");
  db.exec("INSERT INTO message_text (message_text) VALUES ('optimize')");
}

/**
 * The ids of the messages matching `query` that its reader can see, newest first, at most
 * `limit`. One index drives the query and yields rowids newest first, so that it stops after
 * `limit` visible matches however many rows match: the trigram index when there is a
 * spaceless-script substring of three characters or more, otherwise the partial index of
 * spaceless-script messages when there is a shorter one, otherwise the word index. The other
 * conditions are checked per row (words along with a spaceless substring: here, on the text).
 */
export function searchSqliteIds(db: DatabaseSync, query: SearchQuery): number[] {
  const terms = searchTerms(query.words, query.phrases);
  if (terms.length === 0 || query.limit <= 0) return [];
  const wordTerms = terms.filter((t) => t.kind === "tokens");
  const substrings = terms.flatMap((t) => t.kind === "substring" ? [t.text] : []);
  const long = substrings.filter((s) => [...s].length >= TRIGRAM);
  const short = substrings.filter((s) => [...s].length < TRIGRAM);

  const where: string[] = [];
  const params: SQLInputValue[] = [];
  let from: string;
  let order: string;
  if (long.length > 0) {
    // Spaceless-script messages are few next to the matches of a common word, and a substring
    // of three characters narrows them further: the trigram index drives.
    from = "message_text f JOIN messages m ON m.id = f.rowid";
    where.push("f.message_text MATCH ?");
    params.push(long.map(ftsString).join(" AND "));
    order = "f.rowid";
  } else if (short.length > 0) {
    // Substrings shorter than a trigram: the spaceless-script messages, newest first.
    from = "messages m INDEXED BY messages_spaceless";
    where.push(sqliteSpaceless("m"));
    order = "m.id";
  } else {
    from = "message_words f JOIN messages m ON m.id = f.rowid";
    where.push("f.message_words MATCH ?");
    params.push(wordTerms.map(wordsQuery).join(" AND "));
    order = "f.rowid";
  }
  const wordsToCheck = substrings.length > 0 ? wordTerms : [];
  for (const text of short) {
    where.push("m.body LIKE ? ESCAPE '\\'");
    params.push(substringPattern(text));
  }
  where.push("m.deleted_at IS NULL");
  where.push(`m.room_id IN (SELECT id FROM rooms WHERE kind = 'public'
    UNION SELECT room_id FROM room_members WHERE member_id = ?)`);
  params.push(query.readerId);
  if (query.roomId !== undefined) {
    where.push("m.room_id = ?");
    params.push(query.roomId);
  }
  if (query.authorId !== undefined) {
    where.push("m.author_id = ?");
    params.push(query.authorId);
  }
  // Last, so that a page of candidates can be read after another: `order < cursor`.
  where.push(`${order} < ?`);
  const select = `SELECT ${order} AS id${wordsToCheck.length > 0 ? ", m.body" : ""}
    FROM ${from} WHERE ${where.join(" AND ")} ORDER BY ${order} DESC LIMIT ? + 0`;
  const statement = db.prepare(select);
  const before = query.before ?? Number.MAX_SAFE_INTEGER;
  if (wordsToCheck.length === 0) {
    return statement.all(...params, before, query.limit).map((row) => Number(row.id));
  }
  // Words with a spaceless substring: checked here on the text of the substring's matches,
  // newest first, a page at a time (an FTS5 lookup per message costs milliseconds).
  const ids: number[] = [];
  const wanted = wordsToCheck.map((term) => ({ ...term, tokens: term.tokens.map(foldWords) }));
  for (let cursor = before;;) {
    const rows = statement.all(...params, cursor, CANDIDATE_PAGE);
    for (const row of rows) {
      const body = foldWords(String(row.body));
      // Most texts lack a token altogether: found out without splitting them into words.
      if (!wanted.every((term) => term.tokens.every((token) => body.includes(token)))) continue;
      const words = searchTokens(body);
      if (wanted.every((term) => hasTokens(words, term))) {
        ids.push(Number(row.id));
        if (ids.length >= query.limit) return ids;
      }
    }
    if (rows.length < CANDIDATE_PAGE) return ids;
    cursor = Number(rows[rows.length - 1].id);
  }
}

/** Text as the word index compares it: lower case, Latin diacritics removed. */
function foldWords(text: string): string {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

/**
 * Whether the words of a text (folded by {@link foldWords}) hold the term's tokens (folded)
 * next to each other, in order, the last one as a word's start for a prefix term: as the word
 * index would find them.
 */
function hasTokens(words: string[], term: Extract<SearchTerm, { kind: "tokens" }>): boolean {
  const last = term.tokens.length - 1;
  for (let i = 0; i + last < words.length; i++) {
    let all = true;
    for (let j = 0; j <= last && all; j++) {
      const word = words[i + j];
      const token = term.tokens[j];
      all = j === last && term.prefix ? word.startsWith(token) : word === token;
    }
    if (all) return true;
  }
  return false;
}

/**
 * Messages matching `query` that its reader can see, newest first, at most `limit`: the ids
 * from {@link searchSqliteIds}, then their rows, made into messages by `toMessages` (the
 * store's, with reactions and attachments) room by room.
 */
export function searchSqlite(
  db: DatabaseSync,
  query: SearchQuery,
  toMessages: (rows: Row[], roomSlug: string) => Message[],
): Message[] {
  const ids = searchSqliteIds(db, query);
  if (ids.length === 0) return [];
  const rows = db.prepare(
    `SELECT ${MESSAGE_COLUMNS}, r.slug AS room_slug FROM messages m ${MESSAGE_JOINS}
     JOIN rooms r ON r.id = m.room_id
     WHERE m.id IN (SELECT value FROM json_each(?)) ORDER BY m.id DESC`,
  ).all(JSON.stringify(ids));
  const messages: Message[] = [];
  for (const [slug, group] of rowsByRoom(rows)) messages.push(...toMessages(group, slug));
  return inRowOrder(rows, messages);
}
