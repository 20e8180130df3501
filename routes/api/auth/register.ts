// POST /api/auth/register: the current guest (or a new member) becomes an account.
import type { Handlers } from "../../../runtime/mod.ts";
import type { AppState } from "../../../chat/app_state.ts";
import { registerBody } from "../../../chat/api_schemas.ts";
import { readJson } from "../../../chat/api_input.ts";
import { jsonResponse } from "../../../chat/json_response.ts";
import { clientAddress } from "../../../chat/client_address.ts";
import { meOf } from "../../../chat/me.ts";

export const handler: Handlers<unknown, AppState> = {
  async POST({ req, state, hono }) {
    const input = await readJson(req, registerBody);
    const { session } = await state.accounts.register(hono, state.session, {
      ...input,
      address: clientAddress(hono, state.config.proxyHops),
    });
    return jsonResponse(meOf(session), { status: 201 });
  },
};
