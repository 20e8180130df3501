// PUT /api/auth/password: changes the password (the current one is required); other sessions end.
import type { Handlers } from "../../../runtime/mod.ts";
import type { AppState } from "../../../http/app_state.ts";
import { passwordBody } from "../../../http/api_schemas.ts";
import { readJson } from "../../../http/api_input.ts";
import { requireMember } from "../../../chat/sessions.ts";
import { jsonResponse } from "../../../http/json_response.ts";

export const handler: Handlers<unknown, AppState> = {
  async PUT({ req, state }) {
    requireMember(state);
    const input = await readJson(req, passwordBody);
    const ended = await state.accounts.changePassword(state.session!, input);
    return jsonResponse({ endedOtherSessions: ended });
  },
};
