// PUT: give an image upload its preview (multipart/form-data, part `file`: PNG, JPEG or WebP, made in the browser).
import type { Handlers } from "../../../../../../runtime/mod.ts";
import type { AppState } from "../../../../../../http/app_state.ts";
import { requireMember } from "../../../../../../chat/sessions.ts";
import { MAX_PREVIEW_BYTES } from "../../../../../../chat/files.ts";
import { jsonResponse } from "../../../../../../http/json_response.ts";
import { receiveUpload, refusedUpload } from "../../../../../../http/multipart_upload.ts";

export const handler: Handlers<unknown, AppState> = {
  async PUT({ req, params, state }) {
    const member = requireMember(state, state.accounts.policy);
    const room = await state.chat.room(params.room, member);
    const upload = {
      maxBytes: MAX_PREVIEW_BYTES,
      stallTimeoutMs: state.config.server.bodyTimeoutMs,
    };
    return await receiveUpload(
      req,
      upload,
      (file) => state.chat.files.setPreview(member, room, params.id, file.content),
    ).then((attachment) => jsonResponse(attachment), refusedUpload);
  },
};
