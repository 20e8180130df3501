// GET: a room's messages (latest, older, around one, newer, or changed since a change number,
// with long polling). POST: send one.
import type { Handlers } from "../../../../runtime/mod.ts";
import type { AppState } from "../../../../http/app_state.ts";
import { historyQuery, newMessageBody } from "../../../../http/api_schemas.ts";
import { readJson, readQuery } from "../../../../http/api_input.ts";
import { requireMember } from "../../../../chat/sessions.ts";
import { jsonResponse, sharedJsonResponse } from "../../../../http/json_response.ts";
import { clientAddress } from "../../../../http/client_address.ts";

export const handler: Handlers<unknown, AppState> = {
  async GET({ req, url, params, state, hono }) {
    if (!state.accounts.policy.guests) requireMember(state, state.accounts.policy);
    const query = readQuery(url, historyQuery);
    const room = await state.chat.room(params.room, state.member);
    // Only a long poll needs to know when the reader goes away (reading req.signal has a cost).
    const signal = query.wait ? req.signal : undefined;
    const address = query.wait ? clientAddress(hono, state.config.proxyHops) : undefined;
    const page = await state.chat.read(room, { ...query, signal, address });
    // Readers woken by one change share one page: serialize it once for all of them.
    return sharedJsonResponse(page);
  },

  async POST({ req, params, state }) {
    const member = requireMember(state, state.accounts.policy);
    const room = await state.chat.room(params.room, member);
    const input = await readJson(req, newMessageBody);
    const { message, created } = await state.chat.send(
      member,
      room,
      input,
      Boolean(state.session?.account),
    );
    return jsonResponse(message, { status: created ? 201 : 200 });
  },
};
