// Loads the session named by the cookie for every route.
import type { MiddlewareHandler } from "hono";
import { getState } from "../runtime/mod.ts";
import type { AppState } from "../http/app_state.ts";
import { sessions } from "../chat/sessions.ts";

// Built once per store and configuration (it remembers checked cookies), not per request.
const built = new WeakMap<object, WeakMap<object, MiddlewareHandler>>();

/** Fills `state.member` and `state.session` when the cookie is valid. */
export const handler: MiddlewareHandler = (c, next) => {
  const state = getState<AppState>(c);
  let byConfig = built.get(state.chat.store);
  if (!byConfig) built.set(state.chat.store, byConfig = new WeakMap());
  let middleware = byConfig.get(state.config);
  if (!middleware) {
    middleware = sessions({
      store: state.chat.store,
      secret: state.secret,
      idleMs: state.config.sessionIdleMs,
    });
    byConfig.set(state.config, middleware);
  }
  return middleware(c, next);
};
