// The markdown dialect of messages: what a body's text means, as markdown-it's token stream.
// The same parse runs on the server and in the browser; components/markdown.tsx renders it.
import MarkdownIt, { type Token } from "markdown-it";

export type { Token };

const MAX_NESTING = 12;
const SAFE_HREF = /^(https?:|mailto:)/i;

/** Whether a link may be followed: web and mail addresses only. */
export function isSafeHref(url: string): boolean {
  return SAFE_HREF.test(url);
}

/**
 * CommonMark as people type it in chats, plus ~~strike~~ and bare web and mail addresses as
 * links. Not in the dialect: raw HTML (shown as typed), indented code (people indent prose;
 * code is fenced), link reference definitions (they would vanish), character references
 * (`&amp;` stays as typed), underlined headings (a line followed by `---` is a line and a
 * rule) and tables. A single newline is a line break. markdown-it stops parsing at
 * `maxNesting` (which keeps hostile input such as `>>>>…` or `- - - …` linear); a body nested
 * that deep is shown as plain text instead, so that nothing of it is lost.
 */
const md = new MarkdownIt("commonmark", {
  html: false,
  linkify: true,
  breaks: true,
  maxNesting: MAX_NESTING,
})
  .enable(["strikethrough", "linkify"])
  .disable(["code", "html_block", "html_inline", "reference", "entity", "lheading"]);

/** Plain text with line breaks and links: bodies nested too deep for {@link md}. */
const plain = new MarkdownIt("zero", { linkify: true, breaks: true }).enable([
  "newline",
  "linkify",
]);

for (const parser of [md, plain]) {
  // Anything but web and mail addresses is not a link at all, so it stays the text typed.
  parser.validateLink = isSafeHref;
  // `www.example.com` and `example.com` are links too, as before formatting.
  parser.linkify.set({ fuzzyLink: true });
}

/**
 * Control characters other than tab and newline (only in messages stored before they were
 * refused) are shown as their visible symbols (␇, ␀…).
 */
export function showControls(text: string): string {
  return text.replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u0008\u000b-\u001f\u007f]/g,
    (c) => c === "\u007f" ? "\u2421" : String.fromCharCode(0x2400 + c.charCodeAt(0)),
  );
}

const cache = new Map<string, Token[]>();
const CACHE_SIZE = 1000;

/**
 * Parses a message body (markdown as typed in chats) into markdown-it's block tokens (inline
 * content in each `inline` token's children). Cached by body (the thousand most recently
 * used): pages and the chat render the same bodies again and again. Do not change the tokens.
 */
export function parseBody(body: string): Token[] {
  const hit = cache.get(body);
  if (hit) {
    cache.delete(body);
    cache.set(body, hit);
    return hit;
  }
  const text = showControls(body);
  let tokens = md.parse(text, {});
  if (tokens.some((token) => token.level >= MAX_NESTING - 1)) tokens = plain.parse(text, {});
  cache.set(body, tokens);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return tokens;
}
