// GET /api/search?q=: messages the reader may see that match the search box's text, newest first.
import type { Handlers } from "../../runtime/mod.ts";
import type { AppState } from "../../http/app_state.ts";
import { readQuery } from "../../http/api_input.ts";
import { searchQuery } from "../../http/api_schemas.ts";
import { requireMember } from "../../chat/sessions.ts";
import { jsonResponse } from "../../http/json_response.ts";

export const handler: Handlers<unknown, AppState> = {
  async GET({ url, state }) {
    const member = requireMember(state, state.accounts.policy);
    const query = readQuery(url, searchQuery);
    return jsonResponse(await state.chat.search(member, query));
  },
};
