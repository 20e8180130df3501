// The store contract on SQLite, plus what is SQLite's own: files, WAL and migrations.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "../db/sqlite_store.ts";
import { SQLITE_MIGRATIONS } from "../db/migrations/sqlite.ts";
import { storeContract } from "./store_contract.ts";

storeContract("sqlite", () => Promise.resolve(new SqliteStore(":memory:")));

Deno.test("sqlite store: creates folders, uses WAL and keeps data across reopening", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/nested/deeper/parley.db`;
  try {
    const first = new SqliteStore(path);
    const mode = first.db.prepare("PRAGMA journal_mode").get() as { journal_mode: string };
    assert.equal(mode.journal_mode, "wal");
    const ada = await first.createMember("Ada");
    const general = (await first.getRoom("general"))!;
    await first.addMessage({ room: general, authorId: ada.id, body: "kept", clientId: "k" });
    await first.close();

    const second = new SqliteStore(path);
    const version = second.db.prepare("PRAGMA user_version").get() as { user_version: number };
    assert.equal(version.user_version, SQLITE_MIGRATIONS.length);
    const rooms = second.db.prepare("SELECT count(*) AS n FROM rooms WHERE slug = 'general'")
      .get() as { n: number };
    assert.equal(rooms.n, 1, "migrations ran once, not again");
    const messages = await second.listMessages(general, { latest: true, limit: 10 });
    assert.deepEqual(messages.map((m) => m.body), ["kept"]);
    await second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store: refuses a database from a newer Parley and leaves it untouched", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/future.db`;
  try {
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA user_version = ${SQLITE_MIGRATIONS.length + 5}`);
    db.close();
    assert.throws(() => new SqliteStore(path), /newer than this Parley knows/);
    const check = new DatabaseSync(path);
    const tables = check.prepare("SELECT count(*) AS n FROM sqlite_master").get() as {
      n: number;
    };
    assert.equal(tables.n, 0);
    check.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store: parameters are bound, never spliced into SQL", async () => {
  const store = new SqliteStore(":memory:");
  try {
    const evil = "x'); DROP TABLE messages; --";
    const member = await store.createMember(evil);
    const general = (await store.getRoom("general"))!;
    await store.addMessage({ room: general, authorId: member.id, body: evil, clientId: "e" });
    assert.equal(await store.getRoom(evil), null);
    const [message] = await store.listMessages(general, { latest: true, limit: 1 });
    assert.equal(message.body, evil);
    assert.equal(message.author.name, evil);
  } finally {
    await store.close();
  }
});
