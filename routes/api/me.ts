// GET: the member of this session. PATCH: change its name.
import type { Handlers } from "../../runtime/mod.ts";
import type { AppState } from "../../chat/app_state.ts";
import { renameBody } from "../../chat/api_schemas.ts";
import { readJson } from "../../chat/api_input.ts";
import { requireMember } from "../../chat/sessions.ts";
import { jsonResponse } from "../../chat/json_response.ts";

export const handler: Handlers<unknown, AppState> = {
  GET({ state }) {
    return jsonResponse(requireMember(state));
  },

  async PATCH({ req, state }) {
    const member = requireMember(state);
    const { name } = await readJson(req, renameBody);
    return jsonResponse(await state.chat.rename(member, name));
  },
};
