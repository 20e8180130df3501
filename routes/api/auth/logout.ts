// POST /api/auth/logout: ends this session; the next visit starts as a fresh guest.
import type { Handlers } from "../../../runtime/mod.ts";
import type { AppState } from "../../../http/app_state.ts";
import { endSession } from "../../../chat/sessions.ts";

export const handler: Handlers<unknown, AppState> = {
  async POST({ state, hono }) {
    await endSession(hono, state.chat.store, state.session);
    return new Response(null, { status: 204 });
  },
};
