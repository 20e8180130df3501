// Access logs: one line per request (method, route pattern, status, duration, request id), as text or JSON.
import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import { routePath } from "../runtime/route_paths.ts";
import type { Manifest } from "../runtime/mod.ts";

/** Where log lines go (stdout by default; tests capture them). */
export type LogSink = (line: string) => void;

/** What one access log line says. Never a path, query, header, cookie or body: nothing secret. */
export interface RequestRecord {
  method: string;
  /** The route pattern that answered (`/api/rooms/:room/messages`), never the raw path. */
  route: string;
  status: number;
  durationMs: number;
  requestId: string;
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
/** A request id a client may choose: at most 64 of `A-Z a-z 0-9 . _ -`. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const ID_PREFIX = crypto.randomUUID().slice(0, 8);
let lastId = 0;

/**
 * The request id of a request: the client's `X-Request-Id` when it is sane, else a new one
 * (this process's random prefix and a counter: unique, and cheap on every request).
 */
export function requestIdOf(header: string | undefined): string {
  if (header !== undefined && SANE_REQUEST_ID.test(header)) return header;
  return `${ID_PREFIX}-${(++lastId).toString(36)}`;
}

/** The method as logged and counted: one of the HTTP methods Parley knows, else `OTHER`. */
export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : "OTHER";
}

/**
 * The patterns of the manifest's routes (`/rooms/:room`) plus `extra` ones: the only values a
 * route label takes besides `(static)` and `(unmatched)`, so that labels stay few.
 */
export function routePatterns(manifest: Manifest, extra: string[] = []): Set<string> {
  const patterns = new Set(extra);
  for (const file of Object.keys(manifest.routes)) {
    const path = routePath(file);
    if (path.kind === "route") patterns.add(path.pattern);
  }
  return patterns;
}

/**
 * The route pattern a request was for: the first of its matched routes that is one of
 * `patterns` (the one that answered, or would have, had a middleware not answered first);
 * `(static)` for static files and `(unmatched)` for anything else.
 */
export function routeLabel(c: Context, patterns: ReadonlySet<string>, status: number): string {
  for (const route of matchedRoutes(c)) {
    if (patterns.has(route.path)) return route.path;
  }
  return status < 400 ? "(static)" : "(unmatched)";
}

/** Formats one access log line: `text` (`<time> GET /route 200 1.2ms <id>`) or `json`. */
export function formatRequest(record: RequestRecord, format: "text" | "json"): string {
  const time = new Date().toISOString();
  const ms = Math.round(record.durationMs * 10) / 10;
  if (format === "json") {
    return JSON.stringify({
      time,
      method: record.method,
      route: record.route,
      status: record.status,
      ms,
      requestId: record.requestId,
    });
  }
  return `${time} ${record.method} ${record.route} ${record.status} ${ms}ms ${record.requestId}`;
}

const encoder = new TextEncoder();

let stdout: LogSink | undefined;

/**
 * The sink writing to stdout in batches: lines written within a few milliseconds go out in one
 * write, so that logging costs the hot path (empty polls) no write per request. Whatever is
 * pending is written when the process exits. One for the whole process.
 */
export function stdoutSink(): LogSink {
  stdout ??= batchedSink((bytes) => Deno.stdout.writeSync(bytes));
  return stdout;
}

/** A sink that collects lines for `flushMs` and hands them to `write` at once. */
function batchedSink(write: (bytes: Uint8Array) => number, flushMs = 20): LogSink {
  let pending: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  function flush() {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const text = pending.join("\n");
    pending = [];
    try {
      const bytes = encoder.encode(text + "\n");
      for (let at = 0; at < bytes.length;) at += write(bytes.subarray(at));
    } catch {
      // No writable stdout of its own (some hosts only offer the console): try that once.
      try {
        console.log(text);
      } catch {
        // Access logs are not worth failing requests for.
      }
    }
  }
  globalThis.addEventListener("unload", flush);
  return (line) => {
    pending.push(line);
    if (timer === undefined) {
      const scheduled = setTimeout(flush, flushMs);
      Deno.unrefTimer(scheduled);
      timer = scheduled;
    }
  };
}
