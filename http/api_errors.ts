// API error responses: `{"error": {"code", "message"}}` with the right status and headers.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { StoreUnavailableError } from "../db/store.ts";
import { ChatError } from "../chat/chat_error.ts";
import { jsonResponse } from "./json_response.ts";

const CODES: Record<number, [string, string]> = {
  400: ["invalid_request", "The request is not valid."],
  401: ["unauthenticated", "You need a valid session; reload the page."],
  403: ["forbidden", "This request is not allowed."],
  404: ["not_found", "There is nothing here."],
  405: ["method_not_allowed", "This method is not allowed here."],
  413: ["too_large", "The request is too large."],
  415: ["unsupported_media_type", "Send JSON with Content-Type: application/json."],
  429: ["rate_limited", "Too many requests; slow down."],
  500: ["internal_error", "Something went wrong on the server."],
  503: ["unavailable", "The service is unavailable; try again shortly."],
};

/** A JSON error response. */
export function apiError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return jsonResponse({ error: { code, message } }, {
    status,
    headers: { "cache-control": "no-store", ...headers },
  });
}

/** The HTTP status of an error thrown by chat code or the store. */
export function errorStatus(error: unknown): number | undefined {
  if (error instanceof ChatError) return error.status;
  if (error instanceof StoreUnavailableError) return 503;
  return undefined;
}

/** Seconds after which a request refused because the database is unavailable may succeed. */
const UNAVAILABLE_RETRY_S = 2;

/** Headers an error's answer carries, API or page: `Retry-After` for rate limits and 503. */
export function errorHeaders(error: unknown): Record<string, string> {
  if (error instanceof StoreUnavailableError) {
    return { "retry-after": String(UNAVAILABLE_RETRY_S) };
  }
  if (error instanceof ChatError && error.retryAfter) {
    return { "retry-after": String(error.retryAfter) };
  }
  return {};
}

/** The JSON error response for anything thrown while answering an API request. */
export function apiErrorFor(status: number, error: unknown): Response {
  if (error instanceof StoreUnavailableError) {
    return apiError(
      503,
      "unavailable",
      "The database is unavailable; try again shortly.",
      errorHeaders(error),
    );
  }
  if (error instanceof ChatError) {
    return apiError(error.status, error.code, error.message, errorHeaders(error));
  }
  const [code, fallback] = CODES[status] ?? CODES[500];
  const message = error instanceof HTTPException && status < 500 && error.message
    ? error.message
    : fallback;
  return apiError(status, code, message);
}

/** The runtime's error hook: JSON for `/api/…`, the error pages elsewhere. */
export function errorResponse(
  c: Context,
  status: number,
  error: unknown,
): Response | undefined {
  if (!c.req.path.startsWith("/api/")) return undefined;
  return apiErrorFor(status, error);
}
