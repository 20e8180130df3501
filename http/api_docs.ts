// Interactive API documentation: Swagger UI from the swagger-ui-dist package, served from our origin.
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { contentHash, serveFile } from "../runtime/static_files.ts";

// A Map, not a plain object: the name comes from the URL ("constructor" must not be found).
const FILES = new Map<string, string>([
  ["swagger-ui.css", "text/css; charset=utf-8"],
  ["swagger-ui-bundle.js", "text/javascript; charset=utf-8"],
  ["favicon-32x32.png", "image/png"],
]);

/** Content Security Policy of the docs page: Swagger UI sets inline styles. */
export const DOCS_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

let folder: string | undefined;
const cache = new Map<string, { body: Uint8Array; etag: string; type: string }>();

/** Serves one Swagger UI file, or returns null when the name is not one of them. */
export async function docsAsset(request: Request, name: string): Promise<Response | null> {
  const type = FILES.get(name);
  if (!type) return null;
  let file = cache.get(name);
  if (!file) {
    folder ??= dirname(
      createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"),
    );
    const body = await Deno.readFile(`${folder}/${name}`);
    const etag = `"${await contentHash(body)}"`;
    file = { body, etag, type };
    cache.set(name, file);
  }
  return serveFile(request, file, false);
}

/** The docs page: Swagger UI pointed at `/api/openapi.json`. */
export function docsPage(): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Parley API</title>
<link rel="icon" href="/api/docs/favicon-32x32.png">
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api_docs.js"></script>
</body>
</html>
`;
}
