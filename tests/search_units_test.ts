// Unit tests of the search box's parsing and of highlights (offsets into a message's text).
import assert from "node:assert/strict";
import { findHighlights, isSpacelessWord, mergeRanges, parseSearch } from "../chat/search.ts";

/** The highlighted pieces of `body` for the search `q`, and the ranges. */
function highlight(body: string, q: string) {
  const ranges = findHighlights(body, parseSearch(q));
  return { ranges, texts: ranges.map(([start, end]) => body.slice(start, end)) };
}

Deno.test("search: plain words, filters and quoted phrases are told apart", () => {
  assert.deepEqual(parseSearch('deploy from:ada in:ops "release notes" friday'), {
    words: ["deploy", "friday"],
    phrases: ["release notes"],
    from: "ada",
    in: "ops",
  });
  assert.deepEqual(parseSearch("FROM:@Ada IN:#Ops x"), {
    words: ["x"],
    phrases: [],
    from: "Ada",
    in: "Ops",
  });
  assert.deepEqual(parseSearch("from:ada from:bob in:a in:b w").from, "bob", "the last counts");
  assert.deepEqual(parseSearch("from:ada from:bob in:a in:b w").in, "b");
});

Deno.test("search: an unclosed quote runs to the end; empty quotes and filters are ignored", () => {
  assert.deepEqual(parseSearch('deploy "to  production'), {
    words: ["deploy"],
    phrases: ["to production"],
    from: null,
    in: null,
  });
  assert.deepEqual(parseSearch('"" "   " from: in: "'), {
    words: [],
    phrases: [],
    from: null,
    in: null,
  });
  assert.deepEqual(parseSearch('a"b c"d').words, ["a", "d"]);
  assert.deepEqual(parseSearch('a"b c"d').phrases, ["b c"]);
  assert.deepEqual(parseSearch("\u201csmart quotes\u201d").phrases, ["smart quotes"]);
  assert.deepEqual(parseSearch('"from:ada in:ops"'), {
    words: [],
    phrases: ["from ada in ops"],
    from: null,
    in: null,
  }, "filters inside quotes are words of the phrase");
});

Deno.test("search: words are letters and digits; punctuation splits them; repeats count once", () => {
  assert.deepEqual(parseSearch("node.js C++ e-mail !!! Deploy deploy DÉPLOY").words, [
    "node",
    "js",
    "C",
    "e",
    "mail",
    "Deploy",
  ], "DÉPLOY is the same word as Deploy (accents and case ignored)");
  assert.deepEqual(parseSearch("!!! ... --").words, []);
});

Deno.test("search: spaceless scripts are words of their own, found anywhere", () => {
  assert.equal(isSpacelessWord("東京"), true);
  assert.equal(isSpacelessWord("デプロイ"), true, "Katakana with the long-vowel mark");
  assert.equal(isSpacelessWord("ภาษาไทย"), true);
  assert.equal(isSpacelessWord("deploy"), false);
  assert.equal(isSpacelessWord("한국어"), false, "Korean is written with spaces");
  assert.deepEqual(parseSearch("Deno東京2024").words, ["Deno", "東京", "2024"]);
  assert.deepEqual(parseSearch("東京タワー").words, ["東京タワー"]);
});

Deno.test("search: a word highlights its typed length at the start of words only", () => {
  const body = "Deploying now; we re-deploy. Undeploy? DEPLOY";
  const { ranges, texts } = highlight(body, "deplo");
  assert.deepEqual(texts, ["Deplo", "deplo", "DEPLO"]);
  assert.deepEqual(ranges, [[0, 5], [21, 26], [39, 44]]);
  assert.deepEqual(highlight("redeploy", "deploy").ranges, [], "not inside a word");
});

Deno.test("search: accents and case are ignored both ways, offsets stay in the original", () => {
  assert.deepEqual(highlight("Un café au Café", "cafe").texts, ["café", "Café"]);
  assert.deepEqual(highlight("a cafe here", "CAFÉ").ranges, [[2, 6]]);
  // A decomposed accent (e + U+0301) belongs to its letter: the range covers both.
  const decomposed = "cafe\u0301 ok";
  assert.deepEqual(highlight(decomposed, "cafe").ranges, [[0, 5]]);
  assert.deepEqual(highlight("Ørsted und Łódź", "orsted lodz").texts, ["Ørsted", "Łódź"]);
  assert.deepEqual(highlight("Ελληνικά ΆΛΦΑ", "αλφα").texts, ["ΆΛΦΑ"]);
  // Offsets are UTF-16 code units: an emoji before the word counts two.
  assert.deepEqual(highlight("🎉 party", "party").ranges, [[3, 8]]);
});

Deno.test("search: a phrase is highlighted whole, with any spacing between its words", () => {
  const body = "Release notes\nare out. release   NOTES, and release: notes. release noted";
  const { texts, ranges } = highlight(body, '"release notes"');
  assert.deepEqual(texts, ["Release notes", "release   NOTES", "release: notes"]);
  assert.deepEqual(ranges[0], [0, 13]);
  assert.deepEqual(highlight("releasenotes", '"release notes"').ranges, []);
  assert.deepEqual(
    highlight("the release notes", '"release note"').ranges,
    [],
    "a phrase's words are whole words",
  );
});

Deno.test("search: Japanese words are found anywhere, with their voicing marks", () => {
  const body = "明日東京でデプロイします。東京タワーも";
  assert.deepEqual(highlight(body, "東京").ranges, [[2, 4], [13, 15]]);
  assert.deepEqual(highlight(body, "デプロイ").texts, ["デプロイ"]);
  assert.deepEqual(highlight("カメラとガメラ", "カメラ").ranges, [[0, 3]], "ガ is not カ");
  assert.deepEqual(highlight("あああ", "ああ").ranges, [[0, 3]], "overlapping matches merge");
  assert.deepEqual(highlight("Deno東京", "東京 deno").texts, ["Deno東京"]);
  assert.deepEqual(highlight("新しい東京タワー", '"東京 タワー"').texts, ["東京タワー"]);
});

Deno.test("search: highlights of several words are sorted and merged", () => {
  const body = "big bigger deploy deploy";
  assert.deepEqual(highlight(body, "deploy big bigg").ranges, [[0, 3], [4, 8], [11, 17], [
    18,
    24,
  ]]);
  assert.deepEqual(highlight("new york", 'york "new york"').ranges, [[0, 8]]);
  assert.deepEqual(mergeRanges([[5, 7], [0, 2], [2, 3], [6, 9]]), [[0, 3], [5, 9]]);
  assert.deepEqual(highlight("nothing here", "absent").ranges, []);
});
