// The periodic cleanup: forgotten guests, idle sessions and expired invitations go, on a fake clock.
import assert from "node:assert/strict";
import { SqliteStore } from "../db/sqlite_store.ts";
import { startCleanup } from "../chat/cleanup.ts";
import { createTestApp, newGuest, postMessage } from "./helpers.ts";

const DAY = 24 * 3600_000;

Deno.test("cleanup: removes what is due on its clock and logs one line when it removed anything", async () => {
  const store = new SqliteStore(":memory:");
  const lines: string[] = [];
  let clock = Date.now();
  const cleanup = startCleanup({
    store,
    sessionIdleMs: 30 * DAY,
    guestRetentionMs: 30 * DAY,
    now: () => clock,
    log: (line) => lines.push(line),
  });
  try {
    const guest = await store.createMember("Passer-by");
    await store.createSession(guest.id, "passer-by");
    assert.deepEqual(await cleanup.run(), { sessions: 0, invites: 0, guests: 0, files: 0 });
    clock += 31 * DAY;
    assert.deepEqual(await cleanup.run(), { sessions: 1, invites: 0, guests: 1, files: 0 });
    assert.equal(await store.getMember(guest.id), null);
    assert.deepEqual(await cleanup.run(), { sessions: 0, invites: 0, guests: 0, files: 0 });
    assert.deepEqual(lines, [
      "Cleanup removed 1 idle sessions, 0 expired invitations, 1 guests who never wrote and 0 uploads never sent",
    ]);
  } finally {
    await cleanup.stop();
    await store.close();
  }
});

Deno.test("cleanup: Parley runs it at start; guests who wrote stay", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/parley.db`;
  try {
    const first = await createTestApp({ sqlitePath: path });
    const writer = await newGuest(first);
    assert.equal((await postMessage(first, writer, "still here")).status, 201);
    const lurker = await newGuest(first);
    await first.close();
    // Both visited 40 days ago and never came back.
    const old = Date.now() - 40 * DAY;
    const db = new SqliteStore(path);
    db.db.prepare("UPDATE members SET created_at = ?").run(old);
    db.db.prepare("UPDATE sessions SET last_seen_at = ?").run(old);
    await db.close();

    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => lines.push(line);
    let second;
    try {
      second = await createTestApp({ sqlitePath: path });
      await second.cleanup.stop(); // waits for the run at start
    } finally {
      console.log = log;
    }
    try {
      assert.equal(await second.store.getMember(lurker.member.id), null);
      assert.ok(await second.store.getMember(writer.member.id));
      assert.equal(await second.store.isRoomMember(1, lurker.member.id), false);
      assert.deepEqual(lines, [
        "Cleanup removed 2 idle sessions, 0 expired invitations, 1 guests who never wrote and 0 uploads never sent",
      ]);
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
