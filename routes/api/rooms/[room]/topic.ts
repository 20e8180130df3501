// PUT /api/rooms/{room}/topic: sets a room's topic (members of the room with an account).
import type { Handlers } from "../../../../runtime/mod.ts";
import type { AppState } from "../../../../http/app_state.ts";
import { topicBody } from "../../../../http/api_schemas.ts";
import { readJson } from "../../../../http/api_input.ts";
import { requireMember } from "../../../../chat/sessions.ts";
import { jsonResponse } from "../../../../http/json_response.ts";

export const handler: Handlers<unknown, AppState> = {
  async PUT({ req, params, state }) {
    const member = requireMember(state, state.accounts.policy);
    const { topic } = await readJson(req, topicBody);
    const isAccount = Boolean(state.session?.account);
    return jsonResponse(await state.chat.rooms.setTopic(member, params.room, { topic, isAccount }));
  },
};
