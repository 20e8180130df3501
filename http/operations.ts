// The operator's middleware: health and readiness probes, /metrics, request ids, access logs and request metrics.
import type { MiddlewareHandler } from "hono";
import type { Store } from "../db/store.ts";
import { healthResponse, readiness } from "./health.ts";
import { metricsResponse, observeRequest, type ParleyMetrics } from "./metrics.ts";
import {
  formatRequest,
  type LogSink,
  methodLabel,
  requestIdOf,
  routeLabel,
} from "./request_log.ts";

/** Options for {@link operations}. */
export interface OperationsOptions {
  store: Store;
  /** The route patterns that label requests (see `routePatterns`). */
  routes: ReadonlySet<string>;
  /** Access log format (`PARLEY_LOG`); `off` logs nothing. */
  log: "text" | "json" | "off";
  /** Where access log lines go. */
  sink: LogSink;
  /** Metrics to count requests in, and to serve at `/metrics` for `metricsToken`; none when off. */
  metrics?: ParleyMetrics;
  metricsToken?: string;
  /** Aborted when the server shuts down (`/readyz` then answers 503). */
  stopping?: AbortSignal;
}

/** One answered request, as {@link requestRecorder} records it. */
export interface AnsweredRequest {
  method: string;
  /** The route pattern (`/api/rooms/:room/messages`), `(static)` or `(unmatched)`. */
  route: string;
  status: number;
  /** `performance.now()` when the request arrived. */
  started: number;
  requestId: string;
  error?: unknown;
  response: Response;
}

/**
 * Records answered requests: an access log line and the request metrics, as configured;
 * undefined when there is nothing to record (logs off, no metrics).
 */
export function requestRecorder(
  options: Pick<OperationsOptions, "log" | "sink" | "metrics">,
): ((answered: AnsweredRequest) => void) | undefined {
  const { log, sink, metrics } = options;
  if (log === "off" && !metrics) return undefined;
  return ({ method, route, status, started, requestId, error, response }) => {
    const durationMs = performance.now() - started;
    const label = methodLabel(method);
    if (metrics) {
      observeRequest(metrics, {
        method: label,
        route,
        status,
        seconds: durationMs / 1000,
        error,
        response,
      });
    }
    if (log !== "off") {
      sink(formatRequest({ method: label, route, status, durationMs, requestId }, log));
    }
  };
}

/**
 * Answers `GET /healthz`, `GET /readyz` and (with a token) `GET /metrics` before anything else
 * runs: no host check (a load balancer probes by address), no session, no rate limit, no log
 * line. Every other request gets an `X-Request-Id` (the client's when sane, else a new one),
 * an access log line and its metrics once answered. Register it first.
 */
export function operations(options: OperationsOptions): MiddlewareHandler {
  const { routes, metrics, metricsToken } = options;
  const ready = readiness({ store: options.store, stopping: options.stopping });
  const record = requestRecorder(options);
  return async (c, next) => {
    const path = c.req.path;
    const method = c.req.method;
    if (method === "GET" || method === "HEAD") {
      if (path === "/healthz") return healthResponse();
      if (path === "/readyz") return await ready();
      if (path === "/metrics" && metrics && metricsToken) {
        return await metricsResponse(metrics, metricsToken, c.req.header("authorization"));
      }
    }
    const started = performance.now();
    const requestId = requestIdOf(c.req.header("x-request-id"));
    await next();
    c.res.headers.set("x-request-id", requestId);
    if (!record) return;
    const status = c.res.status;
    record({
      method,
      route: routeLabel(c, routes, status),
      status,
      started,
      requestId,
      error: c.error,
      response: c.res,
    });
  };
}
