// The store contract on SQLite, plus what is SQLite's own: files, WAL and migrations.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "../db/sqlite_store.ts";
import { SQLITE_MIGRATIONS } from "../db/migrations/sqlite.ts";
import { storeContract } from "./store_contract.ts";
import { checkErasure } from "./erasure.ts";

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
    const { messages } = await second.listMessages(general, { latest: true, limit: 10 });
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
    const [message] = (await store.listMessages(general, { latest: true, limit: 1 })).messages;
    assert.equal(message.body, evil);
    assert.equal(message.author.name, evil);
  } finally {
    await store.close();
  }
});

Deno.test("sqlite store: deleting erases the text and the reactions from the tables", async () => {
  const store = new SqliteStore(":memory:");
  try {
    // Every text column of every table, so that the text is found wherever it is kept.
    const tables = () =>
      store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()
        .map((t) => String(t.name));
    await checkErasure(store, {
      holding: (pattern) =>
        Promise.resolve(
          tables().filter((table) => {
            const columns = store.db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table)
              .map((c) => `"${c.name}" LIKE ?1`);
            return store.db.prepare(`SELECT 1 AS yes FROM "${table}" WHERE ${columns.join(" OR ")}`)
              .get(pattern) !== undefined;
          }),
        ),
      reactions: (id) =>
        Promise.resolve(
          Number(
            store.db.prepare("SELECT count(*) AS n FROM reactions WHERE message_id = ?")
              .get(id)?.n,
          ),
        ),
      message: (id) =>
        Promise.resolve(
          store.db.prepare("SELECT body, deleted_at FROM messages WHERE id = ?").get(id) as {
            body: string;
            deleted_at: unknown;
          },
        ),
    });
  } finally {
    await store.close();
  }
});

/**
 * Makes every later commit that touches `table` fail, as a full disk does: a temporary trigger
 * adds a row breaking a deferred foreign key, which SQLite checks only at commit.
 */
function failCommitsOn(store: SqliteStore, table: string): void {
  store.db.exec(`
    CREATE TABLE IF NOT EXISTS fail_on_commit (
      member_id INTEGER REFERENCES members(id) DEFERRABLE INITIALLY DEFERRED);
    CREATE TEMP TRIGGER fail_${table}_insert AFTER INSERT ON main.${table}
      BEGIN INSERT INTO fail_on_commit VALUES (-1); END;
    CREATE TEMP TRIGGER fail_${table}_update AFTER UPDATE ON main.${table}
      BEGIN INSERT INTO fail_on_commit VALUES (-1); END;
  `);
}

Deno.test("sqlite store: a write whose commit fails is never reported as done", async () => {
  const cases: [string, (store: SqliteStore) => Promise<unknown>, (s: SqliteStore) => unknown][] = [
    ["members", (s) => s.createMember("Never"), (s) => s.searchMembers("never", 5)],
    ["members", (s) => s.renameMember(1, "Renamed"), (s) => s.getMember(1)],
    ["settings", (s) => s.initSetting("k", "v"), (s) => s.getSetting("k")],
    ["sessions", (s) => s.createSession(1, "h"), (s) => s.getSession("h")],
    [
      "rooms",
      (s) => s.createRoom({ slug: "r", name: "r", topic: "", kind: "public", createdBy: 1 }),
      (s) => s.getRoom("r"),
    ],
    [
      "messages",
      async (s) =>
        await s.addMessage({
          room: (await s.getRoom("general"))!,
          authorId: 1,
          body: "lost",
          clientId: "c",
        }),
      async (s) => await s.listMessages((await s.getRoom("general"))!, { latest: true, limit: 9 }),
    ],
  ];
  for (const [table, write, read] of cases) {
    const store = new SqliteStore(":memory:");
    try {
      await store.createMember("Ada");
      const before = JSON.stringify(await read(store));
      failCommitsOn(store, table);
      await assert.rejects(async () => await write(store), `${table}: the failed write throws`);
      assert.equal(JSON.stringify(await read(store)), before, `${table}: nothing changed`);
    } finally {
      await store.close();
    }
  }
});
