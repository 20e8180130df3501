// What a search's words are to both stores: letter/digit tokens, and which scripts have no spaces.

/**
 * Code point ranges of the scripts written without spaces between words (Han with its iteration
 * marks, Hiragana, Katakana and their half-width forms, Thai, Lao, Myanmar, Khmer). Messages
 * holding one of these characters are indexed for substring search: the ranges are part of the
 * schema (migration 7 of both stores), so changing them needs a new migration.
 */
const SPACELESS_RANGES: [number, number][] = [
  [0x0e00, 0x0eff], // Thai, Lao
  [0x1000, 0x109f], // Myanmar
  [0x1780, 0x17ff], // Khmer
  [0x19e0, 0x19ff], // Khmer symbols
  [0x3005, 0x3007], // 々 〆 〇
  [0x3040, 0x30ff], // Hiragana, Katakana
  [0x31f0, 0x31ff], // Katakana phonetic extensions
  [0x3400, 0x4dbf], // CJK extension A
  [0x4e00, 0x9fff], // CJK unified ideographs
  [0xa9e0, 0xa9ff], // Myanmar extended-B
  [0xaa60, 0xaa7f], // Myanmar extended-A
  [0xf900, 0xfaff], // CJK compatibility ideographs
  [0xff66, 0xff9f], // half-width Katakana
  [0x1b000, 0x1b16f], // Kana supplement and extended-A
  [0x20000, 0x323af], // CJK extensions B to H, compatibility supplement
];

/** The ranges as the inside of a bracket expression (`[...]`) of SQLite GLOB or a POSIX regex. */
const SPACELESS_CLASS = SPACELESS_RANGES.map(([from, to]) =>
  `${String.fromCodePoint(from)}-${String.fromCodePoint(to)}`
).join("");

const SPACELESS_CHAR = new RegExp(
  `[${
    SPACELESS_RANGES.map(([from, to]) => `\\u{${from.toString(16)}}-\\u{${to.toString(16)}}`).join(
      "",
    )
  }]`,
  "u",
);

/**
 * SQLite: the condition "the body holds a spaceless-script character" (of `messages` as `alias`),
 * written the same in the schema (the triggers, the partial index) and in the queries that use
 * the index: SQLite uses a partial index only for a query holding each term of its condition.
 */
export function sqliteSpaceless(alias?: string): string {
  const body = `${alias ? `${alias}.` : ""}body`;
  // GLOB with a class is slow (tens of µs per message): the byte and character lengths differ
  // only when the text is not pure ASCII, which spares most messages the GLOB.
  return `length(CAST(${body} AS BLOB)) <> length(${body}) AND ${body} GLOB '*[${SPACELESS_CLASS}]*'`;
}

/** PostgreSQL: the same condition as {@link sqliteSpaceless}, as a regular expression match. */
export function postgresSpaceless(alias?: string): string {
  return `${alias ? `${alias}.` : ""}body ~ '[${SPACELESS_CLASS}]'`;
}

/** Whether text holds a character of a script written without spaces (then it matches anywhere). */
export function hasSpacelessChar(text: string): boolean {
  return SPACELESS_CHAR.test(text);
}

const TOKEN = /[\p{L}\p{N}\p{M}]+/gu;

/**
 * The tokens of a word or phrase as the word index sees them: runs of letters, digits and
 * marks (`node.js` is `node` then `js`). Only these reach full-text query syntax.
 */
export function searchTokens(text: string): string[] {
  return text.normalize("NFC").match(TOKEN) ?? [];
}

/** A LIKE pattern matching `text` anywhere, with `\`, `%` and `_` taken literally. */
export function substringPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** One condition of a search, as both stores read it. */
export type SearchTerm =
  /** Tokens adjacent and in order; the last one a word's start when `prefix`. */
  | { kind: "tokens"; tokens: string[]; prefix: boolean }
  /** Text found anywhere in the body (spaceless scripts). */
  | { kind: "substring"; text: string };

/**
 * The conditions of a search: each word as a word's start (its tokens adjacent), each phrase as
 * its tokens adjacent; a word or phrase with a spaceless-script character as a substring. Words
 * with no letter or digit are left out (punctuation alone finds nothing); an empty list means
 * nothing can match.
 */
export function searchTerms(words: string[], phrases: string[]): SearchTerm[] {
  const terms: SearchTerm[] = [];
  const add = (text: string, prefix: boolean) => {
    const trimmed = text.normalize("NFC").trim().replace(/\s+/g, " ");
    if (hasSpacelessChar(trimmed)) {
      terms.push({ kind: "substring", text: trimmed });
      return;
    }
    const tokens = searchTokens(trimmed);
    if (tokens.length > 0) terms.push({ kind: "tokens", tokens, prefix });
  };
  for (const word of words) add(word, true);
  for (const phrase of phrases) add(phrase, false);
  return terms;
}
