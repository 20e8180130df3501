// POST /api/admin/members/{id}/ban: bans a member (their sessions end at once). DELETE: lifts the ban.
import type { Handlers } from "../../../../../runtime/mod.ts";
import type { AppState } from "../../../../../http/app_state.ts";
import { readParam } from "../../../../../http/api_input.ts";
import { memberIdParam } from "../../../../../http/admin_schemas.ts";
import { requireAdmin } from "../../../../../chat/moderation.ts";
import { jsonResponse } from "../../../../../http/json_response.ts";

export const handler: Handlers<unknown, AppState> = {
  async POST({ params, state }) {
    const admin = requireAdmin(state);
    const id = readParam(params.id, memberIdParam);
    return jsonResponse(await state.moderation.ban(admin, id));
  },

  async DELETE({ params, state }) {
    const admin = requireAdmin(state);
    const id = readParam(params.id, memberIdParam);
    await state.moderation.unban(admin, id);
    return new Response(null, { status: 204 });
  },
};
