// DELETE /api/admin/rooms/{room} {confirm: slug}: deletes a room with its messages and files (admins only).
import type { Handlers } from "../../../../runtime/mod.ts";
import type { AppState } from "../../../../http/app_state.ts";
import { readJson } from "../../../../http/api_input.ts";
import { deleteRoomBody } from "../../../../http/admin_schemas.ts";
import { requireAdmin } from "../../../../chat/moderation.ts";

export const handler: Handlers<unknown, AppState> = {
  async DELETE({ req, params, state }) {
    const admin = requireAdmin(state);
    const { confirm } = await readJson(req, deleteRoomBody);
    await state.moderation.deleteRoom(admin, params.room, confirm);
    return new Response(null, { status: 204 });
  },
};
