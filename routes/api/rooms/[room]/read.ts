// PUT /api/rooms/{room}/read: moves my read cursor (`{"messageId"}`); unread counts follow.
import type { Handlers } from "../../../../runtime/mod.ts";
import type { AppState } from "../../../../http/app_state.ts";
import { readBody } from "../../../../http/api_schemas.ts";
import { readJson } from "../../../../http/api_input.ts";
import { requireMember } from "../../../../chat/sessions.ts";

export const handler: Handlers<unknown, AppState> = {
  async PUT({ req, params, state }) {
    const member = requireMember(state, state.accounts.policy);
    const { messageId } = await readJson(req, readBody);
    await state.chat.rooms.markRead(member, params.room, messageId);
    return new Response(null, { status: 204 });
  },
};
