// DELETE /api/auth/sessions: logs out everywhere (every session of this member, this one too).
import type { Handlers } from "../../../runtime/mod.ts";
import type { AppState } from "../../../http/app_state.ts";
import { endSession, requireMember } from "../../../chat/sessions.ts";
import { jsonResponse } from "../../../http/json_response.ts";

export const handler: Handlers<unknown, AppState> = {
  async DELETE({ state, hono }) {
    const member = requireMember(state);
    const ended = await state.chat.store.deleteSessions(member.id);
    await endSession(hono, state.chat.store);
    return jsonResponse({ ended });
  },
};
