// POST /api/admin/rooms/{room}/archive: makes a room read-only (admins only).
import type { Handlers } from "../../../../../runtime/mod.ts";
import type { AppState } from "../../../../../http/app_state.ts";
import { requireAdmin } from "../../../../../chat/moderation.ts";
import { jsonResponse } from "../../../../../http/json_response.ts";

export const handler: Handlers<unknown, AppState> = {
  async POST({ params, state }) {
    const admin = requireAdmin(state);
    return jsonResponse(await state.moderation.archiveRoom(admin, params.room));
  },
};
