// Prometheus metrics of one Parley instance (prom-client, on a registry of its own), for GET /metrics.
import { createHash, timingSafeEqual } from "node:crypto";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Chat } from "../chat/chat.ts";
import { StoreUnavailableError } from "../db/store.ts";
import { apiError } from "./api_errors.ts";

/** The metrics Parley keeps (see the README's "Operations" section). */
export interface ParleyMetrics {
  registry: Registry;
  requests: Counter<"method" | "route" | "status">;
  duration: Histogram<"method" | "route">;
  openPolls: Gauge;
  changesDelivered: Counter;
  storeErrors: Counter;
  messagesStored: Counter;
  uploads: Counter;
  uploadBytes: Counter;
  loginFailures: Counter;
}

/** Latency buckets in seconds: API answers take milliseconds, long polls up to a minute. */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Creates the metrics on a fresh registry (one per app: tests run several apps at once). */
export function createMetrics(): ParleyMetrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: "parley_http_requests_total",
      help: "HTTP requests answered, by method, route pattern and status.",
      labelNames: ["method", "route", "status"] as const,
      registers,
    }),
    duration: new Histogram({
      name: "parley_http_request_duration_seconds",
      help: "Time from request to response headers, by method and route pattern.",
      labelNames: ["method", "route"] as const,
      buckets: DURATION_BUCKETS,
      registers,
    }),
    openPolls: new Gauge({
      name: "parley_long_polls_open",
      help: "Long polls (messages, typing, room list) waiting for a change now.",
      registers,
    }),
    changesDelivered: new Counter({
      name: "parley_changes_delivered_total",
      help: "Messages returned to polls (reads with after or since), counted per reader.",
      registers,
    }),
    storeErrors: new Counter({
      name: "parley_store_errors_total",
      help: "Requests answered 503 because the database was unavailable.",
      registers,
    }),
    messagesStored: new Counter({
      name: "parley_messages_stored_total",
      help: "Messages sent and stored (a repeated clientId is not counted again).",
      registers,
    }),
    uploads: new Counter({
      name: "parley_uploads_total",
      help: "Files uploaded and stored.",
      registers,
    }),
    uploadBytes: new Counter({
      name: "parley_upload_bytes_total",
      help: "Bytes of the files uploaded and stored.",
      registers,
    }),
    loginFailures: new Counter({
      name: "parley_login_failures_total",
      help: "Logins refused for a wrong username or password.",
      registers,
    }),
  };
}

/** One answered request, as the metrics see it. */
export interface ObservedRequest {
  method: string;
  route: string;
  status: number;
  seconds: number;
  /** The error the app turned into this answer, if any. */
  error?: unknown;
  response: Response;
}

const UPLOAD_ROUTE = "/api/rooms/:room/files";
const LOGIN_ROUTE = "/api/auth/login";

/**
 * Counts an answered request: by route and status, its latency, and what its answer says
 * (a refused login, a stored upload and its size, a database that was unavailable).
 */
export function observeRequest(metrics: ParleyMetrics, request: ObservedRequest): void {
  const { method, route, status } = request;
  metrics.requests.inc({ method, route, status: String(status) });
  metrics.duration.observe({ method, route }, request.seconds);
  if (request.error instanceof StoreUnavailableError) metrics.storeErrors.inc();
  if (method !== "POST") return;
  if (route === LOGIN_ROUTE && status === 401) metrics.loginFailures.inc();
  if (route === UPLOAD_ROUTE && status === 201) {
    metrics.uploads.inc();
    // The answer is a small JSON object with the stored size; read from a copy of it.
    request.response.clone().json().then(
      (file: { size?: unknown }) => {
        if (typeof file.size === "number" && file.size >= 0) metrics.uploadBytes.inc(file.size);
      },
      () => {},
    );
  }
}

/**
 * The chat with its sends, reads and long polls counted: messages stored, messages returned to
 * polls (reads with `after` or `since`) and long polls waiting (the chat's poll gate, shared
 * by messages, typing and the room list, counts them as they enter and leave).
 */
export function instrumentChat(chat: Chat, metrics: ParleyMetrics): Chat {
  const enter = chat.polls.enter.bind(chat.polls);
  chat.polls.enter = (address) => {
    const leave = enter(address);
    metrics.openPolls.inc();
    let left = false;
    return () => {
      if (!left) metrics.openPolls.dec();
      left = true;
      leave();
    };
  };
  const { read, send } = chat;
  return {
    ...chat,
    async read(room, options) {
      const page = await read(room, options);
      if (options.after !== undefined || options.since !== undefined) {
        metrics.changesDelivered.inc(page.messages.length);
      }
      return page;
    },
    async send(...args) {
      const result = await send(...args);
      if (result.created) metrics.messagesStored.inc();
      return result;
    },
  };
}

/** The digest compared in constant time (equal lengths whatever the token sent). */
function digest(value: string): Uint8Array {
  return createHash("sha256").update(value).digest();
}

/**
 * `GET /metrics`: the registry in Prometheus text format for `Authorization: Bearer <token>`
 * (compared in constant time), else `401`.
 */
export async function metricsResponse(
  metrics: ParleyMetrics,
  token: string,
  authorization: string | undefined,
): Promise<Response> {
  const sent = /^Bearer +(\S+)\s*$/i.exec(authorization ?? "")?.[1] ?? "";
  if (!timingSafeEqual(digest(sent), digest(token))) {
    return apiError(401, "unauthenticated", "Send the metrics token as a bearer token.", {
      "www-authenticate": 'Bearer realm="metrics"',
    });
  }
  return new Response(await metrics.registry.metrics(), {
    headers: { "content-type": metrics.registry.contentType, "cache-control": "no-store" },
  });
}
