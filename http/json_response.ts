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

// The bytes of answers shared by many readers, by the answer object (a shared read's result).
const serialized = new WeakMap<object, Uint8Array<ArrayBuffer>>();

/** The JSON bytes of an answer shared by many readers, serialized once (see below). */
export function sharedBody(data: object): Uint8Array<ArrayBuffer> {
  let body = serialized.get(data);
  if (!body) {
    body = encoder.encode(JSON.stringify(data));
    serialized.set(data, body);
  }
  return body;
}

/**
 * A JSON response for an object that many requests answer with at once (readers woken by the
 * same change share one page): it is serialized once, however many readers it answers.
 */
export function sharedJsonResponse(data: object): Response {
  const body = sharedBody(data);
  return new Response(body, {
    headers: { "content-type": "application/json", "content-length": String(body.byteLength) },
  });
}
