// GET /api/members?q=: find members by name or username (to invite them, or to message them);
// guests only among the people they share a room with.
import type { Handlers } from "../../runtime/mod.ts";
import type { AppState } from "../../http/app_state.ts";
import { readQuery } from "../../http/api_input.ts";
import { requireMember } from "../../chat/sessions.ts";
import { jsonResponse } from "../../http/json_response.ts";
import { memberSearchQuery } from "../../http/api_schemas.ts";

export const handler: Handlers<unknown, AppState> = {
  async GET({ url, state }) {
    const me = requireMember(state, state.accounts.policy);
    const { q } = readQuery(url, memberSearchQuery);
    const store = state.chat.store;
    // Accounts find everyone. A guest finds only the people it shares a room with, besides
    // the default room that everyone is in: a passer-by cannot list every account.
    const scope = state.session?.account
      ? {}
      : { sharingRoomWith: me.id, exceptRoomId: (await store.getRoom("general"))?.id };
    return jsonResponse({ members: await store.searchMembers(q.trim(), 10, scope) });
  },
};
