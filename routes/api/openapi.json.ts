// The OpenAPI document of the API.
import type { Handlers } from "../../runtime/mod.ts";
import { openApiDocument } from "../../http/openapi.ts";
import { jsonResponse } from "../../http/json_response.ts";

const document = openApiDocument();

export const handler: Handlers = {
  GET() {
    return jsonResponse(document, { headers: { "cache-control": "no-cache" } });
  },
};
