// What a reply quotes of the message it answers: the same rule on the server and in the browser.

const EXCERPT_CHARS = 100;

/** At most 100 characters of a text, on one line, with "…" where it was cut. */
export function excerptOf(body: string): string {
  const line = body.replace(/\s+/g, " ").trim();
  const chars = Array.from(line);
  return chars.length <= EXCERPT_CHARS ? line : chars.slice(0, EXCERPT_CHARS - 1).join("") + "…";
}
