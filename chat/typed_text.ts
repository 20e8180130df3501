// Rules for text a person typed (messages, names, room names, topics): what is refused or blank.

// C0 and C1 control characters except tab and line feed (a carriage return is normalized
// away before this check; NUL truncates text in some readers, others hide or reorder text).
// deno-lint-ignore no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
// Bidirectional embeddings, overrides and isolates: they reorder the text that follows.
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/;
// Letters that draw nothing: Hangul fillers and the blank Braille pattern.
const FILLERS = /[\u115f\u1160\u3164\uffa0\u2800]/gu;
// Everything that shows nothing on its own: white space, controls, format characters
// (zero-width space, joiners, bidi controls…), marks (variation selectors, combining marks
// with nothing to sit on), line and paragraph separators, and the fillers.
const INVISIBLE = /[\s\p{Cc}\p{Cf}\p{M}\p{Zl}\p{Zp}\u115f\u1160\u3164\uffa0\u2800]/gu;
// Letters, digits and emoji (pictographs, flags from regional indicators, keycaps).
const MEANINGFUL = /[\p{L}\p{N}\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3]/u;
const MARK = /\p{M}/gu;

const segmenter = new Intl.Segmenter("en", { granularity: "grapheme" });

/** Whether `text` has a control character other than tab and newline (NUL, bell, C1…). */
export function hasControlCharacters(text: string): boolean {
  return CONTROLS.test(text);
}

/** Whether `text` has a bidi embedding, override or isolate (U+202A–U+202E, U+2066–U+2069). */
export function hasBidiControls(text: string): boolean {
  return BIDI_CONTROLS.test(text);
}

/** Whether `text` shows nothing at all: only spaces, invisible characters, fillers or lone marks. */
export function looksBlank(text: string): boolean {
  return text.replace(INVISIBLE, "") === "";
}

/** Whether `text` has at least one letter, digit or emoji (fillers that look blank do not count). */
export function hasLetterDigitOrEmoji(text: string): boolean {
  return MEANINGFUL.test(text.replace(FILLERS, ""));
}

/** The most combining marks (variation selectors included) in one character of `text`. */
export function mostMarksInAGrapheme(text: string): number {
  if (!/\p{M}/u.test(text)) return 0;
  let most = 0;
  // Counted as Unicode composes them (é is one letter, not e + a mark), the same for all text.
  for (const { segment } of segmenter.segment(text.normalize("NFC"))) {
    if (segment.length < 2) continue;
    const marks = segment.match(MARK)?.length ?? 0;
    if (marks > most) most = marks;
  }
  return most;
}

/** The number of characters a person sees (grapheme clusters). */
export function graphemeCount(text: string): number {
  let count = 0;
  for (const _ of segmenter.segment(text)) count++;
  return count;
}

/** The length of `text` in UTF-8 bytes. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/** Combining marks one character may carry (more is "Zalgo" text that draws over its neighbours). */
export const MAX_MARKS_PER_CHARACTER = 4;
