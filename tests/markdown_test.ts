// Message formatting: markdown → Preact elements (components/markdown.tsx), shortcode emoji.
import assert from "node:assert/strict";
import { h } from "preact";
import { renderToString } from "preact-render-to-string";
import { gemoji } from "gemoji";
import { MessageBody } from "../components/message_body.tsx";
import { replaceShortcodes } from "../chat/emoji_shortcodes.ts";
import { checkBody } from "../chat/message_text.ts";
import { mostMarksInAGrapheme } from "../chat/typed_text.ts";

/** The HTML inside `.body` for a message body. */
function html(body: string): string {
  const out = renderToString(h(MessageBody, { body }));
  return out.replace(/^<div class="body">/, "").replace(/<\/div>$/, "");
}

const REL = 'rel="noopener noreferrer nofollow ugc" target="_blank"';

Deno.test("markdown: inline formatting", () => {
  assert.equal(
    html("**bold** *italic* _italic_ ~~strike~~ `code <b>`"),
    "<p><strong>bold</strong> <em>italic</em> <em>italic</em> <del>strike</del> " +
      "<code>code &lt;b></code></p>",
  );
  assert.equal(html("***both***"), "<p><em><strong>both</strong></em></p>");
  assert.equal(html("\\*not italic\\*"), "<p>*not italic*</p>");
});

Deno.test("markdown: a single newline is a line break, a blank line a new paragraph", () => {
  assert.equal(html("one\ntwo\n\nthree"), "<p>one<br/>two</p><p>three</p>");
  assert.equal(html("spaces  kept"), "<p>spaces  kept</p>");
});

Deno.test("markdown: fenced code keeps its text and shows its language", () => {
  assert.equal(
    html("```ts\nconst a = 1 < 2;\n  **not bold**\n```"),
    '<div class="code-block"><span class="code-lang">ts</span><pre tabindex="0"><code>' +
      "const a = 1 &lt; 2;\n  **not bold**</code></pre></div>",
  );
  assert.equal(
    html("```\nplain\n```"),
    '<div class="code-block"><pre tabindex="0"><code>plain</code></pre></div>',
  );
  assert.equal(html("    indented is not code"), "<p>indented is not code</p>");
});

Deno.test("markdown: quotes, lists, rules; headings are bold lines, not bigger", () => {
  assert.equal(html("> quoted\n> more"), "<blockquote><p>quoted<br/>more</p></blockquote>");
  assert.equal(
    html("- a\n- b\n  - c\n\n3. three\n4. four"),
    "<ul><li>a</li><li>b<ul><li>c</li></ul></li></ul>" +
      '<ol start="3"><li>three</li><li>four</li></ol>',
  );
  assert.equal(html("1. one"), "<ol><li>one</li></ol>");
  assert.equal(html("# Big\n## news"), "<p><strong>Big</strong></p><p><strong>news</strong></p>");
  assert.equal(html("line\n---"), "<p>line</p><hr/>", "no underlined headings");
});

Deno.test("markdown: web and mail addresses and [text](url) links", () => {
  assert.equal(
    html("see https://example.com/a?b=1, www.example.org and ada@example.org"),
    `<p>see <a href="https://example.com/a?b=1" ${REL}>https://example.com/a?b=1</a>, ` +
      `<a href="http://www.example.org" ${REL}>www.example.org</a> and ` +
      `<a href="mailto:ada@example.org" ${REL}>ada@example.org</a></p>`,
  );
  assert.equal(
    html("[the *docs*](https://example.com/docs) <https://example.com>"),
    `<p><a href="https://example.com/docs" ${REL}>the <em>docs</em></a> ` +
      `<a href="https://example.com" ${REL}>https://example.com</a></p>`,
  );
});

Deno.test("markdown: hostile input stays text", () => {
  const cases: [string, string][] = [
    ["<script>alert(1)</script>", "<p>&lt;script>alert(1)&lt;/script></p>"],
    ['<div onclick="x">\nhi\n</div>', "<p>&lt;div onclick=&quot;x&quot;><br/>hi<br/>&lt;/div></p>"],
    [
      "a <b>b</b> <img src=x onerror=alert(1)>",
      "<p>a &lt;b>b&lt;/b> &lt;img src=x onerror=alert(1)></p>",
    ],
    ["[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>"],
    ["[x](JaVaScRiPt:alert(1))", "<p>[x](JaVaScRiPt:alert(1))</p>"],
    ["[x](data:text/html;base64,PHNjcmlwdD4=)", "<p>[x](data:text/html;base64,PHNjcmlwdD4=)</p>"],
    [
      "[x](vbscript:x) [y](/relative) [z](file:///etc/passwd)",
      "<p>[x](vbscript:x) [y](/relative) [z](file:///etc/passwd)</p>",
    ],
    ["<javascript:alert(1)>", "<p>&lt;javascript:alert(1)></p>"],
    ["javascript:alert(1) data:text/html,x", "<p>javascript:alert(1) data:text/html,x</p>"],
    ["![img](http://example.com/a.png)", "<p>![img](http://example.com/a.png)</p>"],
    ["&lt;b&gt; &#106;avascript:", "<p>&amp;lt;b&amp;gt; &amp;#106;avascript:</p>"],
    ["[x]\n\n[x]: javascript:alert(1)", "<p>[x]</p><p>[x]: javascript:alert(1)</p>"],
  ];
  for (const [body, expected] of cases) assert.equal(html(body), expected, body);
  // A quote cannot leave the attribute: it is part of the address, encoded.
  assert.equal(
    html('https://example.com/"onmouseover="alert(1)'),
    `<p><a href="https://example.com/%22onmouseover=%22alert(1)" ${REL}>` +
      "https://example.com/&quot;onmouseover=&quot;alert(1)</a></p>",
  );
  for (const body of ["<script>x</script>", "[a](javascript:b)", "![i](data:x)", "<a href=x>"]) {
    const out = html(body);
    assert.ok(!/<(script|img|iframe|a href="(?!https?:|mailto:))/i.test(out), out);
  }
});

Deno.test("markdown: old messages show control characters as symbols", () => {
  assert.equal(
    html("bell\u0007 nul\u0000 del\u007f tab\tend"),
    "<p>bell\u2407 nul\u2400 del\u2421 tab\tend</p>",
  );
});

Deno.test("markdown: 4,000 characters of markup stay fast and nothing is lost", () => {
  const hostile = {
    stars: "*".repeat(4000),
    underscores: "_".repeat(4000),
    brackets: "[".repeat(4000),
    mixed: "*_[".repeat(1333),
    nestedEmphasis: "*a **b ".repeat(570),
    links: "[a](".repeat(1000),
    images: "![".repeat(2000),
    backticks: "`".repeat(4000),
    tildes: "~".repeat(4000),
    angles: "<".repeat(4000),
    urls: "http://a.b/(".repeat(333),
    emails: "a@".repeat(2000),
    quotes: ">".repeat(4000),
    lists: "- ".repeat(2000),
    ordered: "1. ".repeat(1333),
  };
  const times: string[] = [];
  for (const [name, body] of Object.entries(hostile)) {
    const start = performance.now();
    const out = html(body + " end");
    const ms = performance.now() - start;
    times.push(`${name} ${ms.toFixed(1)} ms`);
    assert.ok(ms < 250, `${name} took ${ms} ms`);
    assert.ok(out.includes("end"), `${name}: the text after the markup is shown`);
  }
  console.log(times.join(", "));
  // Nested deeper than the dialect allows: shown as plain text, nothing lost.
  assert.equal(
    html(">".repeat(40) + " deep\nafter"),
    `<p>${">".repeat(40)} deep<br/>after</p>`,
  );
});

Deno.test("emoji shortcodes: known names become emoji, outside code and words", () => {
  assert.equal(replaceShortcodes(":+1: :tada: :heart: :-1:"), "👍 🎉 ❤️ 👎");
  assert.equal(
    replaceShortcodes(":not_an_emoji: a:b:c std::map:: 12:30:45"),
    ":not_an_emoji: a:b:c std::map:: 12:30:45",
  );
  assert.equal(replaceShortcodes("`:tada:` :tada:"), "`:tada:` 🎉");
  assert.equal(replaceShortcodes("```\n:tada:\n```\n:tada:"), "```\n:tada:\n```\n🎉");
  assert.equal(checkBody("ship it :rocket:", 100), "ship it 🚀", "converted on send");
  for (const { emoji, names } of gemoji) {
    assert.ok(mostMarksInAGrapheme(emoji) <= 4, `${names[0]} passes the combining-marks rule`);
  }
});
