// Guards for requests: the right Host, state changes from allowed origins only, JSON bodies read within size and time limits.
import type { MiddlewareHandler } from "hono";
import { apiError } from "./api_errors.ts";
import { isHttps } from "./client_address.ts";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The origins allowed to send state-changing requests, and whose hosts Parley answers for:
 * `publicUrl` and `trustedOrigins` (`PARLEY_PUBLIC_URL`, `PARLEY_ORIGINS`). Empty when neither
 * is set: then any Host is answered and each request's own origin is the allowed one.
 */
export function allowedOrigins(
  config: { publicUrl?: string; trustedOrigins: string[] },
): string[] {
  const origins = new Set<string>();
  for (const value of [config.publicUrl, ...config.trustedOrigins]) {
    if (!value) continue;
    try {
      origins.add(new URL(value).origin);
    } catch {
      origins.add(value);
    }
  }
  return [...origins];
}

/** The `Host` values that name an origin: `chat.example.com` and `chat.example.com:443`. */
export function hostsOf(origins: string[]): Set<string> {
  const hosts = new Set<string>();
  for (const origin of origins) {
    try {
      const url = new URL(origin);
      hosts.add(url.host.toLowerCase());
      const port = url.port || (url.protocol === "https:" ? "443" : "80");
      hosts.add(`${url.hostname.toLowerCase()}:${port}`);
    } catch {
      // Not a URL: it names no host.
    }
  }
  return hosts;
}

/**
 * Refuses requests for hosts other than those of `origins` with 421 (JSON under `/api/`, a
 * short page elsewhere): a page on another name (DNS rebinding) cannot reach Parley. Lets
 * everything through when `origins` is empty.
 */
export function hostCheck(options: { origins: string[] }): MiddlewareHandler {
  const hosts = hostsOf(options.origins);
  return async (c, next) => {
    if (hosts.size === 0) return await next();
    const host = (c.req.header("host") ?? new URL(c.req.url).host).toLowerCase();
    if (hosts.has(host)) return await next();
    const message = "This server does not answer for this host name.";
    if (c.req.path.startsWith("/api/")) return apiError(421, "misdirected_request", message);
    return new Response(
      `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Wrong address</title>` +
        `</head><body><h1>Wrong address</h1><p>${message}</p></body></html>`,
      {
        status: 421,
        headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
      },
    );
  };
}

/**
 * Refuses state-changing requests from other sites (CSRF) with 403: an `Origin` that is not
 * allowed, or without `Origin` a `Sec-Fetch-Site` of `cross-site`/`same-site`. The allowed
 * origins are exactly `origins` when given, else the request's own (its scheme from a trusted
 * proxy's `X-Forwarded-Proto` when `proxyHops` > 0).
 */
export function sameOrigin(
  options: { origins?: string[]; proxyHops?: number } = {},
): MiddlewareHandler {
  const configured = options.origins ?? [];
  const proxyHops = options.proxyHops ?? 0;
  return async (c, next) => {
    if (!SAFE.has(c.req.method)) {
      const origin = c.req.header("origin");
      const site = c.req.header("sec-fetch-site");
      let allowed: boolean;
      if (origin === undefined) allowed = true;
      else if (configured.length > 0) allowed = configured.includes(origin);
      else {
        const url = new URL(c.req.url);
        const own = `${isHttps(c, { proxyHops }) ? "https:" : url.protocol}//${url.host}`;
        allowed = origin === own || origin === url.origin;
      }
      const foreignSite = site === "cross-site" || site === "same-site";
      if (!allowed || (origin === undefined && foreignSite)) {
        return apiError(
          403,
          "cross_origin",
          "Requests from other sites are not allowed.",
        );
      }
    }
    await next();
  };
}

type BodyRead = { bytes: Uint8Array<ArrayBuffer> } | {
  problem: "too_large" | "timeout" | "cut_off";
};

/**
 * Reads a body chunk by chunk: at most `maxBytes` (nothing more is buffered), within
 * `timeoutMs` for the whole body. On a problem the stream is cancelled.
 */
async function readBody(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  timeoutMs: number,
): Promise<BodyRead> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let done = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    while (true) {
      const step = await Promise.race([reader.read(), expired]);
      if (step === "timeout") return { problem: "timeout" };
      if (step.done) break;
      size += step.value.byteLength;
      if (size > maxBytes) return { problem: "too_large" };
      chunks.push(step.value);
    }
    done = true;
  } catch {
    return { problem: "cut_off" };
  } finally {
    clearTimeout(timer);
    // The lock is kept: the body is not read again (the request is replaced by one with the
    // bytes), and releasing it makes an error with a stack trace, some 5 µs a request.
    if (!done) reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return { bytes };
}

/**
 * Reads the body of every state-changing request here, so that no handler waits on a slow
 * client: a body over `maxBytes` is 413 (refused as soon as it is known, unbuffered), one not
 * complete within `timeoutMs` is 408, a body that is not empty needs a JSON Content-Type
 * (415). An empty body is no body (browsers and curl send bodyless POST/DELETE without
 * `Content-Length`). Handlers then get the request with the bytes read as its body.
 */
export function jsonBodies(
  options: { maxBytes: number; timeoutMs: number },
): MiddlewareHandler {
  const { maxBytes, timeoutMs } = options;
  const tooLarge = () =>
    apiError(
      413,
      "too_large",
      `The request body can be at most ${Math.floor(maxBytes / 1024)} KiB.`,
    );
  return async (c, next) => {
    const request = c.req.raw;
    if (SAFE.has(c.req.method) || request.body === null) return await next();
    const declared = Number(request.headers.get("content-length") ?? 0);
    if (declared > maxBytes) {
      request.body.cancel().catch(() => {});
      return tooLarge();
    }
    const read = await readBody(request.body, maxBytes, timeoutMs);
    if ("problem" in read) {
      if (read.problem === "too_large") return tooLarge();
      if (read.problem === "timeout") {
        return apiError(
          408,
          "body_timeout",
          `The request body must arrive within ${Math.round(timeoutMs / 1000)} s.`,
          { connection: "close" },
        );
      }
      return apiError(400, "invalid_request", "The request body was cut off.");
    }
    if (read.bytes.byteLength > 0) {
      const type = c.req.header("content-type") ?? "";
      if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
        return apiError(
          415,
          "unsupported_media_type",
          "Send JSON with Content-Type: application/json.",
        );
      }
    }
    c.req.raw = new Request(request, { body: read.bytes });
    await next();
  };
}
