// Member names: friendly generated names for guests, and the rules for chosen ones.
import { animals, colors, uniqueNamesGenerator } from "unique-names-generator";
import { ChatError } from "./chat_error.ts";

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

const segmenter = new Intl.Segmenter("en", { granularity: "grapheme" });
// Control characters, and invisible format characters such as bidi overrides; the zero-width
// joiners that build emoji sequences (U+200C, U+200D) are allowed.
const INVISIBLE = /(?![\u200c\u200d])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const VISIBLE = /[^\s\u200c\u200d]/u;

/**
 * Checks and normalizes a chosen name: NFC, trimmed, inner runs of spaces folded, 1 to
 * `maxChars` visible characters, no control or invisible formatting characters.
 */
export function normalizeName(input: string, maxChars: number): string {
  const name = input.normalize("NFC").trim().replace(/\s+/gu, " ");
  if (INVISIBLE.test(name)) {
    throw new ChatError(
      400,
      "invalid_name",
      "A name cannot contain control or invisible formatting characters.",
    );
  }
  const visible = [...segmenter.segment(name)].length;
  if (!VISIBLE.test(name)) {
    throw new ChatError(400, "invalid_name", "A name cannot be blank.");
  }
  if (visible > maxChars) {
    throw new ChatError(
      400,
      "invalid_name",
      `A name can be at most ${maxChars} characters (this one has ${visible}).`,
    );
  }
  return name;
}
