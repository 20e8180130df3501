// POST /api/invites: an admin creates an invitation link for registration.
import type { Handlers } from "../../runtime/mod.ts";
import type { AppState } from "../../http/app_state.ts";
import { requireMember } from "../../chat/sessions.ts";
import { jsonResponse } from "../../http/json_response.ts";

export const handler: Handlers<unknown, AppState> = {
  async POST({ state, url }) {
    requireMember(state);
    const { token, expiresAt } = await state.accounts.invite(state.session);
    // Behind a proxy the request's origin may be an internal one: the public URL is right.
    const base = state.config.publicUrl ?? url.origin;
    const link = new URL(`/login?invite=${encodeURIComponent(token)}`, base).href;
    return jsonResponse({ token, url: link, expiresAt }, { status: 201 });
  },
};
