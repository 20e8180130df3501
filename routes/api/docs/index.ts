// GET /api/docs: interactive documentation of the API.
import type { Handlers } from "../../../runtime/mod.ts";
import { DOCS_CSP, docsPage } from "../../../http/api_docs.ts";

const page = docsPage();

export const handler: Handlers = {
  GET() {
    return new Response(page, {
      headers: {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": DOCS_CSP,
        "cache-control": "no-cache",
      },
    });
  },
};
