// GET/HEAD: an uploaded file (or with ?preview its preview image), for those who may read its room; the id decides, the name is for people.
import type { Handlers } from "../../../runtime/mod.ts";
import type { AppState } from "../../../http/app_state.ts";
import { requireMember } from "../../../chat/sessions.ts";
import { ChatError } from "../../../chat/chat_error.ts";
import { fileResponse } from "../../../http/file_response.ts";

const FILE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export const handler: Handlers<unknown, AppState> = {
  async GET({ req, url, params, state }) {
    if (!state.accounts.policy.guests) requireMember(state, state.accounts.policy);
    if (!FILE_ID.test(params.id)) {
      throw new ChatError(404, "file_not_found", "There is no such file.");
    }
    const file = await state.chat.files.open(params.id, state.member);
    return await fileResponse(req, state.chat.store, file, {
      preview: url.searchParams.has("preview"),
    });
  },
};
