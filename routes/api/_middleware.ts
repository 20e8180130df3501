// Guards every API request: same origin, JSON bodies within the size limit, no caching.
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

/** Refuses cross-site and non-JSON requests, and marks API answers uncacheable. */
export const handler: MiddlewareHandler[] = [
  (c, next) => guardsFor(getState<AppState>(c).config)[0](c, next),
  (c, next) => guardsFor(getState<AppState>(c).config)[1](c, next),
  async (c, next) => {
    await next();
    if (!c.res.headers.has("cache-control")) c.res.headers.set("cache-control", "no-store");
  },
];
