// PATCH: edit one's own message. DELETE: delete a message (author, admin or room owner).
import type { Handlers } from "../../../../../runtime/mod.ts";
import type { AppState } from "../../../../../http/app_state.ts";
import { editMessageBody, messageIdParam } from "../../../../../http/api_schemas.ts";
import { readJson, readParam } from "../../../../../http/api_input.ts";
import { requireMember } from "../../../../../chat/sessions.ts";
import { jsonResponse } from "../../../../../http/json_response.ts";

export const handler: Handlers<unknown, AppState> = {
  async PATCH({ req, params, state }) {
    const member = requireMember(state, state.accounts.policy);
    const room = await state.chat.room(params.room, member);
    const id = readParam(params.id, messageIdParam);
    const input = await readJson(req, editMessageBody);
    const isAccount = Boolean(state.session?.account);
    return jsonResponse(await state.chat.edit(member, room, id, input, isAccount));
  },

  async DELETE({ params, state }) {
    const member = requireMember(state, state.accounts.policy);
    const room = await state.chat.room(params.room, member);
    const id = readParam(params.id, messageIdParam);
    const actor = { member, isAdmin: state.session?.account?.isAdmin ?? false };
    return jsonResponse(await state.chat.remove(actor, room, id));
  },
};
