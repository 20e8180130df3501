// Opens the store the configuration asks for: PostgreSQL when DATABASE_URL is set, else SQLite.
import { PostgresStore } from "./postgres_store.ts";
import type { ChangeCounters } from "./read_cache.ts";
import { SqliteStore } from "./sqlite_store.ts";
import type { Store } from "./store.ts";

/**
 * Opens PostgreSQL at `databaseUrl` when it is set (files' bytes in the database), or SQLite
 * at `sqlitePath` with files' bytes in `filesDir` (`PARLEY_FILES_DIR`; default `files/` next
 * to the database file).
 */
export async function openStore(
  options: {
    sqlitePath: string;
    databaseUrl?: string;
    filesDir?: string;
    /** SQLite, several workers: the counters they share (see `SqliteOptions`). */
    counters?: ChangeCounters;
    /** SQLite, several workers: the channel between them (see `SqliteOptions`). */
    peers?: string;
    /** SQLite, several workers: their write lock (see `SqliteOptions`). */
    writeLock?: SharedArrayBuffer;
  },
): Promise<Store> {
  if (options.databaseUrl) return await PostgresStore.open(options.databaseUrl);
  return new SqliteStore(options.sqlitePath, {
    filesDir: options.filesDir,
    counters: options.counters,
    peers: options.peers,
    writeLock: options.writeLock,
  });
}
