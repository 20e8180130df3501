// Entry point: load the configuration, then serve the port from this thread and, on several cores, from workers too.
import { loadConfig, type ParleyConfig } from "./fresh.config.ts";
import { limiterBuffers } from "./chat/limiters.ts";
import { ChangeCounters } from "./db/read_cache.ts";
import { WriteLock } from "./db/write_lock.ts";
import { serverStateBuffers } from "./runtime/server.ts";
import { type SharedMemory, startServer } from "./serve.ts";
import type { WorkerReport, WorkerStart } from "./worker.ts";

const config = loadConfigOrExit();
const workers = workerCount(config);
const shared: SharedMemory | undefined = workers > 1
  ? {
    counters: ChangeCounters.sharedBuffer(),
    limiters: limiterBuffers(),
    server: serverStateBuffers(),
    peers: `parley-${crypto.randomUUID()}`,
    writeLock: WriteLock.buffer(),
  }
  : undefined;
// This thread opens (and migrates) the database first; the workers then find it ready. They
// listen before this thread does: the kernel gives a new connection to one of the listeners
// there are at that moment, and a keep-alive connection (a proxy's, say) stays where it
// landed. Only with PORT=0 does this thread listen first, to learn the port it got.
const server = await startServer({ config, shared, cleanup: true });
let listening = config.port === 0 ? server.listen() : undefined;
const port = listening?.port ?? config.port;
const others = await Promise.all(
  Array.from({ length: workers - 1 }, () => startWorker(server.bundle, port)),
);
listening ??= server.listen();
{
  const { hostname, port } = listening;
  const where = config.databaseUrl ? "PostgreSQL" : `SQLite ${config.sqlitePath}`;
  const threads = workers > 1 ? `, ${workers} workers` : "";
  console.log(`Parley listening on http://${hostname}:${port}/ (${where}${threads})`);
}

/**
 * Workers to serve with: as configured, but 1 where the kernel does not spread one port's
 * connections over several listeners (only Linux does), where the database is in memory, and
 * on Deno Deploy (which runs as many isolates as the load needs by itself).
 */
function workerCount(config: ParleyConfig): number {
  if (config.server.workers <= 1 || Deno.env.get("DENO_DEPLOYMENT_ID")) return 1;
  if (Deno.build.os !== "linux" || (!config.databaseUrl && config.sqlitePath === ":memory:")) {
    // Said only to whoever asked for workers; by default one is what these systems get.
    if (Deno.env.get("PARLEY_WORKERS")) {
      console.warn("PARLEY_WORKERS: only one worker here (needs Linux and a database file).");
    }
    return 1;
  }
  return config.server.workers;
}

/**
 * Starts one more worker serving `port` (the one this thread listens on: with `PORT=0`, the
 * port it was given); resolves once it listens.
 */
function startWorker(bundle: WorkerStart["bundle"], port: number): Promise<Worker> {
  const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
  return new Promise((resolve) => {
    worker.onmessage = (event: MessageEvent<WorkerReport>) => {
      if (event.data === "listening") resolve(worker);
    };
    // A worker that fails takes the process down: a supervisor restarts it whole.
    worker.onerror = (event) => {
      console.error(`A worker failed: ${event.message}`);
      Deno.exit(1);
    };
    worker.postMessage({ shared: shared!, bundle, port } satisfies WorkerStart);
  });
}

/** Asks a worker to stop; resolves when it has (or with the process's own deadline). */
function stopWorker(worker: Worker): Promise<void> {
  return new Promise((resolve) => {
    worker.onmessage = (event: MessageEvent<WorkerReport>) => {
      if (event.data === "stopped") resolve();
    };
    worker.postMessage("stop");
  });
}

let stopping = false;
/** Stops within the shutdown timeout whatever clients do; nothing acknowledged is lost. */
async function stop() {
  if (stopping) return;
  stopping = true;
  // Whatever hangs, the process ends shortly after the shutdown timeout.
  Deno.unrefTimer(setTimeout(() => {
    console.error("Shutdown took too long; exiting.");
    Deno.exit(1);
  }, config.server.shutdownTimeoutMs + 5000));
  await Promise.all([server.stop(), ...others.map(stopWorker)]);
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
