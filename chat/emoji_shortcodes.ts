// `:shortcode:` emoji (`:+1:`, `:tada:`, `:heart:`), GitHub's names from the gemoji package.
import { gemoji } from "gemoji";

let byName: Map<string, string> | undefined;

// A shortcode stands alone: not inside a word (`a:b:c`) nor a run of colons (`std::x::`).
const SHORTCODE = /(?<![\p{L}\p{N}_:]):([a-z0-9_+-]+):(?![\p{L}\p{N}_:])/gu;
// Code is left as typed: fenced blocks (to their end, or the end of the body) and `spans`.
const CODE =
  /(^|\n)(`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:\n\2[`~]*[ \t]*(?=\n|$)|$)|(`+)[\s\S]*?[^`]\3(?!`)/g;

/** Replaces known `:shortcode:`s with their emoji, outside code; unknown ones stay as typed. */
export function replaceShortcodes(text: string): string {
  if (!text.includes(":")) return text;
  byName ??= new Map(gemoji.flatMap((e) => e.names.map((name) => [name, e.emoji])));
  const names = byName;
  const convert = (part: string) =>
    part.replace(SHORTCODE, (whole, name: string) => names.get(name) ?? whole);
  let out = "";
  let at = 0;
  for (const code of text.matchAll(CODE)) {
    out += convert(text.slice(at, code.index)) + code[0];
    at = code.index + code[0].length;
  }
  return out + convert(text.slice(at));
}
