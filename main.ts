// Entry point: load the configuration, open the store, build the app and serve it.
import { loadConfig } from "./fresh.config.ts";
import { openStore } from "./db/open_store.ts";
import { StoreUnavailableError } from "./db/store.ts";
import { createParley } from "./app.ts";

const config = loadConfig();
const store = await openStoreWhenReachable();
const parley = await createParley({ config, store });
const server = Deno.serve({
  port: config.port,
  hostname: config.hostname,
  onListen: ({ hostname, port }) => {
    const where = config.databaseUrl ? "PostgreSQL" : `SQLite ${config.sqlitePath}`;
    console.log(`Parley listening on http://${hostname}:${port}/ (${where})`);
  },
}, parley.app.fetch);

async function stop() {
  parley.shutdown();
  await server.shutdown();
  await store.close();
  Deno.exit(0);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  try {
    Deno.addSignalListener(signal, stop);
  } catch {
    // Some platforms (Deno Deploy, Windows for SIGTERM) do not deliver these signals.
  }
}

/** Opens the store; while the database cannot be reached, waits and tries again. */
async function openStoreWhenReachable() {
  for (let attempt = 1;; attempt++) {
    try {
      return await openStore(config);
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      const seconds = Math.min(30, 2 ** attempt);
      console.warn(`The database is unreachable (${error.cause}); trying again in ${seconds} s`);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    }
  }
}
