// Opens the store the configuration asks for: SQLite by default.
import { SqliteStore } from "./sqlite_store.ts";
import type { Store } from "./store.ts";

/** Opens SQLite at `sqlitePath`, or PostgreSQL when `databaseUrl` is set. */
export function openStore(options: { sqlitePath: string; databaseUrl?: string }): Promise<Store> {
  if (options.databaseUrl) {
    return Promise.reject(
      new Error("DATABASE_URL is set, but this build of Parley supports only SQLite so far"),
    );
  }
  return Promise.resolve(new SqliteStore(options.sqlitePath));
}
