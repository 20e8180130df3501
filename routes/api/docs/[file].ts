// GET /api/docs/{file}: Swagger UI's script, styles and icon.
import type { Handlers } from "../../../runtime/mod.ts";
import { docsAsset } from "../../../http/api_docs.ts";
import { ChatError } from "../../../chat/chat_error.ts";

export const handler: Handlers = {
  async GET({ req, params }) {
    const response = await docsAsset(req, params.file);
    if (!response) throw new ChatError(404, "not_found", "There is no such documentation file.");
    return response;
  },
};
