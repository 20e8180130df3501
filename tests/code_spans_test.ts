// Finding code in a message (for shortcodes and mentions): correct, and linear on hostile input.
import assert from "node:assert/strict";
import { codeRanges, withoutCode } from "../chat/code_spans.ts";
import { replaceShortcodes } from "../chat/emoji_shortcodes.ts";
import { parseMentions } from "../chat/mentions.ts";
import { checkBody } from "../chat/message_text.ts";
import { ChatError } from "../chat/chat_error.ts";

Deno.test("code spans: inline runs pair by length, fences run to their close or the end", () => {
  const text = "a `x` b ``y ` z`` c ` d";
  assert.deepEqual(
    codeRanges(text).map(([s, e]) => text.slice(s, e)),
    ["`x`", "``y ` z``"],
    "an unpaired backtick is text",
  );
  const fenced = "before\n```js\nconst a = `b`;\n```\nafter `c`";
  assert.deepEqual(
    codeRanges(fenced).map(([s, e]) => fenced.slice(s, e)),
    ["```js\nconst a = `b`;\n```", "`c`"],
  );
  const open = "x\n~~~\nnever closed :tada:";
  assert.deepEqual(codeRanges(open).map(([s, e]) => open.slice(s, e)), [
    "~~~\nnever closed :tada:",
  ]);
  assert.equal(withoutCode("say `@ada` @bob"), "say        @bob");
});

Deno.test("code spans: shortcodes and mentions leave code alone", () => {
  assert.equal(replaceShortcodes(":tada: `:tada:` :tada:"), "🎉 `:tada:` 🎉");
  assert.deepEqual(parseMentions("`@room` is the syntax, see\n```\n@ada\n```\n@bob"), {
    usernames: ["bob"],
    room: false,
  });
});

Deno.test("code spans: hostile runs of backticks take linear time, not hours", () => {
  // The regex this replaced took 12.8 s for 4,000 backticks and grew with the cube of the run.
  const hostile = [
    "`".repeat(60_000) + ":",
    Array.from({ length: 2_000 }, (_, i) => "`".repeat(i % 50 + 1)).join("a") + ":tada:",
    "```\n".repeat(10_000) + ":tada:",
  ];
  for (const text of hostile) {
    const started = performance.now();
    replaceShortcodes(text);
    withoutCode(text);
    const took = performance.now() - started;
    assert.ok(took < 1000, `${took.toFixed(0)} ms for ${text.length} characters`);
  }
  // Sizes are checked before any work on the text: an oversized body is refused at once.
  const started = performance.now();
  assert.throws(
    () => checkBody("`".repeat(60_000) + ":", 4000),
    (e) => e instanceof ChatError && e.code === "message_too_long",
  );
  assert.ok(performance.now() - started < 1000);
});
