// POST /api/auth/login: logs in with username and password; the session is replaced.
import type { Handlers } from "../../../runtime/mod.ts";
import type { AppState } from "../../../chat/app_state.ts";
import { loginBody } from "../../../chat/api_schemas.ts";
import { readJson } from "../../../chat/api_input.ts";
import { jsonResponse } from "../../../chat/json_response.ts";
import { clientAddress } from "../../../chat/client_address.ts";
import { meOf } from "../../../chat/me.ts";

export const handler: Handlers<unknown, AppState> = {
  async POST({ req, state, hono }) {
    const input = await readJson(req, loginBody);
    const session = await state.accounts.login(hono, state.session, {
      ...input,
      address: clientAddress(hono, state.config.proxyHops),
    });
    return jsonResponse(meOf(session));
  },
};
