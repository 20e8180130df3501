// GET: the member of this session. PATCH: change its name.
import type { Handlers } from "../../runtime/mod.ts";
import type { AppState } from "../../http/app_state.ts";
import { renameBody } from "../../http/api_schemas.ts";
import { readJson } from "../../http/api_input.ts";
import { requireMember } from "../../chat/sessions.ts";
import { meOf } from "../../http/me.ts";
import { jsonResponse } from "../../http/json_response.ts";

export const handler: Handlers<unknown, AppState> = {
  GET({ state }) {
    requireMember(state);
    return jsonResponse(meOf(state.session!));
  },

  async PATCH({ req, state }) {
    const member = requireMember(state, state.accounts.policy);
    const { name } = await readJson(req, renameBody);
    return jsonResponse(await state.chat.rename(member, name));
  },
};
