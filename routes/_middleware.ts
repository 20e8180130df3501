// Loads the session named by the cookie for every route.
import type { MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { getState } from "../runtime/mod.ts";
import type { AppState } from "../http/app_state.ts";
import { SESSION_COOKIE } from "../chat/sessions.ts";

/** Fills `state.member` and `state.session` when the cookie is valid (the app's resolver). */
export const handler: MiddlewareHandler = async (c, next) => {
  const state = getState<AppState>(c);
  Object.assign(state, await state.resolveSession(getCookie(c, SESSION_COOKIE)));
  await next();
};
