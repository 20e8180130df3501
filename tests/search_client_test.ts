// Unit tests of the search box's text: hits cut into plain and marked pieces from the ranges.
import assert from "node:assert/strict";
import { highlightedExcerpt } from "../client/search_client.ts";

/** The pieces as a string, the marked ones in [brackets]. */
function shown(body: string, ranges: [number, number][], options = {}): string {
  return highlightedExcerpt(body, ranges, options)
    .map((p) => p.mark ? `[${p.text}]` : p.text)
    .join("");
}

Deno.test("a short body is shown whole, with its ranges marked", () => {
  assert.equal(shown("we deploy on Friday", [[3, 9], [13, 19]]), "we [deploy] on [Friday]");
  assert.equal(shown("deploy", [[0, 6]]), "[deploy]");
  assert.equal(shown("no match here", []), "no match here");
});

Deno.test("ranges are clipped to the body, sorted, and adjacent ones join", () => {
  assert.equal(shown("abc def", [[4, 99], [-5, 1]]), "[a]bc [def]");
  assert.equal(shown("abcdef", [[3, 6], [0, 3]]), "[abcdef]");
  assert.equal(shown("abcdef", [[2, 2]]), "abcdef", "an empty range marks nothing");
});

Deno.test("text is never parsed: markup shows as typed", () => {
  const pieces = highlightedExcerpt("<b>bold</b> **x**", [[3, 7]]);
  assert.deepEqual(pieces, [
    { text: "<b>", mark: false },
    { text: "bold", mark: true },
    { text: "</b> **x**", mark: false },
  ]);
});

Deno.test("a long body is an excerpt around the first match, cut at words", () => {
  const words = Array.from({ length: 100 }, (_, i) => `word${i}`);
  const body = words.join(" ");
  const at = body.indexOf("word60");
  const text = shown(body, [[at, at + 6]], { max: 80, before: 20 });
  assert.match(text, /^… word5\d /, "starts at a word, with an ellipsis");
  assert.match(text, / word\d+ …$/, "ends at a word, with an ellipsis");
  assert.ok(text.includes("[word60]"), text);
  assert.ok(text.length <= 80 + 4, `about max long: ${text.length}`);

  // A match at the start: no ellipsis before; near the end: none after.
  assert.match(shown(body, [[0, 5]], { max: 80 }), /^\[word0\] word1 .* …$/);
  const end = body.length - 6;
  assert.match(shown(body, [[end, body.length]], { max: 80 }), /^… .*\[word99\]$/);
});

Deno.test("whitespace runs show as one space; surrogate pairs are never cut", () => {
  assert.equal(shown("one\n\n  two", [[7, 10]]), "one [two]");
  const body = "😀".repeat(200) + "東京タワー" + "😀".repeat(200);
  const at = body.indexOf("東京");
  const pieces = highlightedExcerpt(body, [[at, at + 2]], { max: 60, before: 20 });
  const text = pieces.map((p) => p.text).join("");
  assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text));
  assert.equal(pieces.find((p) => p.mark)?.text, "東京");
});
