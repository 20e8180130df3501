// PUT /api/admin/members/{id}/admin {admin}: makes an account an admin, or not (admins only).
import type { Handlers } from "../../../../../runtime/mod.ts";
import type { AppState } from "../../../../../http/app_state.ts";
import { readJson, readParam } from "../../../../../http/api_input.ts";
import { memberIdParam, setAdminBody } from "../../../../../http/admin_schemas.ts";
import { requireAdmin } from "../../../../../chat/moderation.ts";

export const handler: Handlers<unknown, AppState> = {
  async PUT({ req, params, state }) {
    const admin = requireAdmin(state);
    const id = readParam(params.id, memberIdParam);
    const input = await readJson(req, setAdminBody);
    await state.moderation.setAdmin(admin, id, input.admin);
    return new Response(null, { status: 204 });
  },
};
