// The schema of message search (migration 7 of each store).
import { postgresSpaceless, sqliteSpaceless } from "../search_terms.ts";

const WORDS_TOKENIZER = `unicode61 remove_diacritics 2 categories 'L* N* Co M*'`;

/**
 * SQLite: two external-content FTS5 indexes on `messages.body`, kept in step by triggers (a
 * deleted message's body is emptied, which takes it out of both): `message_words` (words:
 * letters, digits and marks, any case, accents removed) for every non-empty body, with
 * prefix indexes of one to three characters (without them a short word's start, `the`, merges
 * the lists of every word it begins — them, then, there… — before the first match), and
 * `message_text` (trigrams: substrings) for bodies holding a spaceless-script character, with
 * a partial index listing those bodies for substrings shorter than a trigram. `secure-delete`
 * removes a changed text from the index at once instead of leaving it in old segments. The
 * messages already stored are indexed here.
 */
export const SQLITE_SEARCH_MIGRATION = `
  CREATE VIRTUAL TABLE message_words USING fts5(
    body, content = 'messages', content_rowid = 'id', columnsize = 0, prefix = '1 2 3',
    tokenize = "${WORDS_TOKENIZER}"
  );
  CREATE VIRTUAL TABLE message_text USING fts5(
    body, content = 'messages', content_rowid = 'id', columnsize = 0,
    tokenize = 'trigram remove_diacritics 1'
  );
  INSERT INTO message_words (message_words, rank) VALUES ('secure-delete', 1);
  INSERT INTO message_text (message_text, rank) VALUES ('secure-delete', 1);
  CREATE INDEX messages_spaceless ON messages(id) WHERE ${sqliteSpaceless()};
  INSERT INTO message_words (rowid, body) SELECT id, body FROM messages WHERE body <> '';
  INSERT INTO message_text (rowid, body)
    SELECT id, body FROM messages INDEXED BY messages_spaceless WHERE ${sqliteSpaceless()};
  INSERT INTO message_words (message_words) VALUES ('optimize');
  INSERT INTO message_text (message_text) VALUES ('optimize');

  CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
    INSERT INTO message_words (rowid, body) SELECT new.id, new.body WHERE new.body <> '';
    INSERT INTO message_text (rowid, body) SELECT new.id, new.body
      WHERE ${sqliteSpaceless("new")};
  END;
  CREATE TRIGGER messages_search_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO message_words (message_words, rowid, body)
      SELECT 'delete', old.id, old.body WHERE old.body <> '';
    INSERT INTO message_text (message_text, rowid, body)
      SELECT 'delete', old.id, old.body WHERE ${sqliteSpaceless("old")};
    INSERT INTO message_words (rowid, body) SELECT new.id, new.body WHERE new.body <> '';
    INSERT INTO message_text (rowid, body) SELECT new.id, new.body
      WHERE ${sqliteSpaceless("new")};
  END;
  CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
    INSERT INTO message_words (message_words, rowid, body)
      SELECT 'delete', old.id, old.body WHERE old.body <> '';
    INSERT INTO message_text (message_text, rowid, body)
      SELECT 'delete', old.id, old.body WHERE ${sqliteSpaceless("old")};
  END;
`;

/** ASCII punctuation: word separators for the PostgreSQL word index, as for SQLite's. */
const PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/**
 * PostgreSQL: `unaccent` and `pg_trgm` (installed in `public` when missing, so that dropping
 * an app schema never drops them), two IMMUTABLE functions resolved at creation (SQL-standard
 * bodies, independent of the search_path later): `parley_unaccent` (accents removed) and
 * `parley_search_text` (also lower case, ASCII punctuation as spaces, so that `node.js` holds
 * the words `node` and `js` as in SQLite), the words of each message as a stored generated
 * column `search_words` (`simple` configuration: no stemming, no stop words; recomputed on every
 * edit, empty once deleted) with a GIN index, and a GIN trigram index of the bodies holding a
 * spaceless-script character with a partial index listing them (for substrings shorter than a
 * trigram). The column, not an expression index: a plan reading the newest messages first and
 * checking each (a common word) then costs a microsecond per message, not the 30 µs of
 * recomputing its words.
 */
export const POSTGRES_SEARCH_MIGRATION = `
  CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;
  CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
  SELECT set_config('search_path', current_setting('search_path') || ', ' || (
    SELECT string_agg(DISTINCT quote_ident(n.nspname), ', ')
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname IN ('unaccent', 'pg_trgm')), true);

  CREATE FUNCTION parley_unaccent(body text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    BEGIN ATOMIC SELECT unaccent('unaccent'::regdictionary, body); END;
  CREATE FUNCTION parley_search_text(body text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    BEGIN ATOMIC
      SELECT translate(lower(unaccent('unaccent'::regdictionary, body)),
        '${PUNCTUATION.replaceAll("'", "''")}', '${" ".repeat(PUNCTUATION.length)}');
    END;

  ALTER TABLE messages ADD COLUMN search_words tsvector
    GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, parley_search_text(body))) STORED;
  CREATE INDEX messages_search_words ON messages USING gin (search_words);
  CREATE INDEX messages_search_text ON messages
    USING gin (parley_unaccent(body) gin_trgm_ops) WHERE ${postgresSpaceless()};
  CREATE INDEX messages_spaceless ON messages (id) WHERE ${postgresSpaceless()};
`;
