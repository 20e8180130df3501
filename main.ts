// Entry point: load the configuration, open the store, build the app and serve it.
import { loadConfig } from "./fresh.config.ts";
import { openStore } from "./db/open_store.ts";
import { StoreUnavailableError } from "./db/store.ts";
import { createParley } from "./app.ts";
import { serveGuarded } from "./runtime/server.ts";

const config = loadConfigOrExit();
const store = await openStoreWhenReachable();
const parley = await createParley({ config, store });
const server = serveGuarded({
  hostname: config.hostname,
  port: config.port,
  handler: parley.fetch,
  maxConnections: config.server.maxConnections,
  maxConnectionsPerAddress: config.server.maxConnectionsPerAddress,
  idleTimeoutMs: config.server.idleTimeoutMs,
  onListen: ({ hostname, port }) => {
    const where = config.databaseUrl ? "PostgreSQL" : `SQLite ${config.sqlitePath}`;
    console.log(`Parley listening on http://${hostname}:${port}/ (${where})`);
  },
});

let stopping = false;
/** Stops within the shutdown timeout whatever clients do; nothing acknowledged is lost. */
async function stop() {
  if (stopping) return;
  stopping = true;
  const limit = config.server.shutdownTimeoutMs;
  // Whatever hangs, the process ends shortly after the shutdown timeout.
  Deno.unrefTimer(setTimeout(() => {
    console.error("Shutdown took too long; exiting.");
    Deno.exit(1);
  }, limit + 5000));
  parley.shutdown();
  await server.shutdown(limit);
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

/** The configuration, or one readable error and exit code 1. */
function loadConfigOrExit() {
  try {
    return loadConfig();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
}

/**
 * Opens the store; while the database cannot be reached, waits and tries again. Any other
 * failure (an unwritable folder, a database from a newer Parley) is one clear message and exit 1.
 */
async function openStoreWhenReachable() {
  for (let attempt = 1;; attempt++) {
    try {
      return await openStore({ ...config, filesDir: config.files.dir });
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) {
        console.error(`Parley cannot start: ${error instanceof Error ? error.message : error}`);
        Deno.exit(1);
      }
      const seconds = Math.min(30, 2 ** attempt);
      console.warn(`The database is unreachable (${error.cause}); trying again in ${seconds} s`);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    }
  }
}
