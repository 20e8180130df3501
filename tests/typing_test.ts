// The typing indicator: who is typing, expiry, the rate of reports, private rooms, long polls.
import assert from "node:assert/strict";
import { createTyping } from "../chat/typing.ts";
import { PollGate } from "../chat/poll_gate.ts";
import { SqliteStore } from "../db/sqlite_store.ts";
import type { Member, Room, TypingSignal } from "../db/store.ts";
import { appTest, callApi, type Guest, newGuest, postMessage, type TestApp } from "./helpers.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A registry on an in-memory store, with short times; closed after `fn`. */
async function withTyping(
  fn: (typing: ReturnType<typeof createTyping>, store: SqliteStore, room: Room) => Promise<void>,
  options: { expiryMs?: number; reportEveryMs?: number } = {},
) {
  const store = new SqliteStore(":memory:");
  const shutdown = new AbortController();
  try {
    const typing = createTyping({
      store,
      polls: new PollGate({ maxPerAddress: 2 }),
      maxWaitSeconds: 25,
      shutdown: shutdown.signal,
      ...options,
    });
    await fn(typing, store, (await store.getRoom("general"))!);
  } finally {
    shutdown.abort();
    await store.close();
  }
}

const ada: Member = { id: 101, name: "Ada" };
const bea: Member = { id: 102, name: "Bea" };

Deno.test("typing: a report shows for others (not oneself) and expires", async () => {
  await withTyping(async (typing, _store, room) => {
    assert.deepEqual(await typing.read(room, {}), { typing: [], version: 0 });
    await typing.report(ada, room);
    await sleep(5);
    const seen = await typing.read(room, { viewer: bea });
    assert.deepEqual(seen.typing, [{ id: 101, name: "Ada" }]);
    assert.ok(seen.version > 0);
    assert.deepEqual((await typing.read(room, { viewer: ada })).typing, [], "never yourself");
    await sleep(120);
    assert.deepEqual(await typing.read(room, { viewer: bea }), { typing: [], version: 0 });
  }, { expiryMs: 60 });
});

Deno.test("typing: reports are passed on at most once per interval; sending ends it", async () => {
  await withTyping(async (typing, store, room) => {
    const published: TypingSignal[] = [];
    const original = store.publishTyping.bind(store);
    store.publishTyping = (signal) => {
      published.push(signal);
      return original(signal);
    };
    await typing.report(ada, room);
    await typing.report(ada, room);
    await typing.report(ada, room);
    await typing.report(bea, room);
    assert.equal(published.length, 2, "one per member within the interval");
    await sleep(5);
    await typing.stop(ada, room);
    await sleep(5);
    assert.deepEqual(published.at(-1), { ...published[0], typing: false });
    assert.deepEqual((await typing.read(room, {})).typing, [{ id: 102, name: "Bea" }]);
    await typing.report(ada, room);
    assert.equal(published.length, 4, "after sending, the next report counts at once");
  });
});

Deno.test("typing: a long poll answers when the set changes, and at once when behind", async () => {
  await withTyping(async (typing, _store, room) => {
    const started = Date.now();
    const poll = typing.read(room, { viewer: bea, since: 0, wait: 10 });
    await sleep(20);
    await typing.report(ada, room);
    const answer = await poll;
    assert.deepEqual(answer.typing, [{ id: 101, name: "Ada" }]);
    assert.ok(Date.now() - started < 1000, "woken by the report");
    // A repeated report changes nothing: a poll with the current version waits on.
    const behind = await typing.read(room, { since: 0, wait: 10 });
    assert.equal(behind.version, answer.version, "behind: answered at once");
    const quiet = typing.read(room, { since: answer.version, wait: 10 });
    // Expiry wakes it.
    assert.deepEqual(await quiet, { typing: [], version: 0 });
    assert.ok(Date.now() - started < 2000);
  }, { expiryMs: 200, reportEveryMs: 0 });
});

Deno.test("typing: long polls count against the per-address cap", async () => {
  await withTyping(async (typing, _store, room) => {
    const abort = new AbortController();
    const polls = [1, 2].map(() =>
      typing.read(room, { since: 0, wait: 10, address: "1.2.3.4", signal: abort.signal })
    );
    await assert.rejects(
      typing.read(room, { since: 0, wait: 10, address: "1.2.3.4" }),
      /requests waiting/,
    );
    abort.abort();
    await Promise.all(polls);
  });
});

const typingTest = appTest("typing api");

function call(app: TestApp, guest: Guest, method: string, path: string, body?: unknown) {
  return callApi(app, method, path, { body, cookie: guest.cookie });
}

typingTest("a report wakes another member's typing poll; sending ends it", async (app) => {
  const [ada, bea] = [await newGuest(app), await newGuest(app)];
  const poll = call(app, bea, "GET", "/api/rooms/general/typing?since=0&wait=10");
  await sleep(20);
  assert.equal((await call(app, ada, "POST", "/api/rooms/general/typing")).status, 204);
  const woke = await poll;
  assert.equal(woke.status, 200);
  assert.deepEqual(woke.json.typing, [{ id: ada.member.id, name: ada.member.name }]);
  const own = await call(app, ada, "GET", "/api/rooms/general/typing");
  assert.deepEqual(own.json.typing, [], "never yourself");

  const next = call(
    app,
    bea,
    "GET",
    `/api/rooms/general/typing?since=${woke.json.version}&wait=10`,
  );
  await sleep(20);
  assert.equal((await postMessage(app, ada, "done typing")).status, 201);
  assert.deepEqual((await next).json, { typing: [], version: 0 });
  // Nothing of it is in the message feed.
  const feed = await call(app, bea, "GET", "/api/rooms/general/messages?since=0");
  assert.deepEqual(feed.json.messages.map((m: { body: string }) => m.body), ["done typing"]);
});

typingTest("private rooms: outsiders can neither report nor see typing", async (app) => {
  const [ada, eve] = [await newGuest(app), await newGuest(app)];
  const room = await call(app, ada, "POST", "/api/rooms", { name: "Secret", private: true });
  const base = `/api/rooms/${room.json.slug}/typing`;
  assert.equal((await call(app, ada, "POST", base)).status, 204);
  for (const attempt of [await call(app, eve, "POST", base), await call(app, eve, "GET", base)]) {
    assert.equal(attempt.status, 404);
    assert.equal(attempt.json.error.code, "room_not_found");
  }
  const noSession = await app.request(base);
  assert.equal(noSession.status, 404);
  await noSession.body?.cancel();
  assert.equal((await call(app, ada, "GET", `${base}?wait=99`)).status, 400);
}, { PARLEY_GUEST_ROOMS: "on" });

Deno.test("typing: the sentence for one, two and more people", async () => {
  const { typingText } = await import("../client/typing_client.ts");
  assert.equal(typingText([]), "");
  assert.equal(typingText(["Ada"]), "Ada is typing…");
  assert.equal(typingText(["Ada", "Bea"]), "Ada and Bea are typing…");
  assert.equal(typingText(["Ada", "Bea", "Cy"]), "Several people are typing…");
});
