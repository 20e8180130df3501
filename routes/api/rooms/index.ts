// GET: my rooms (with unread counts) and public rooms to join (?q= finds them by name). POST: create a room.
import type { Handlers } from "../../../runtime/mod.ts";
import type { AppState } from "../../../http/app_state.ts";
import { newRoomBody, roomListQuery } from "../../../http/api_schemas.ts";
import { readJson, readQuery } from "../../../http/api_input.ts";
import { requireMember } from "../../../chat/sessions.ts";
import { jsonResponse } from "../../../http/json_response.ts";

export const handler: Handlers<unknown, AppState> = {
  async GET({ state, url }) {
    const member = requireMember(state, state.accounts.policy);
    const { q } = readQuery(url, roomListQuery);
    return jsonResponse(await state.chat.rooms.list(member, { query: q }));
  },

  async POST({ req, state }) {
    const member = requireMember(state, state.accounts.policy);
    const input = await readJson(req, newRoomBody);
    const room = await state.chat.rooms.create(member, input, { guest: !state.session?.account });
    return jsonResponse(room, { status: 201 });
  },
};
