// POST /api/auth/login: logs in with username and password; the session is replaced.
import type { Handlers } from "../../../runtime/mod.ts";
import type { AppState } from "../../../http/app_state.ts";
import { loginBody } from "../../../http/api_schemas.ts";
import { readJson } from "../../../http/api_input.ts";
import { jsonResponse } from "../../../http/json_response.ts";
import { clientAddress } from "../../../http/client_address.ts";
import { meOf } from "../../../http/me.ts";

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
