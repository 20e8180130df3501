// Unit tests of the chat rules: names, message text, links, rate limits, configuration, merging.
import assert from "node:assert/strict";
import { generateName, normalizeName } from "../chat/member_names.ts";
import { bodyLength, bodyParts, checkBody, normalizeBody } from "../chat/message_text.ts";
import {
  hasBidiControls,
  hasControlCharacters,
  hasLetterDigitOrEmoji,
  looksBlank,
  mostMarksInAGrapheme,
  utf8Length,
} from "../chat/typed_text.ts";
import { RateLimiter } from "../chat/rate_limiter.ts";
import { ChatError } from "../chat/chat_error.ts";
import { verifySigned } from "../chat/sessions.ts";
import { generateSignedCookie } from "hono/cookie";
import { mergeMessages } from "../client/room_client.ts";
import { loadConfig } from "../fresh.config.ts";
import type { Message } from "../db/store.ts";

Deno.test("names: generated names are friendly words, and valid names", () => {
  for (let i = 0; i < 20; i++) {
    const name = generateName();
    assert.match(name, /^[A-Z][a-z]+ [A-Z][a-z]+$/);
    assert.equal(normalizeName(name, 40), name);
  }
});

Deno.test("names: trimmed, folded, counted in visible characters", () => {
  assert.equal(normalizeName("  Ada   Lovelace \n", 40), "Ada Lovelace");
  const family = "👩‍👩‍👧‍👦"; // one character, 25 bytes
  assert.equal(normalizeName(family.repeat(6), 40), family.repeat(6));
  assert.equal(normalizeName("é".repeat(40), 40), "é".repeat(40));
  assert.throws(() => normalizeName("é".repeat(41), 40), /at most 40 characters/);
  assert.throws(() => normalizeName(family.repeat(7), 40), /too long/, "175 bytes");
  assert.equal(normalizeName("e\u0301", 1), "\u00e9", "NFC-normalized");
});

Deno.test("names: blank, control and invisible characters are refused", () => {
  const bad = ["", "   ", "\u200d", "a\u0000b", "bell\u0007", "rtl\u202eevil", "zero\u200bwidth"];
  for (const name of bad) {
    assert.throws(
      () => normalizeName(name, 40),
      (e) => e instanceof ChatError && e.status === 400 && e.code === "invalid_name",
      JSON.stringify(name),
    );
  }
});

Deno.test("message text: blank bodies are refused, line breaks normalized, ends trimmed", () => {
  assert.equal(normalizeBody(""), null);
  assert.equal(normalizeBody(" \n\t \r\n "), null);
  assert.equal(normalizeBody("\n\n  indented\r\nline two  \n\n"), "  indented\nline two");
  assert.equal(normalizeBody("a\rb"), "a\nb");
});

Deno.test("message text: length counts code points, not UTF-16 units", () => {
  assert.equal(bodyLength("abc"), 3);
  assert.equal(bodyLength("😀😀"), 2);
  assert.equal("😀😀".length, 4);
});

Deno.test("message text: web and mail addresses become links, nothing else does", () => {
  assert.deepEqual(bodyParts("see https://example.com/a?b=1, ok"), [
    { text: "see " },
    { text: "https://example.com/a?b=1", href: "https://example.com/a?b=1" },
    { text: ", ok" },
  ]);
  assert.deepEqual(bodyParts("mail ada@example.org"), [
    { text: "mail " },
    { text: "ada@example.org", href: "mailto:ada@example.org" },
  ]);
  for (const part of bodyParts("javascript:alert(1) data:text/html,<b>x</b> <a href=x>")) {
    assert.equal(part.href, undefined, part.text);
  }
});

Deno.test("message text: control characters are shown as visible symbols", () => {
  assert.deepEqual(bodyParts("bell\u0007 nul\u0000 del\u007f tab\tnl\n"), [
    { text: "bell\u2407 nul\u2400 del\u2421 tab\tnl\n" },
  ]);
});

Deno.test("rate limiter: a burst per key, then the wait until the oldest leaves the window", () => {
  const limiter = new RateLimiter({ limit: 3, windowMs: 10_000 });
  assert.equal(limiter.take("a", 1_000), 0);
  assert.equal(limiter.take("a", 2_000), 0);
  assert.equal(limiter.take("a", 3_000), 0);
  assert.equal(limiter.take("a", 4_000), 7_000);
  assert.equal(limiter.take("b", 4_000), 0, "other keys are not affected");
  assert.equal(limiter.take("a", 11_001), 0, "the first event left the window");
  assert.equal(limiter.take("a", 11_002), 2_000 + 10_000 - 11_002, "now the second is oldest");
});

Deno.test("config: defaults, overrides and readable errors", () => {
  const config = loadConfig({});
  assert.equal(config.port, 8000);
  assert.equal(config.sqlitePath, "data/parley.db");
  assert.equal(config.databaseUrl, undefined);
  assert.equal(config.secret, undefined);
  assert.equal(config.limits.maxMessageChars, 4000);
  assert.equal(config.limits.burstMessages, 10);
  assert.equal(config.limits.burstWindowMs, 10_000);
  const custom = loadConfig({
    PORT: "9000",
    SQLITE_PATH: "/tmp/x.db",
    PARLEY_MAX_MESSAGE_CHARS: "100",
    PARLEY_ORIGINS: "https://a.example, https://b.example",
    PORT_UNUSED: "",
  });
  assert.equal(custom.port, 9000);
  assert.equal(custom.sqlitePath, "/tmp/x.db");
  assert.equal(custom.limits.maxMessageChars, 100);
  assert.deepEqual(custom.trustedOrigins, ["https://a.example", "https://b.example"]);
  assert.throws(
    () => loadConfig({ PORT: "eighty", PARLEY_SECRET: "short" }),
    (e) => e instanceof Error && /PORT/.test(e.message) && /PARLEY_SECRET/.test(e.message),
  );
});

Deno.test("room client: merging keeps each id once, in id order", () => {
  const m = (id: number): Message => ({
    id,
    room: "general",
    body: `m${id}`,
    clientId: `c${id}`,
    author: { id: 1, name: "A", username: null },
    createdAt: new Date(0).toISOString(),
  });
  const current = [m(3), m(4), m(5)];
  assert.equal(mergeMessages(current, []), current);
  assert.deepEqual(mergeMessages(current, [m(5), m(6), m(1), m(4)]).map((x) => x.id), [
    1,
    3,
    4,
    5,
    6,
  ]);
});

Deno.test("sessions: signed cookie values verify; any change to value or signature fails", async () => {
  const header = await generateSignedCookie("c", "token-value", "s3cret-s3cret-s3cret");
  const signed = decodeURIComponent(header.split(";")[0].slice(2));
  assert.equal(verifySigned(signed, "s3cret-s3cret-s3cret"), "token-value");
  assert.equal(verifySigned(signed, "another-secret-here"), null);
  const dot = signed.lastIndexOf(".");
  const variants = [
    "X" + signed.slice(1),
    signed.slice(0, dot) + "x" + signed.slice(dot),
    signed + ":",
    signed.slice(0, -1) + ":",
    signed.slice(0, -2) + "A=",
    signed.slice(0, dot),
    "",
    ".",
  ];
  for (const variant of variants) {
    assert.equal(verifySigned(variant, "s3cret-s3cret-s3cret"), null, variant);
  }
});

const refused = (code: string) => (e: unknown) =>
  e instanceof ChatError && e.status === 400 && e.code === code;

Deno.test("typed text: controls, bidi, blank look, letters, marks and bytes", () => {
  assert.equal(hasControlCharacters("tab\tand\nnewline"), false);
  for (const c of ["\u0000", "\u0007", "\r", "\u007f", "\u0085", "\u009f"]) {
    assert.equal(hasControlCharacters(`a${c}b`), true, JSON.stringify(c));
  }
  for (const c of ["\u202a", "\u202e", "\u2066", "\u2069"]) assert.equal(hasBidiControls(c), true);
  assert.equal(hasBidiControls("שלום hello"), false);
  for (
    const blank of ["", " \n", "\u200b", "\u202e", "\u3164", "\u2800", "\ufe0f\ufe0e", "\u0301"]
  ) {
    assert.equal(looksBlank(blank), true, JSON.stringify(blank));
  }
  for (const seen of ["a", "7", "😀", "·", "\u200bx"]) assert.equal(looksBlank(seen), false, seen);
  for (const name of ["Ada", "李", "٣", "😀", "x\u0301"]) {
    assert.equal(hasLetterDigitOrEmoji(name), true, name);
  }
  for (const name of ["\ufe0f\ufe0f", "\u3164", "\u2800\u2800", "\u0301\u0302", "-_-", "\u115f"]) {
    assert.equal(hasLetterDigitOrEmoji(name), false, JSON.stringify(name));
  }
  assert.equal(mostMarksInAGrapheme("a\u0301\u0302 b\u0300"), 2);
  assert.equal(mostMarksInAGrapheme("a" + "\u0301".repeat(20_000)), 20_000);
  assert.equal(mostMarksInAGrapheme("1️⃣ 👁️‍🗨️"), 2, "emoji sequences are fine");
  assert.equal(utf8Length("aé😀"), 1 + 2 + 4);
});

Deno.test("names: invisible-only names, stacked marks and overlong bytes are refused", () => {
  const bad = [
    "\ufe0f\ufe0f\ufe0f",
    "\u3164",
    "\u3164\u3164 \u3164",
    "\u2800\u2800",
    "\u0301\u0302\u0303",
    "a" + "\u0301".repeat(20_000),
    "a" + "\u0301".repeat(6),
    "\u0085name",
    "x\u0000",
  ];
  for (const name of bad) {
    assert.throws(() => normalizeName(name, 40), refused("invalid_name"), JSON.stringify(name));
  }
  assert.equal(normalizeName("Zoë\u0301\u0302", 40), "Zoë\u0301\u0302".normalize("NFC"));
  assert.equal(normalizeName("李小龍", 40), "李小龍");
  assert.equal(normalizeName("🦊", 40), "🦊");
});

Deno.test("message text: controls refused, invisible-only is blank, marks and bytes capped", () => {
  assert.equal(checkBody("hello\r\n\tworld", 100), "hello\n\tworld");
  for (const body of ["before\u0000after", "\u0000hidden", "\u0085", "a\u0007b", "x\u009b"]) {
    assert.throws(() => checkBody(body, 100), refused("invalid_message"), JSON.stringify(body));
  }
  for (const body of ["\u200b", "\u202e", "\u3164\u3164", "\u2800", "\ufe0f", " \u200b\n\u2060 "]) {
    assert.throws(() => checkBody(body, 100), refused("empty_message"), JSON.stringify(body));
  }
  assert.throws(
    () => checkBody("a" + "\u0301".repeat(20_000), 100_000),
    refused("invalid_message"),
  );
  assert.equal(checkBody("a\u0301\u0302\u0303\u0304", 100), "a\u0301\u0302\u0303\u0304");
  assert.throws(() => checkBody("x".repeat(101), 100), refused("message_too_long"));
  assert.equal(checkBody("😀".repeat(100), 100), "😀".repeat(100));
});
