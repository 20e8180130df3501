// POST: upload one file to a room (multipart/form-data, part `file`), streamed to storage; it is sent by attaching it to a message.
import type { Handlers } from "../../../../runtime/mod.ts";
import type { AppState } from "../../../../http/app_state.ts";
import { requireMember } from "../../../../chat/sessions.ts";
import { jsonResponse } from "../../../../http/json_response.ts";
import { receiveUpload, refusedUpload } from "../../../../http/multipart_upload.ts";

export const handler: Handlers<unknown, AppState> = {
  async POST({ req, params, state }) {
    const member = requireMember(state, state.accounts.policy);
    const room = await state.chat.room(params.room, member);
    const upload = {
      maxBytes: state.config.files.maxUploadBytes,
      stallTimeoutMs: state.config.server.bodyTimeoutMs,
    };
    return await receiveUpload(req, upload, (file) => state.chat.files.upload(member, room, file))
      .then((attachment) => jsonResponse(attachment, { status: 201 }), refusedUpload);
  },
};
