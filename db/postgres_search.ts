// Message search on PostgreSQL: tsquery and trigram conditions built from a SearchQuery.
import type postgres from "postgres";
import { inRowOrder, MESSAGE_COLUMNS, MESSAGE_JOINS, type Row, rowsByRoom } from "./rows.ts";
import {
  postgresSpaceless,
  type SearchTerm,
  searchTerms,
  searchTokens,
  substringPattern,
} from "./search_terms.ts";
import type { Message, SearchQuery } from "./store.ts";

type Sql = ReturnType<typeof postgres>;

/**
 * The tsquery of the word terms: each term's tokens adjacent (`<->`), the last one a prefix
 * (`:*`) for a word, terms joined by `&`. `normalized` holds each term's tokens as
 * `parley_search_text` leaves them (lower case, accents removed); only letter, digit and mark
 * tokens, each in quotes, reach the tsquery: never the user's text as syntax.
 */
function tsquery(terms: Extract<SearchTerm, { kind: "tokens" }>[], normalized: string[]): string {
  const parts: string[] = [];
  terms.forEach((term, i) => {
    const tokens = searchTokens(normalized[i]);
    if (tokens.length === 0) return;
    const lexemes = tokens.map((token) => `'${token}'`);
    if (term.prefix) lexemes[lexemes.length - 1] += ":*";
    parts.push(lexemes.length > 1 ? `(${lexemes.join(" <-> ")})` : lexemes[0]);
  });
  return parts.join(" & ");
}

/**
 * Messages matching `query` that its reader can see, newest first, at most `limit`, made into
 * messages by `toMessages` (the store's, with reactions and attachments) room by room. The
 * words are normalized by the database's own `parley_search_text` (so that query and index
 * agree), then one statement finds the ids (`messages_search_words` on the stored words,
 * `messages_search_text`, or a newest-first scan, as the planner estimates best for these very values: the statement is
 * not prepared, so it is planned with them) and reads their rows.
 */
export async function searchPostgres(
  sql: Sql,
  query: SearchQuery,
  toMessages: (rows: Row[], roomSlug: string) => Promise<Message[]>,
): Promise<Message[]> {
  const terms = searchTerms(query.words, query.phrases);
  if (terms.length === 0 || query.limit <= 0) return [];
  const wordTerms = terms.filter((t) => t.kind === "tokens");
  const substrings = terms.flatMap((t) => t.kind === "substring" ? [t.text] : []);

  const where: string[] = [];
  const params: (string | number)[] = [];
  const param = (value: string | number, type: string) => {
    params.push(value);
    return `$${params.length}::${type}`;
  };
  if (wordTerms.length > 0) {
    const rows = await sql`SELECT parley_search_text(t) AS t
      FROM unnest(${wordTerms.map((t) => t.tokens.join(" "))}::text[]) WITH ORDINALITY AS x(t, n)
      ORDER BY n`;
    const text = tsquery(wordTerms, rows.map((row) => String(row.t)));
    if (text === "") return [];
    where.push(
      `m.search_words @@ ${param(text, "tsquery")}`,
    );
  }
  for (const text of substrings) {
    const pattern = param(substringPattern(text), "text");
    // Three characters or more: through the trigram index. Shorter: the spaceless-script
    // messages newest first, each checked as it is (as SQLite does; unaccent would cost 4 µs).
    where.push(
      [...text].length >= 3
        ? `${postgresSpaceless("m")} AND parley_unaccent(m.body) ILIKE parley_unaccent(${pattern})`
        : `${postgresSpaceless("m")} AND m.body ILIKE ${pattern}`,
    );
  }
  if (query.before !== undefined) where.push(`m.id < ${param(query.before, "bigint")}`);
  where.push("m.deleted_at IS NULL");
  // An array computed first (an InitPlan), not a join the planner would reorder: with a join
  // it read each room's messages through a room index and sorted them all.
  where.push(`m.room_id = ANY (ARRAY(SELECT r.id FROM rooms r WHERE r.kind = 'public'
    UNION SELECT rm.room_id FROM room_members rm WHERE rm.member_id = ${
    param(query.readerId, "bigint")
  }))`);
  if (query.roomId !== undefined) where.push(`m.room_id = ${param(query.roomId, "bigint")}`);
  if (query.authorId !== undefined) where.push(`m.author_id = ${param(query.authorId, "bigint")}`);
  const limit = param(query.limit, "int");
  const rows = await sql.unsafe(
    `WITH hits AS MATERIALIZED (
       SELECT m.id FROM messages m WHERE ${where.join(" AND ")} ORDER BY m.id DESC LIMIT ${limit}
     )
     SELECT ${MESSAGE_COLUMNS}, r.slug AS room_slug
     FROM hits JOIN messages m ON m.id = hits.id ${MESSAGE_JOINS} JOIN rooms r ON r.id = m.room_id
     ORDER BY m.id DESC`,
    params,
    { prepare: false },
  );
  const messages: Message[] = [];
  for (const [slug, group] of rowsByRoom(rows)) messages.push(...await toMessages(group, slug));
  return inRowOrder(rows, messages);
}
