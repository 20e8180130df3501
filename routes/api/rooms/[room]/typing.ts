// GET: who is typing in a room (a long poll with since and wait). POST: I am typing.
// Ephemeral: kept in memory and passed between instances, never stored.
import type { Handlers } from "../../../../runtime/mod.ts";
import type { AppState } from "../../../../http/app_state.ts";
import { typingQuery } from "../../../../http/api_schemas.ts";
import { readQuery } from "../../../../http/api_input.ts";
import { requireMember } from "../../../../chat/sessions.ts";
import { jsonResponse } from "../../../../http/json_response.ts";
import { clientAddress } from "../../../../http/client_address.ts";

export const handler: Handlers<unknown, AppState> = {
  async GET({ req, url, params, state, hono }) {
    if (!state.accounts.policy.guests) requireMember(state, state.accounts.policy);
    const query = readQuery(url, typingQuery);
    const room = await state.chat.room(params.room, state.member);
    const signal = query.wait ? req.signal : undefined;
    const address = query.wait ? clientAddress(hono, state.config.proxyHops) : undefined;
    const answer = await state.chat.typing.read(room, {
      ...query,
      viewer: state.member,
      signal,
      address,
    });
    return jsonResponse(answer);
  },

  async POST({ params, state }) {
    const member = requireMember(state, state.accounts.policy);
    const room = await state.chat.room(params.room, member);
    await state.chat.typing.report(member, room);
    return new Response(null, { status: 204 });
  },
};
