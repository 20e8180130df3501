// GET /api/admin/members?q=: members (accounts and guests) with last seen and message counts (admins only).
import type { Handlers } from "../../../runtime/mod.ts";
import type { AppState } from "../../../http/app_state.ts";
import { readQuery } from "../../../http/api_input.ts";
import { adminMemberQuery } from "../../../http/admin_schemas.ts";
import { requireAdmin } from "../../../chat/moderation.ts";
import { jsonResponse } from "../../../http/json_response.ts";

export const handler: Handlers<unknown, AppState> = {
  async GET({ url, state }) {
    requireAdmin(state);
    const { q } = readQuery(url, adminMemberQuery);
    return jsonResponse({ members: await state.moderation.members(q) });
  },
};
