// GET /api/admin/rooms: every public and private room with member and message counts (admins only).
import type { Handlers } from "../../../runtime/mod.ts";
import type { AppState } from "../../../http/app_state.ts";
import { requireAdmin } from "../../../chat/moderation.ts";
import { jsonResponse } from "../../../http/json_response.ts";

export const handler: Handlers<unknown, AppState> = {
  async GET({ state }) {
    requireAdmin(state);
    return jsonResponse({ rooms: await state.moderation.rooms() });
  },
};
