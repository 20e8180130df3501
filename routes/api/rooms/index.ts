// GET: my rooms (with unread counts; a long poll with since+wait) and public rooms to join (?q=). POST: create a room.
import type { Handlers } from "../../../runtime/mod.ts";
import type { AppState } from "../../../http/app_state.ts";
import { newRoomBody, roomListQuery } from "../../../http/api_schemas.ts";
import { readJson, readQuery } from "../../../http/api_input.ts";
import { requireMember } from "../../../chat/sessions.ts";
import { jsonResponse } from "../../../http/json_response.ts";
import { clientAddress } from "../../../http/client_address.ts";

export const handler: Handlers<unknown, AppState> = {
  async GET({ req, state, url, hono }) {
    const member = requireMember(state, state.accounts.policy);
    const { q, since, wait } = readQuery(url, roomListQuery);
    const waiting = wait !== undefined && wait > 0 && since !== undefined;
    return jsonResponse(
      await state.chat.rooms.list(member, {
        query: q,
        since,
        wait,
        signal: waiting ? req.signal : undefined,
        address: waiting ? clientAddress(hono, state.config.proxyHops) : undefined,
      }),
    );
  },

  async POST({ req, state }) {
    const member = requireMember(state, state.accounts.policy);
    const input = await readJson(req, newRoomBody);
    const room = await state.chat.rooms.create(member, input, { guest: !state.session?.account });
    return jsonResponse(room, { status: 201 });
  },
};
