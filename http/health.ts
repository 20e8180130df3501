// Health and readiness probes for load balancers and orchestrators: GET /healthz and GET /readyz.
import type { Store } from "../db/store.ts";
import { jsonResponse } from "./json_response.ts";

/** Options for {@link readiness}. */
export interface ReadinessOptions {
  store: Store;
  /** Aborted when the server shuts down: from then on the instance is not ready. */
  stopping?: AbortSignal;
  /** A check slower than this counts as a failure (default 2 s). */
  timeoutMs?: number;
  /** A check is reused for this long, so that probes cost the database little (default 1 s). */
  reuseMs?: number;
}

const NO_STORE = { "cache-control": "no-store" };

/** `GET /healthz`: the process answers. Touches nothing else. */
export function healthResponse(): Response {
  return jsonResponse({ status: "ok" }, { headers: NO_STORE });
}

/**
 * `GET /readyz`: `200 {"status":"ready","store"}` when the store answers a trivial query and has
 * every migration, else `503 {"status":"unavailable","store"}` (why is not said: no internals).
 * Concurrent probes share one check, and a check is reused for `reuseMs`.
 */
export function readiness(options: ReadinessOptions): () => Promise<Response> {
  const { store, stopping } = options;
  const timeoutMs = options.timeoutMs ?? 2000;
  const reuseMs = options.reuseMs ?? 1000;
  let last: { at: number; ready: Promise<boolean> } | undefined;

  async function check(): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([store.checkReady().then(() => true, () => false), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  return async () => {
    const now = Date.now();
    if (!last || now - last.at >= reuseMs) last = { at: now, ready: check() };
    const ready = !stopping?.aborted && await last.ready;
    return jsonResponse(
      { status: ready ? "ready" : "unavailable", store: store.kind },
      { status: ready ? 200 : 503, headers: NO_STORE },
    );
  };
}
