// Fills a store with history before the benchmark: one bulk INSERT … SELECT, no HTTP.
import { optimizeSearchIndex } from "../db/sqlite_search.ts";
import { SqliteStore } from "../db/sqlite_store.ts";

const ROOM = "general";
// Formatted as people write (bold, italic, strike, code, a link), so the page renders markdown.
const BODY =
  "' **history** message: the _quick_ brown fox jumps over the ~~lazy~~ dog, see `code` and https://example.com/'";

/**
 * Migrates the SQLite file at `path` (creating it) and adds `count` messages to the room
 * `general` by one new member, in one transaction with one prepared statement. Returns the
 * time it took, in ms.
 */
export async function fillSqliteHistory(path: string, count: number): Promise<number> {
  const started = performance.now();
  const store = new SqliteStore(path);
  try {
    if (count <= 0) return 0;
    const room = await store.getRoom(ROOM);
    if (!room) throw new Error(`No room "${ROOM}" after migrating ${path}`);
    const author = await store.createMember("History");
    const now = Date.now();
    store.db.exec("BEGIN IMMEDIATE");
    try {
      // A recursive CTE counts 1..count inside SQLite: no round trip per row.
      store.db.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO messages (room_id, author_id, body, client_id, created_at, seq)
         SELECT ?, ?, '#' || i || ${BODY}, 'history-' || i, ? - (? - i) * 1000, i FROM n`,
      ).run(count, room.id, author.id, now, count);
      // Each message was one change of the room's feed.
      store.db.prepare("UPDATE rooms SET last_seq = ? WHERE id = ?").run(count, room.id);
      store.db.exec("COMMIT");
      // As an instance that grew message by message has it: merged, not in bulk segments.
      optimizeSearchIndex(store.db);
    } catch (error) {
      store.db.exec("ROLLBACK");
      throw error;
    }
    return performance.now() - started;
  } finally {
    await store.close();
  }
}

/**
 * Migrates the PostgreSQL database at `url` and adds `count` messages to the room `general`
 * by one new member, with one `INSERT … SELECT generate_series`. Returns the time it took, in ms.
 */
export async function fillPostgresHistory(url: string, count: number): Promise<number> {
  const started = performance.now();
  // Loaded only for PostgreSQL runs.
  const { PostgresStore } = await import("../db/postgres_store.ts");
  const store = await PostgresStore.open(url, { max: 1 });
  try {
    if (count <= 0) return 0;
    const room = await store.getRoom(ROOM);
    if (!room) throw new Error(`No room "${ROOM}" after migrating the database`);
    // The history takes change numbers 1…count: a room with messages already would then
    // hand out numbers its readers have passed, and the run would count them lost.
    const [{ n }] = await store.sql`SELECT count(*)::int AS n FROM messages`;
    if (n > 0) {
      throw new Error(
        `The database at DATABASE_URL has ${n} messages already; --history needs an empty ` +
          `one (drop and create it: dropdb/createdb)`,
      );
    }
    const author = await store.createMember("History");
    const now = Date.now();
    await store.sql.unsafe(
      `INSERT INTO messages (room_id, author_id, body, client_id, created_at, seq)
       SELECT $1, $2, '#' || g || ${BODY}, 'history-' || g, $3::bigint - ($4::bigint - g) * 1000, g
       FROM generate_series(1, $4::bigint) AS g`,
      [room.id, author.id, now, count],
    );
    await store.sql.unsafe("UPDATE rooms SET last_seq = $1 WHERE id = $2", [count, room.id]);
    // The search index's pending entries merged, as an instance that grew slowly has them.
    await store.sql.unsafe("VACUUM ANALYZE messages");
    return performance.now() - started;
  } finally {
    await store.close();
  }
}
