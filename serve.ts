// One Parley server in this thread: the store opened, the app built, then the port served; and how it stops.
import type { ParleyConfig } from "./fresh.config.ts";
import { createParley } from "./app.ts";
import { type LimiterBuffers, sharedLimiters } from "./chat/limiters.ts";
import { openStore } from "./db/open_store.ts";
import { ChangeCounters } from "./db/read_cache.ts";
import { StoreUnavailableError } from "./db/store.ts";
import type { Bundle } from "./runtime/bundle.ts";
import {
  type GuardedServer,
  serveGuarded,
  type ServerStateBuffers,
  sharedServerState,
} from "./runtime/server.ts";

/** What the workers of one process share: made by the first, sent to the others. */
export interface SharedMemory {
  /** The counters that drop cached sessions and rooms (SQLite). */
  counters: SharedArrayBuffer;
  limiters: LimiterBuffers;
  server: ServerStateBuffers;
  /** The name of the channel that carries wake-ups between the workers (SQLite). */
  peers: string;
  /** The lock that lets one worker write to the database at a time (SQLite). */
  writeLock: SharedArrayBuffer;
}

/** Options for {@link startServer}. */
export interface StartOptions {
  config: ParleyConfig;
  /** Set when several workers serve the port together. */
  shared?: SharedMemory;
  /** Whether this server runs the hourly cleanup (only the first worker does). */
  cleanup: boolean;
  /** The browser bundle, when another worker has it already. */
  bundle?: Bundle;
}

/** A server ready to serve: its store open, its app built. */
export interface ReadyServer {
  /** The browser bundle (given to the other workers, so that it is built once). */
  bundle: Bundle;
  /** Serves `port` (default: the configured one); returns the address it listens on. */
  listen(port?: number): Deno.NetAddr;
  /** Stops within the shutdown timeout whatever clients do; nothing acknowledged is lost. */
  stop(): Promise<void>;
}

/** Opens the store and builds the app; {@link ReadyServer.listen} then serves it. */
export async function startServer(options: StartOptions): Promise<ReadyServer> {
  const { config, shared } = options;
  const store = await openStoreWhenReachable(config, shared);
  const parley = await createParley({
    config,
    store,
    bundle: options.bundle,
    limiters: shared && sharedLimiters(shared.limiters),
    cleanup: options.cleanup,
  });
  let server: GuardedServer | undefined;
  return {
    bundle: parley.bundle,
    listen(port = config.port) {
      server ??= serveGuarded({
        hostname: config.hostname,
        port,
        handler: parley.fetch,
        maxConnections: config.server.maxConnections,
        maxConnectionsPerAddress: config.server.maxConnectionsPerAddress,
        idleTimeoutMs: config.server.idleTimeoutMs,
        reusePort: shared !== undefined,
        shared: shared && sharedServerState(shared.server),
      });
      return server.addr;
    },
    async stop() {
      parley.shutdown();
      await server?.shutdown(config.server.shutdownTimeoutMs);
      await store.close();
    },
  };
}

/**
 * Opens the store; while the database cannot be reached, waits and tries again. Any other
 * failure (an unwritable folder, a database from a newer Parley) is one clear message and exit 1.
 */
async function openStoreWhenReachable(config: ParleyConfig, shared?: SharedMemory) {
  for (let attempt = 1;; attempt++) {
    try {
      return await openStore({
        ...config,
        filesDir: config.files.dir,
        counters: shared && new ChangeCounters(shared.counters),
        peers: shared?.peers,
        writeLock: shared?.writeLock,
      });
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
