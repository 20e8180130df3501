// GET /api/admin/audit?before=: the audit log of admin actions, newest first, paged (admins only).
import type { Handlers } from "../../../runtime/mod.ts";
import type { AppState } from "../../../http/app_state.ts";
import { readQuery } from "../../../http/api_input.ts";
import { auditQuery } from "../../../http/admin_schemas.ts";
import { requireAdmin } from "../../../chat/moderation.ts";
import { jsonResponse } from "../../../http/json_response.ts";

export const handler: Handlers<unknown, AppState> = {
  async GET({ url, state }) {
    requireAdmin(state);
    const { before } = readQuery(url, auditQuery);
    return jsonResponse({ entries: await state.moderation.auditLog(before) });
  },
};
