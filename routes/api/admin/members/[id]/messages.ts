// DELETE /api/admin/members/{id}/messages: erases every message of a member (admins only).
import type { Handlers } from "../../../../../runtime/mod.ts";
import type { AppState } from "../../../../../http/app_state.ts";
import { readParam } from "../../../../../http/api_input.ts";
import { memberIdParam } from "../../../../../http/admin_schemas.ts";
import { requireAdmin } from "../../../../../chat/moderation.ts";
import { jsonResponse } from "../../../../../http/json_response.ts";

export const handler: Handlers<unknown, AppState> = {
  async DELETE({ params, state }) {
    const admin = requireAdmin(state);
    const id = readParam(params.id, memberIdParam);
    return jsonResponse(await state.moderation.deleteMessages(admin, id));
  },
};
