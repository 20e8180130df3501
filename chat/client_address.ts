// The address a request came from, for per-address rate limits.
import type { Context } from "hono";
import { getConnInfo } from "hono/deno";

/** The peer's IP address, or "unknown" (e.g. requests made in tests without a socket). */
export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}
