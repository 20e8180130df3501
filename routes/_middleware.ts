// Loads the session named by the cookie for every route.
import type { MiddlewareHandler } from "hono";
import { getState } from "../runtime/mod.ts";
import type { AppState } from "../http/app_state.ts";
import { sessions } from "../chat/sessions.ts";

/** Fills `state.member` and `state.session` when the cookie is valid. */
export const handler: MiddlewareHandler = (c, next) => {
  const state = getState<AppState>(c);
  return sessions({
    store: state.chat.store,
    secret: state.secret,
    idleMs: state.config.sessionIdleMs,
  })(c, next);
};
