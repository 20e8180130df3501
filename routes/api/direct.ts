// POST /api/direct: the direct room with another member (`{"memberId"}`), created the first time.
import type { Handlers } from "../../runtime/mod.ts";
import type { AppState } from "../../http/app_state.ts";
import { memberRefBody } from "../../http/api_schemas.ts";
import { readJson } from "../../http/api_input.ts";
import { requireMember } from "../../chat/sessions.ts";
import { jsonResponse } from "../../http/json_response.ts";

export const handler: Handlers<unknown, AppState> = {
  async POST({ req, state }) {
    const member = requireMember(state, state.accounts.policy);
    const { memberId } = await readJson(req, memberRefBody);
    return jsonResponse(await state.chat.rooms.direct(member, memberId));
  },
};
