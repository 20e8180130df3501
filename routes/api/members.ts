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
    const { q, notIn } = readQuery(url, memberSearchQuery);
    const store = state.chat.store;
    // Accounts find everyone. A guest finds only the people it shares a room with, besides
    // the default room that everyone is in: a passer-by cannot list every account.
    const scope = state.session?.account
      ? {}
      : { sharingRoomWith: me.id, exceptRoomId: (await store.getRoom("general"))?.id };
    // Filtered here rather than in the store: never the searcher, nor (with `notIn`, a room
    // the searcher can see, else 404) that room's members; accounts before guests.
    const leaveOut = new Set([me.id]);
    if (notIn) {
      const room = await state.chat.rooms.open(notIn, me);
      for (const member of await store.listRoomMembers(room.id)) leaveOut.add(member.id);
    }
    const found = await store.searchMembers(q.trim(), 10 + leaveOut.size, scope);
    const members = found.filter((m) => !leaveOut.has(m.id));
    members.sort((a, b) => Number(a.username === null) - Number(b.username === null));
    return jsonResponse({ members: members.slice(0, 10) });
  },
};
