// POST /api/rooms/{room}/invite: a member of the room adds someone (`{"memberId"}`).
import type { Handlers } from "../../../../runtime/mod.ts";
import type { AppState } from "../../../../http/app_state.ts";
import { memberRefBody } from "../../../../http/api_schemas.ts";
import { readJson } from "../../../../http/api_input.ts";
import { requireMember } from "../../../../chat/sessions.ts";
import { jsonResponse } from "../../../../http/json_response.ts";

export const handler: Handlers<unknown, AppState> = {
  async POST({ req, params, state }) {
    const member = requireMember(state, state.accounts.policy);
    const { memberId } = await readJson(req, memberRefBody);
    return jsonResponse(await state.chat.rooms.invite(member, params.room, memberId));
  },
};
