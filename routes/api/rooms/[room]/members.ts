// GET /api/rooms/{room}/members?q=: accounts of a room to mention (the composer's autocomplete).
import type { Handlers } from "../../../../runtime/mod.ts";
import type { AppState } from "../../../../http/app_state.ts";
import { roomMemberQuery } from "../../../../http/api_schemas.ts";
import { readQuery } from "../../../../http/api_input.ts";
import { requireMember } from "../../../../chat/sessions.ts";
import { jsonResponse } from "../../../../http/json_response.ts";

/** Members one answer lists. */
const LIMIT = 8;

export const handler: Handlers<unknown, AppState> = {
  async GET({ url, params, state }) {
    const member = requireMember(state, state.accounts.policy);
    const room = await state.chat.room(params.room, member);
    const { q } = readQuery(url, roomMemberQuery);
    // A guest in a public room (general holds everyone) finds only the people whose messages
    // it can read there anyway: a passer-by cannot list every account.
    const authorsOnly = !state.session?.account && room.kind === "public";
    const members = await state.chat.store.searchRoomAccounts(room.id, (q ?? "").trim(), LIMIT, {
      authorsOnly,
    });
    return jsonResponse({ members });
  },
};
