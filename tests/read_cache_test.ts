// Cached sessions and rooms, and the empty poll answered from memory: changes are seen at once, by every connection sharing the counters.
import assert from "node:assert/strict";
import { ChangeCounters, ReadCache, SESSIONS_SLOT } from "../db/read_cache.ts";
import { SqliteStore } from "../db/sqlite_store.ts";
import { pollUntilSeen } from "./other_connection.ts";

function cache(counters = new ChangeCounters(), maxEntries = 3) {
  return new ReadCache<string, { name: string }>({
    counters,
    slot: SESSIONS_SLOT,
    maxEntries,
    maxAgeMs: 1000,
  });
}

Deno.test("read cache: a value is kept until its kind changes, its age runs out or room is needed", () => {
  const names = cache();
  names.set("a", { name: "Ada" }, names.version(), 0);
  assert.deepEqual(names.get("a", 10), { name: "Ada" });
  assert.equal(names.get("a", 2000), undefined, "too old");
  names.set("a", { name: "Ada" }, names.version(), 0);
  names.invalidate();
  assert.equal(names.get("a", 10), undefined, "its kind changed");
  for (const key of ["a", "b", "c", "d"]) names.set(key, { name: key }, names.version(), 0);
  assert.equal(names.get("a", 10), undefined, "the oldest went first");
  assert.deepEqual(names.get("d", 10), { name: "d" });
});

Deno.test("read cache: a value read before a change is stale at once", () => {
  const names = cache();
  const version = names.version(); // taken before reading the database…
  names.invalidate(); // …a change lands meanwhile…
  names.set("a", { name: "old" }, version, 0); // …and the old row is kept
  assert.equal(names.get("a", 10), undefined);
});

Deno.test("read cache: values are frozen; caches sharing counters drop together", () => {
  const buffer = ChangeCounters.sharedBuffer();
  const [one, two] = [cache(new ChangeCounters(buffer)), cache(new ChangeCounters(buffer))];
  const kept = one.set("a", { name: "Ada" }, one.version(), 0);
  two.set("a", { name: "Ada" }, two.version(), 0);
  assert.throws(() => (kept as { name: string }).name = "Eve", TypeError);
  one.invalidate();
  assert.equal(two.get("a", 10), undefined, "a change through one is seen by the other");
});

/** Two stores on one SQLite file sharing counters, as workers of one process do. */
async function twoConnections(fn: (a: SqliteStore, b: SqliteStore) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  const buffer = ChangeCounters.sharedBuffer();
  const a = new SqliteStore(`${dir}/parley.db`, { counters: new ChangeCounters(buffer) });
  const b = new SqliteStore(`${dir}/parley.db`, { counters: new ChangeCounters(buffer) });
  try {
    await fn(a, b);
  } finally {
    await a.close();
    await b.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("cached sessions: a ban, a logout or a rename through another connection counts at once", async () => {
  await twoConnections(async (a, b) => {
    const ada = await a.createMember("Ada");
    await a.createSession(ada.id, "ada-token");
    const bob = await a.createMember("Bob");
    const bobSession = await a.createSession(bob.id, "bob-token");
    const eve = await a.createMember("Eve");
    await a.createSession(eve.id, "eve-token");
    for (const token of ["ada-token", "bob-token", "eve-token"]) {
      assert.ok(await a.getSession(token));
    }

    await b.banMember(ada.id, Date.now());
    assert.equal(await a.getSession("ada-token"), null, "banned: no session");
    await b.deleteSession(bobSession.id);
    assert.equal(await a.getSession("bob-token"), null, "logged out");
    await b.renameMember(eve.id, "Eve Renamed");
    assert.equal((await a.getSession("eve-token"))?.member.name, "Eve Renamed");
  });
});

Deno.test("cached rooms: a topic or an archive through another connection counts at once", async () => {
  await twoConnections(async (a, b) => {
    const general = (await a.getRoom("general"))!;
    assert.equal((await a.getRoom("general"))?.archived, undefined);
    await b.setRoomTopic(general.id, "new topic");
    assert.equal((await a.getRoom("general"))?.topic, "new topic");
    await b.archiveRoom(general.id, Date.now());
    assert.equal((await a.getRoomById(general.id))?.archived, true);
  });
});

Deno.test("empty polls from memory: a change made through another connection is not lost", async () => {
  await twoConnections(async (a, b) => {
    // `a` learns of it from the database within its trust window (no notification between them).
    const { page } = await pollUntilSeen(a, b, 100);
    const room = (await a.getRoom("general"))!;
    const author = (await a.listMessages(room, { since: 0, limit: 10 })).messages[0].author;
    // Its own change, a knows at once.
    await a.addMessage({ room, authorId: author.id, body: "from a", clientId: "a1" });
    const own = await a.listMessages(room, { since: page.cursor, limit: 10 });
    assert.deepEqual(own.messages.map((m) => m.body), ["from a"]);
  });
});
