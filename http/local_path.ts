// Redirect targets: only paths on this site (no open redirects).

// Any origin will do: a target is local when resolving it against one keeps that origin.
const HERE = "http://parley.invalid";
// deno-lint-ignore no-control-regex
const CONTROL_OR_BACKSLASH = /[\u0000-\u001f\u007f-\u009f\\]/;

/**
 * `next` when it is a path on this site like `/rooms/x?y=1`, else `/`. The answer is the path
 * as the URL parser reads it (browsers drop tabs and line breaks, so those are refused first),
 * hence always a valid `Location`.
 */
export function localPath(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || CONTROL_OR_BACKSLASH.test(next)) return "/";
  let url: URL;
  try {
    url = new URL(next, HERE);
  } catch {
    return "/";
  }
  if (url.origin !== HERE || url.pathname.startsWith("//")) return "/";
  return url.pathname + url.search + url.hash;
}
