// GET /api/admin/invites: the invitations not used and not expired (admins only).
import type { Handlers } from "../../../runtime/mod.ts";
import type { AppState } from "../../../http/app_state.ts";
import { requireAdmin } from "../../../chat/moderation.ts";
import { jsonResponse } from "../../../http/json_response.ts";

export const handler: Handlers<unknown, AppState> = {
  async GET({ state }) {
    requireAdmin(state);
    return jsonResponse({ invites: await state.moderation.invites() });
  },
};
