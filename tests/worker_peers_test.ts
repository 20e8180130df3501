// Two stores on one SQLite file joined like two workers of a process: each one's changes wake the other's readers.
import assert from "node:assert/strict";
import { ChangeCounters } from "../db/read_cache.ts";
import { SqliteStore } from "../db/sqlite_store.ts";

/** Two stores on one new file, as two workers open it (shared counters, one channel). */
function twoWorkers(): { a: SqliteStore; b: SqliteStore; close: () => Promise<void> } {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/parley.db`;
  const counters = ChangeCounters.sharedBuffer();
  const peers = `parley-test-${crypto.randomUUID()}`;
  const open = () => new SqliteStore(path, { counters: new ChangeCounters(counters), peers });
  const a = open(), b = open();
  return {
    a,
    b,
    close: async () => {
      await a.close();
      await b.close();
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

Deno.test("workers: a message stored by one wakes a wait in the other at once", async () => {
  const { a, b, close } = twoWorkers();
  try {
    const room = (await b.getRoom("general"))!;
    const ada = await a.createMember("Ada");
    const first = await b.listMessages(room, { since: 0, limit: 10 });
    const waiter = b.waitForChange(room, first.cursor, { timeoutMs: 5000 });
    const started = Date.now();
    await a.addMessage({ room, authorId: ada.id, body: "from a", clientId: "a1" });
    assert.equal(await waiter.arrived, true);
    assert.ok(Date.now() - started < 1000, `woken by the news, not by a timeout`);
    const page = await b.listMessages(room, { since: first.cursor, limit: 10 });
    assert.deepEqual(page.messages.map((m) => m.body), ["from a"]);
    // The room's number is known in b now: an empty poll there is answered from memory.
    const again = await b.listMessages(room, { since: page.cursor, limit: 10 });
    assert.deepEqual(again, { messages: [], cursor: page.cursor });
  } finally {
    await close();
  }
});

Deno.test("workers: typing, a member added and a deleted room reach the other worker", async () => {
  const { a, b, close } = twoWorkers();
  try {
    const ada = await a.createMember("Ada");
    const bob = await a.createMember("Bob");
    const heard: unknown[] = [];
    const stop = b.onTyping((signal) => heard.push(signal));
    const signal = { roomId: 1, memberId: ada.id, name: "Ada", typing: true };
    await a.publishTyping(signal);
    for (let i = 0; i < 100 && heard.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.deepEqual(heard, [signal]);
    stop();

    const room = (await a.createRoom({
      slug: "side",
      name: "Side",
      topic: "",
      kind: "private",
      createdBy: ada.id,
    }))!;
    const bobs = b.waitForChanges([], {
      timeoutMs: 5000,
      member: { id: bob.id, since: Date.now() },
    });
    await a.addRoomMember(room.id, bob.id);
    assert.equal(await bobs.arrived, true, "Bob's room list wakes in the other worker");

    const seen = await b.listMessages(room, { since: 0, limit: 10 });
    const waiting = b.waitForChange(room, seen.cursor, { timeoutMs: 5000 });
    const started = Date.now();
    assert.equal(await a.deleteRoom(room.id), true);
    await waiting.arrived;
    assert.ok(Date.now() - started < 1000, "a wait in a deleted room ends at once");
    assert.equal(await b.getRoom("side"), null, "and the other worker finds it gone");
  } finally {
    await close();
  }
});
