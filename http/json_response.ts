// JSON responses with a Content-Length, so that compression skips the small ones (most API answers).

const encoder = new TextEncoder();

/** A JSON response; its length is known, so tiny bodies are not gzipped at a loss. */
export function jsonResponse(data: unknown, init: ResponseInit = {}): Response {
  const body = encoder.encode(JSON.stringify(data));
  const headers = new Headers(init.headers);
  headers.set("content-type", "application/json");
  headers.set("content-length", String(body.byteLength));
  return new Response(body, { ...init, headers });
}
