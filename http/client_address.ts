// The address a request came from, for per-address rate limits, and whether it came over HTTPS.
import type { Context } from "hono";
import { getConnInfo } from "hono/deno";

/**
 * The entry a trusted proxy wrote in a comma-separated forwarding header: the `proxyHops`-th
 * from the right (1 = the right-most, appended by the proxy next to us; entries further left
 * are written by the client and cannot be trusted). With fewer entries, the left-most.
 * Undefined when `proxyHops` is 0 or the header is absent.
 */
export function forwardedEntry(header: string | undefined, proxyHops: number): string | undefined {
  if (proxyHops < 1 || !header) return undefined;
  const entries = header.split(",").map((entry) => entry.trim());
  return entries[Math.max(0, entries.length - proxyHops)] || undefined;
}

/**
 * The client's IP address: with `proxyHops` > 0 (`PARLEY_TRUST_PROXY`), the entry of
 * `X-Forwarded-For` that many from the right (see {@link forwardedEntry}); else the peer's
 * address, or "unknown" (requests made in tests without a socket).
 */
export function clientAddress(c: Context, proxyHops: number): string {
  let peer: string | undefined;
  try {
    peer = getConnInfo(c).remote.address;
  } catch {
    // No socket (a request made in a test).
  }
  return addressOf(c.req.header("x-forwarded-for"), peer, proxyHops);
}

/** {@link clientAddress} from the `X-Forwarded-For` header and the peer's address, if known. */
export function addressOf(
  forwardedFor: string | undefined,
  peer: string | undefined,
  proxyHops: number,
): string {
  return forwardedEntry(forwardedFor, proxyHops) ?? peer ?? "unknown";
}

/**
 * Whether the browser reached Parley over HTTPS: `publicUrl`'s scheme when set, else a
 * trusted proxy's `X-Forwarded-Proto` (the entry it wrote), else the request URL's scheme.
 */
export function isHttps(
  c: Context,
  options: { publicUrl?: string; proxyHops: number },
): boolean {
  if (options.publicUrl) return new URL(options.publicUrl).protocol === "https:";
  const forwarded = forwardedEntry(c.req.header("x-forwarded-proto"), options.proxyHops);
  if (forwarded) return forwarded.toLowerCase() === "https";
  return new URL(c.req.url).protocol === "https:";
}
