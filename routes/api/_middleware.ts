// Guards every API request: same origin, JSON bodies within the size limit, no caching.
import type { MiddlewareHandler } from "hono";
import { getState } from "../../runtime/mod.ts";
import type { AppState } from "../../chat/app_state.ts";
import { jsonBodies, sameOrigin } from "../../chat/request_guards.ts";

/** Refuses cross-site and non-JSON requests, and marks API answers uncacheable. */
export const handler: MiddlewareHandler[] = [
  (c, next) => sameOrigin(getState<AppState>(c).config.trustedOrigins)(c, next),
  (c, next) => jsonBodies(getState<AppState>(c).config.limits.maxRequestBytes)(c, next),
  async (c, next) => {
    await next();
    if (!c.res.headers.has("cache-control")) c.res.headers.set("cache-control", "no-store");
  },
];
