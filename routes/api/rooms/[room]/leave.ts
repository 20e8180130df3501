// POST /api/rooms/{room}/leave: leaves a room.
import type { Handlers } from "../../../../runtime/mod.ts";
import type { AppState } from "../../../../http/app_state.ts";
import { requireMember } from "../../../../chat/sessions.ts";

export const handler: Handlers<unknown, AppState> = {
  async POST({ params, state }) {
    const member = requireMember(state, state.accounts.policy);
    await state.chat.rooms.leave(member, params.room);
    return new Response(null, { status: 204 });
  },
};
