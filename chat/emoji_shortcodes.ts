// `:shortcode:` emoji (`:+1:`, `:tada:`, `:heart:`), GitHub's names from the gemoji package.
import { gemoji } from "gemoji";
import { codeRanges } from "./code_spans.ts";

let byName: Map<string, string> | undefined;

// A shortcode stands alone: not inside a word (`a:b:c`) nor a run of colons (`std::x::`).
const SHORTCODE = /(?<![\p{L}\p{N}_:]):([a-z0-9_+-]+):(?![\p{L}\p{N}_:])/gu;
/** Replaces known `:shortcode:`s with their emoji, outside code; unknown ones stay as typed. */
export function replaceShortcodes(text: string): string {
  if (!text.includes(":")) return text;
  byName ??= new Map(gemoji.flatMap((e) => e.names.map((name) => [name, e.emoji])));
  const names = byName;
  const convert = (part: string) =>
    part.replace(SHORTCODE, (whole, name: string) => names.get(name) ?? whole);
  let out = "";
  let at = 0;
  // Code is left as typed: fenced blocks and inline spans (found in linear time).
  for (const [start, end] of codeRanges(text)) {
    out += convert(text.slice(at, start)) + text.slice(start, end);
    at = end;
  }
  return out + convert(text.slice(at));
}
