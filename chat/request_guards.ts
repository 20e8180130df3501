// Guards for state-changing API requests: same origin only, JSON only, size-limited.
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { apiError } from "./api_errors.ts";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Refuses state-changing requests from other sites (CSRF): an `Origin` that is neither the
 * request's own nor trusted, or a `Sec-Fetch-Site` of `cross-site`/`same-site`, gets 403.
 */
export function sameOrigin(trusted: string[] = []): MiddlewareHandler {
  return async (c, next) => {
    if (!SAFE.has(c.req.method)) {
      const origin = c.req.header("origin");
      const own = new URL(c.req.url).origin;
      const site = c.req.header("sec-fetch-site");
      const foreignOrigin = origin !== undefined && origin !== own &&
        !trusted.includes(origin);
      const foreignSite = site === "cross-site" || site === "same-site";
      if (foreignOrigin || (origin === undefined && foreignSite)) {
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

/** Whether a request carries a body (a browser's bodyless POST sends Content-Length: 0). */
function hasBody(request: Request): boolean {
  if (request.headers.has("transfer-encoding")) return true;
  const length = request.headers.get("content-length");
  return length === null ? request.body !== null : length !== "0";
}

/** Requests with a body must send JSON (415) of at most `maxBytes` (413). */
export function jsonBodies(maxBytes: number): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () =>
      apiError(
        413,
        "too_large",
        `The request body can be at most ${Math.floor(maxBytes / 1024)} KiB.`,
      ),
  });
  return async (c, next) => {
    if (SAFE.has(c.req.method) || !hasBody(c.req.raw)) return await next();
    const type = c.req.header("content-type") ?? "";
    if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
      return apiError(
        415,
        "unsupported_media_type",
        "Send JSON with Content-Type: application/json.",
      );
    }
    return await limit(c, next);
  };
}
