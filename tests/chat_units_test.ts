// Unit tests of the chat rules: names, message text, links, rate limits, configuration, merging.
import assert from "node:assert/strict";
import { generateName, normalizeName } from "../chat/member_names.ts";
import { bodyLength, checkBody, normalizeBody } from "../chat/message_text.ts";
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
import { createRoomClient, excerptOf, mergeMessages, updateQuotes } from "../client/room_client.ts";
import { whoReacted } from "../components/message_actions.tsx";
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

Deno.test("rate limiter: a high limit over many windows counts exactly; forgiven events free a place", () => {
  const limiter = new RateLimiter({ limit: 1000, windowMs: 1000 });
  // 5,000 events, one a millisecond: the window always holds the last 1,000.
  for (let t = 1; t <= 5000; t++) assert.equal(limiter.take("a", t), 0, `event at ${t}`);
  assert.ok(limiter.take("a", 5000) > 0, "the 1,001st event in one window is refused");
  assert.equal(limiter.take("a", 5001), 0, "one left the window");
  limiter.forgive("a", 5001);
  assert.equal(limiter.take("a", 5001), 0, "forgiven: its place is free again");
  assert.equal(limiter.take("a", 5001), 1, "then full: wait until the oldest (4,002) leaves");
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

const msg = (id: number, seq = id, extra: Partial<Message> = {}): Message => ({
  id,
  room: "general",
  seq,
  body: `m${id}`,
  clientId: `c${id}`,
  author: { id: 1, name: "A", username: null },
  createdAt: new Date(0).toISOString(),
  editedAt: null,
  deleted: false,
  reactions: [],
  replyTo: null,
  mentions: [],
  attachments: [],
  ...extra,
});

Deno.test("room client: merging keeps each id once, in id order, the newer state", () => {
  const current = [msg(3), msg(4), msg(5)];
  assert.equal(mergeMessages(current, []), current);
  assert.deepEqual(mergeMessages(current, [msg(5), msg(6), msg(1), msg(4)]).map((x) => x.id), [
    1,
    3,
    4,
    5,
    6,
  ]);
  const edited = msg(4, 9, { body: "edited" });
  const merged = mergeMessages(current, [edited]);
  assert.equal(merged[1], edited);
  assert.equal(mergeMessages(merged, [msg(4, 4)]), merged, "an older state changes nothing");
  assert.equal(mergeMessages(merged, [msg(4, 7, { body: "older edit" })])[1].body, "edited");
});

Deno.test("room client: quotes follow their original (deleted, edited)", () => {
  const reply = msg(7, 7, { replyTo: { id: 3, authorName: "A", excerpt: "m3" } });
  const list = [msg(3), reply];
  assert.equal(updateQuotes(list, [msg(5)]), list, "unrelated changes keep the list");
  const edited = updateQuotes(list, [msg(3, 8, { body: "new\n  text " + "x".repeat(120) })]);
  assert.equal(edited[1].replyTo?.excerpt, excerptOf("new text " + "x".repeat(120)));
  assert.equal(Array.from(edited[1].replyTo!.excerpt!).length, 100);
  assert.ok(edited[1].replyTo!.excerpt!.endsWith("…"));
  const gone = updateQuotes(list, [msg(3, 9, { deleted: true, body: "" })]);
  assert.deepEqual(gone[1].replyTo, { id: 3, authorName: "A", deleted: true });
});

/** A fake server for the room client: answers pages, and polls from a queue. */
function fakeServer() {
  const requests: string[] = [];
  const polls: unknown[] = [];
  let wake = () => {};
  const pages = new Map<string, unknown>();
  const fetcher = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    requests.push(`${init?.method ?? "GET"} ${url}`);
    const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
      new Response(JSON.stringify(body), {
        status,
        headers: { "content-type": "application/json", ...headers },
      });
    if (url.includes("since=")) {
      while (polls.length === 0) {
        await new Promise<void>((resolve, reject) => {
          wake = resolve;
          init?.signal?.addEventListener("abort", () => reject(new Error("aborted")));
        });
      }
      return json(polls.shift());
    }
    const query = url.split("?")[1] ?? `${init?.method} ${url.split("/messages/")[1]}`;
    const page = pages.get(query);
    if (typeof page === "function") return page();
    if (page === undefined) return json({ error: { code: "x", message: `no ${query}` } }, 404);
    return json(page);
  }) as typeof fetch;
  return {
    requests,
    fetcher,
    pages,
    poll(body: unknown) {
      polls.push(body);
      wake();
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

function client(server: ReturnType<typeof fakeServer>, messages: Message[], hasOlder = true) {
  const news: number[] = [];
  let before = 0;
  const c = createRoomClient({
    room: { slug: "general" },
    me: { id: 1, name: "A" },
    messages,
    hasOlder,
    cursor: 20,
    pollWait: 25,
    pageSize: 3,
    fetch: server.fetcher,
    onNewMessages: (fresh) => news.push(...fresh.map((m) => m.id)),
    onBeforeChange: () => before++,
  });
  return { c, news, before: () => before };
}

Deno.test("room client: polls since the page's cursor; changes merge, only new is news", async () => {
  const server = fakeServer();
  const { c, news, before } = client(server, [msg(10), msg(11), msg(12)]);
  const stop = c.start();
  try {
    await settle();
    assert.match(server.requests[0], /since=20&wait=25&limit=3$/);
    // An edit, a new message, and a change to a message older than the window.
    server.poll({
      messages: [msg(11, 21, { body: "edited" }), msg(5, 22, { body: "old, edited" }), msg(13, 23)],
      cursor: 23,
    });
    await settle();
    assert.deepEqual(c.messages.value.map((m) => m.id), [10, 11, 12, 13]);
    assert.equal(c.messages.value[1].body, "edited");
    assert.deepEqual(news, [13], "edits are not news");
    assert.equal(before(), 1);
    assert.equal(c.cursor(), 23);
    assert.match(server.requests.at(-1)!, /since=23&/);
    // The same change again (an older page read, a repeated answer) changes nothing.
    server.poll({ messages: [msg(11, 21, { body: "edited" })], cursor: 23 });
    await settle();
    assert.equal(before(), 1);
    // The older page was read before the edit of 5: the remembered newer state wins.
    server.pages.set("before=10&limit=3", {
      messages: [msg(5, 5), msg(6)],
      cursor: 21,
      hasOlder: false,
    });
    assert.equal(await c.loadOlder(), true);
    assert.deepEqual(c.messages.value.map((m) => m.id), [5, 6, 10, 11, 12, 13]);
    assert.equal(c.messages.value[0].body, "old, edited");
    assert.equal(c.hasOlder.value, false);
    // A tombstone turns the quotes of it into "deleted".
    server.poll({
      messages: [msg(14, 24, { replyTo: { id: 12, authorName: "A", excerpt: "m12" } })],
      cursor: 24,
    });
    await settle();
    server.poll({ messages: [msg(12, 25, { deleted: true, body: "" })], cursor: 25 });
    await settle();
    assert.equal(c.messages.value.at(-1)!.replyTo?.deleted, true);
  } finally {
    stop();
  }
});

Deno.test("room client: jumping around an old message pages both ways, news wait", async () => {
  const server = fakeServer();
  const { c, news } = client(server, [msg(50, 1), msg(51, 2), msg(52, 3)]);
  const stop = c.start();
  try {
    server.pages.set("around=20&limit=3", {
      messages: [msg(19), msg(20), msg(21)],
      cursor: 20,
      hasOlder: true,
      hasNewer: true,
    });
    assert.equal(await c.reveal(20), true);
    assert.deepEqual(c.messages.value.map((m) => m.id), [19, 20, 21]);
    assert.equal(c.hasNewer.value, true);
    assert.equal(await c.reveal(21), true, "loaded: no request");
    assert.equal(server.requests.filter((r) => r.includes("around")).length, 1);
    // New and changed messages beyond the old page are not shown there; new ones are news.
    server.poll({ messages: [msg(52, 21, { body: "52 edited" }), msg(53, 22)], cursor: 22 });
    await settle();
    assert.deepEqual(c.messages.value.map((m) => m.id), [19, 20, 21]);
    assert.deepEqual(news, [53]);
    server.pages.set("after=21&limit=3", { messages: [msg(22), msg(50), msg(51)], cursor: 20 });
    assert.equal(await c.loadNewer(), true);
    assert.equal(c.hasNewer.value, true, "a full page: maybe more");
    server.pages.set("after=51&limit=3", { messages: [], cursor: 20 });
    assert.equal(await c.loadNewer(), false);
    assert.equal(c.hasNewer.value, false, "a short page reaches the live end");
    assert.deepEqual(c.messages.value.map((m) => m.id), [19, 20, 21, 22, 50, 51, 52, 53]);
    assert.equal(c.messages.value.at(-2)!.body, "52 edited", "remembered while away");
  } finally {
    stop();
  }
});

Deno.test("room client: a change waits out 429 with Retry-After, then shows the answer", async () => {
  const server = fakeServer();
  const { c } = client(server, [msg(10)], false);
  let calls = 0;
  server.pages.set("PATCH 10", () => {
    calls++;
    return calls === 1
      ? new Response(
        JSON.stringify({ error: { code: "rate_limited", message: "Too fast." } }),
        { status: 429, headers: { "retry-after": "1" } },
      )
      : new Response(JSON.stringify(msg(10, 30, { body: "new", editedAt: "x" })));
  });
  server.pages.set("DELETE 10", () =>
    new Response(
      JSON.stringify({ error: { code: "not_author", message: "Not yours." } }),
      { status: 403 },
    ));
  const started = Date.now();
  const result = await c.edit(10, "new");
  assert.ok(result.ok);
  assert.ok(Date.now() - started >= 900, "waited for Retry-After");
  assert.equal(c.messages.value[0].body, "new");
  assert.deepEqual(await c.remove(10), { ok: false, error: "Not yours." });
  assert.equal(c.messages.value[0].body, "new");
  assert.equal(
    (await c.react(10, "👍", true)).ok,
    false,
  );
  assert.ok(server.requests.includes(`PUT /api/rooms/general/messages/10/reactions/%F0%9F%91%8D`));
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
  assert.equal(mostMarksInAGrapheme("q\u0301\u0302 b\u0300"), 2);
  // Counted as Unicode composes them: á is a letter, only the marks left over count.
  assert.equal(mostMarksInAGrapheme("a\u0301\u0302"), 1);
  assert.equal(mostMarksInAGrapheme("a" + "\u0301".repeat(20_000)), 19_999);
  assert.equal(hasLetterDigitOrEmoji("🇫🇷"), true, "a flag");
  assert.equal(hasLetterDigitOrEmoji("#️⃣"), true, "a keycap");
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

Deno.test("reactions: who reacted, by the names known, else how many", () => {
  const names = new Map([[2, "Bea"], [3, "Cal"]]);
  assert.equal(whoReacted([2], names, 1), "Bea");
  assert.equal(whoReacted([2, 1, 3], names, 1), "You, Bea and Cal");
  assert.equal(whoReacted([2, 9], names, 1), "Bea and 1 other");
  assert.equal(whoReacted([8, 9], names, 1), "2 people");
  assert.equal(whoReacted([8], names, 1), "1 person");
});
