// The OpenAPI document of the API.
import type { Handlers } from "../../runtime/mod.ts";
import { openApiDocument } from "../../chat/openapi.ts";

const document = openApiDocument();

export const handler: Handlers = {
  GET() {
    return Response.json(document, { headers: { "cache-control": "no-cache" } });
  },
};
