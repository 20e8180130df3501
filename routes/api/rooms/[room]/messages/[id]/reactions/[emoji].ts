// PUT: react to a message with one emoji. DELETE: take the reaction back. Both idempotent.
import type { Handlers, RouteContext } from "../../../../../../../runtime/mod.ts";
import type { AppState } from "../../../../../../../http/app_state.ts";
import { messageIdParam } from "../../../../../../../http/api_schemas.ts";
import { readParam } from "../../../../../../../http/api_input.ts";
import { requireMember } from "../../../../../../../chat/sessions.ts";
import { jsonResponse } from "../../../../../../../http/json_response.ts";

async function react({ params, state }: RouteContext<unknown, AppState>, add: boolean) {
  const member = requireMember(state, state.accounts.policy);
  const room = await state.chat.room(params.room, member);
  const id = readParam(params.id, messageIdParam);
  // The router hands parameters over percent-decoded.
  return jsonResponse(await state.chat.react(member, room, id, { emoji: params.emoji, add }));
}

export const handler: Handlers<unknown, AppState> = {
  PUT: (ctx) => react(ctx, true),
  DELETE: (ctx) => react(ctx, false),
};
