// Opens the store the configuration names (DATABASE_URL, else SQLITE_PATH) for the operator's commands.
import { loadConfig } from "../fresh.config.ts";
import { openStore } from "../db/open_store.ts";
import type { Store } from "../db/store.ts";

/**
 * Opens (and migrates) the store of the environment's configuration, as the app does; with
 * `mustExist`, a SQLite file that is not there is an error rather than a new database.
 */
export async function openConfiguredStore(options: { mustExist: boolean }): Promise<Store> {
  const config = loadConfig();
  if (!config.databaseUrl && options.mustExist) {
    try {
      await Deno.stat(config.sqlitePath);
    } catch {
      throw new Error(
        `There is no SQLite database at ${config.sqlitePath}: set SQLITE_PATH (or DATABASE_URL)`,
      );
    }
  }
  return await openStore({ ...config, filesDir: config.files.dir });
}
