// The address a request came from, for per-address rate limits.
import type { Context } from "hono";
import { getConnInfo } from "hono/deno";

/**
 * The client's IP address: with `trustProxy`, the first `X-Forwarded-For` entry (set it only
 * behind a proxy that writes that header); else the peer's address, or "unknown" (requests made
 * in tests without a socket).
 */
export function clientAddress(c: Context, trustProxy = false): string {
  const forwarded = trustProxy && c.req.header("x-forwarded-for")?.split(",")[0].trim();
  if (forwarded) return forwarded;
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}
