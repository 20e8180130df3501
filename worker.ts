// A worker thread serving the port beside main.ts's own: same configuration, shared limits, its own database connection.
/// <reference lib="deno.worker" />
import { loadConfig } from "./fresh.config.ts";
import type { Bundle } from "./runtime/bundle.ts";
import { type ReadyServer, type SharedMemory, startServer } from "./serve.ts";

/** What main.ts sends a new worker. */
export interface WorkerStart {
  shared: SharedMemory;
  bundle: Bundle;
  /** The port main.ts listens on. */
  port: number;
}

/** What a worker tells main.ts. */
export type WorkerReport = "listening" | "stopped";

let server: ReadyServer | undefined;

self.onmessage = async (event: MessageEvent<WorkerStart | "stop">) => {
  if (event.data === "stop") {
    await server?.stop();
    self.postMessage("stopped" satisfies WorkerReport);
    self.close();
    return;
  }
  const { shared, bundle, port } = event.data;
  server = await startServer({ config: loadConfig(), shared, bundle, cleanup: false });
  server.listen(port);
  self.postMessage("listening" satisfies WorkerReport);
};
