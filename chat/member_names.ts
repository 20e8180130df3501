// Member names: friendly generated names for guests, and the rules for chosen ones.
import { animals, colors, uniqueNamesGenerator } from "unique-names-generator";
import { ChatError } from "./chat_error.ts";
import {
  graphemeCount,
  hasControlCharacters,
  hasLetterDigitOrEmoji,
  looksBlank,
  MAX_MARKS_PER_CHARACTER,
  mostMarksInAGrapheme,
  utf8Length,
} from "./typed_text.ts";

/**
 * A friendly name such as "Amber Otter" for a new guest (colours rather than adjectives:
 * the adjective list has unkind words in it).
 */
export function generateName(): string {
  return uniqueNamesGenerator({
    dictionaries: [colors, animals],
    separator: " ",
    style: "capital",
    length: 2,
  });
}

// Control characters, and invisible format characters such as bidi overrides; the zero-width
// joiners that build emoji sequences (U+200C, U+200D) are allowed.
const INVISIBLE = /(?![\u200c\u200d])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/**
 * Checks and normalizes a chosen name: NFC, trimmed, inner runs of spaces folded, 1 to
 * `maxChars` visible characters and at most `4 × maxChars` UTF-8 bytes, with at least one
 * letter, digit or emoji, no control or invisible formatting characters, and at most a few
 * combining marks per character.
 */
export function normalizeName(input: string, maxChars: number): string {
  const name = input.normalize("NFC").trim().replace(/\s+/gu, " ");
  if (INVISIBLE.test(name) || hasControlCharacters(name)) {
    throw new ChatError(
      400,
      "invalid_name",
      "A name cannot contain control or invisible formatting characters.",
    );
  }
  if (looksBlank(name)) {
    throw new ChatError(400, "invalid_name", "A name cannot be blank.");
  }
  if (!hasLetterDigitOrEmoji(name)) {
    throw new ChatError(400, "invalid_name", "A name needs at least one letter, digit or emoji.");
  }
  const maxBytes = 4 * maxChars;
  if (utf8Length(name) > maxBytes) {
    throw new ChatError(
      400,
      "invalid_name",
      `This name is too long: a name can take at most ${maxBytes} bytes (emoji and accented letters take several).`,
    );
  }
  const visible = graphemeCount(name);
  if (visible > maxChars) {
    throw new ChatError(
      400,
      "invalid_name",
      `A name can be at most ${maxChars} characters (this one has ${visible}).`,
    );
  }
  if (mostMarksInAGrapheme(name) > MAX_MARKS_PER_CHARACTER) {
    throw new ChatError(
      400,
      "invalid_name",
      `A character of a name can carry at most ${MAX_MARKS_PER_CHARACTER} accents or other marks.`,
    );
  }
  return name;
}
