// GET /api/admin/settings: the instance's effective settings, secrets only as "set"/"not set" (admins only).
import type { Handlers } from "../../../runtime/mod.ts";
import type { AppState } from "../../../http/app_state.ts";
import { requireAdmin } from "../../../chat/moderation.ts";
import { jsonResponse } from "../../../http/json_response.ts";

export const handler: Handlers<unknown, AppState> = {
  GET({ state }) {
    requireAdmin(state);
    return jsonResponse(state.moderation.settings());
  },
};
