// Redirect targets: only paths on this site (no open redirects).

/** `next` when it is a local path like `/rooms/x`, else `/`. */
export function localPath(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.includes("\\")) return "/";
  return next;
}
