// Guards every API request: same origin, JSON bodies within the size limit (uploads stream on their own), no caching.
import type { MiddlewareHandler } from "hono";
import { getState } from "../../runtime/mod.ts";
import type { AppState } from "../../http/app_state.ts";
import { allowedOrigins, jsonBodies, sameOrigin } from "../../http/request_guards.ts";

// Built once per configuration, not on every request.
const guards = new WeakMap<object, MiddlewareHandler[]>();

function guardsFor(config: AppState["config"]): MiddlewareHandler[] {
  let built = guards.get(config);
  if (!built) {
    built = [
      sameOrigin({ origins: allowedOrigins(config), proxyHops: config.proxyHops }),
      jsonBodies({
        maxBytes: config.limits.maxRequestBytes,
        timeoutMs: config.server.bodyTimeoutMs,
      }),
    ];
    guards.set(config, built);
  }
  return built;
}

/**
 * The upload endpoints: their multipart bodies are streamed to storage by the route itself
 * (http/multipart_upload.ts, with its own size and time limits), not read here.
 */
const UPLOAD = /^\/api\/rooms\/[^/]+\/files(\/[^/]+\/preview)?$/;

function isUpload(method: string, path: string): boolean {
  return (method === "POST" || method === "PUT") && UPLOAD.test(path);
}

/** Refuses cross-site and non-JSON requests, and marks API answers uncacheable. */
export const handler: MiddlewareHandler[] = [
  (c, next) => guardsFor(getState<AppState>(c).config)[0](c, next),
  (c, next) =>
    isUpload(c.req.method, c.req.path)
      ? next()
      : guardsFor(getState<AppState>(c).config)[1](c, next),
  async (c, next) => {
    await next();
    if (!c.res.headers.has("cache-control")) c.res.headers.set("cache-control", "no-store");
  },
];
