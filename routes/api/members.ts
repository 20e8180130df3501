// GET /api/members?q=: find members by name or username (to invite them, or to message them).
import type { Handlers } from "../../runtime/mod.ts";
import type { AppState } from "../../chat/app_state.ts";
import { readQuery } from "../../chat/api_input.ts";
import { requireMember } from "../../chat/sessions.ts";
import { jsonResponse } from "../../chat/json_response.ts";
import { memberSearchQuery } from "../../chat/api_schemas.ts";

export const handler: Handlers<unknown, AppState> = {
  async GET({ url, state }) {
    requireMember(state, state.accounts.policy);
    const { q } = readQuery(url, memberSearchQuery);
    return jsonResponse({ members: await state.chat.store.searchMembers(q.trim(), 10) });
  },
};
