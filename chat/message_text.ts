// Message text: the rules for a body (its display is markdown: chat/markdown.ts).
import { ChatError } from "./chat_error.ts";
import { replaceShortcodes } from "./emoji_shortcodes.ts";
import {
  hasControlCharacters,
  looksBlank,
  MAX_MARKS_PER_CHARACTER,
  mostMarksInAGrapheme,
  utf8Length,
} from "./typed_text.ts";

/**
 * Normalizes a body for storage: line breaks become `\n`, blank lines at the start and
 * white space at the end are dropped. Returns null when nothing visible is left.
 */
export function normalizeBody(input: string): string | null {
  const body = input.replace(/\r\n?/g, "\n").replace(/^\s*\n/, "").trimEnd();
  return body.trim() === "" ? null : body;
}

/**
 * Checks a body against the rules and returns it normalized for storage, with `:shortcode:`
 * emoji replaced (chat/emoji_shortcodes.ts): no control
 * characters but tab and newline (400 `invalid_message`), something visible (400
 * `empty_message`), at most `maxChars` characters and `4 × maxChars` UTF-8 bytes (400
 * `message_too_long`), at most a few combining marks per character (400 `invalid_message`).
 */
export function checkBody(input: string, maxChars: number): string {
  const unified = input.replace(/\r\n?/g, "\n");
  if (hasControlCharacters(unified)) {
    throw new ChatError(
      400,
      "invalid_message",
      "A message cannot contain control characters (such as NUL); only text, tabs and line breaks.",
    );
  }
  const normalized = normalizeBody(unified);
  // Sizes first (before any other work on the text), then again once shortcodes are emoji.
  if (normalized !== null) checkSize(normalized, maxChars);
  const body = normalized === null ? null : replaceShortcodes(normalized);
  if (body === null || looksBlank(body)) {
    throw new ChatError(400, "empty_message", "A message cannot be blank.");
  }
  checkSize(body, maxChars);
  if (mostMarksInAGrapheme(body) > MAX_MARKS_PER_CHARACTER) {
    throw new ChatError(
      400,
      "invalid_message",
      `A character can carry at most ${MAX_MARKS_PER_CHARACTER} accents or other combining marks.`,
    );
  }
  return body;
}

/** At most `maxChars` code points and `4 × maxChars` UTF-8 bytes, else 400 `message_too_long`. */
function checkSize(body: string, maxChars: number): void {
  const length = bodyLength(body);
  if (length > maxChars || utf8Length(body) > 4 * maxChars) {
    throw new ChatError(
      400,
      "message_too_long",
      `A message can be at most ${maxChars} characters (this one has ${length}).`,
    );
  }
}

/** Length in characters (Unicode code points), the unit of the message limit. */
export function bodyLength(body: string): number {
  let count = 0;
  for (const _ of body) count++;
  return count;
}
