// GET: my rooms (with unread counts) and public rooms to join. POST: create a room.
import type { Handlers } from "../../../runtime/mod.ts";
import type { AppState } from "../../../chat/app_state.ts";
import { newRoomBody } from "../../../chat/api_schemas.ts";
import { readJson } from "../../../chat/api_input.ts";
import { requireMember } from "../../../chat/sessions.ts";
import { jsonResponse } from "../../../chat/json_response.ts";

export const handler: Handlers<unknown, AppState> = {
  async GET({ state }) {
    const member = requireMember(state, state.accounts.policy);
    return jsonResponse(await state.chat.rooms.list(member));
  },

  async POST({ req, state }) {
    const member = requireMember(state, state.accounts.policy);
    const input = await readJson(req, newRoomBody);
    return jsonResponse(await state.chat.rooms.create(member, input), { status: 201 });
  },
};
