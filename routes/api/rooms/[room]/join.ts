// POST /api/rooms/{room}/join: joins a public room.
import type { Handlers } from "../../../../runtime/mod.ts";
import type { AppState } from "../../../../http/app_state.ts";
import { requireMember } from "../../../../chat/sessions.ts";
import { jsonResponse } from "../../../../http/json_response.ts";

export const handler: Handlers<unknown, AppState> = {
  async POST({ params, state }) {
    const member = requireMember(state, state.accounts.policy);
    return jsonResponse(await state.chat.rooms.join(member, params.room));
  },
};
