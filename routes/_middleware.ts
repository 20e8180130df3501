// Loads the session named by the cookie for every route.
import type { MiddlewareHandler } from "hono";
import { getState } from "../runtime/mod.ts";
import type { AppState } from "../http/app_state.ts";
import { sessions } from "../chat/sessions.ts";

// Built once per app (the resolver is the app's, shared with the poll's own route).
const built = new WeakMap<object, MiddlewareHandler>();

/** Fills `state.member` and `state.session` when the cookie is valid. */
export const handler: MiddlewareHandler = (c, next) => {
  const { resolveSession } = getState<AppState>(c);
  let middleware = built.get(resolveSession);
  if (!middleware) built.set(resolveSession, middleware = sessions(resolveSession));
  return middleware(c, next);
};
