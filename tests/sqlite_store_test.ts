// The store contract on SQLite, plus what is SQLite's own: files, WAL and migrations.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "../db/sqlite_store.ts";
import { SQLITE_MIGRATIONS } from "../db/migrations/sqlite.ts";
import { StoreUnavailableError } from "../db/store.ts";
import { storeContract } from "./store_contract.ts";
import { searchContract } from "./search_contract.ts";
import { adminContract } from "./admin_contract.ts";
import { checkErasure } from "./erasure.ts";
import { fileContract } from "./file_contract.ts";

storeContract("sqlite", () => Promise.resolve(new SqliteStore(":memory:")));
searchContract("sqlite", () => Promise.resolve(new SqliteStore(":memory:")));
adminContract("sqlite", () => Promise.resolve(new SqliteStore(":memory:")));
fileContract(
  "sqlite",
  () => Promise.resolve(new SqliteStore(":memory:")),
  async (store) => {
    const db = (store as SqliteStore).db;
    const count = (table: string) =>
      Number(db.prepare(`SELECT count(*) AS n FROM ${table}`).get()?.n);
    return {
      files: count("files"),
      blobs: count("blobs"),
      contents: await filesUnder(await (store as SqliteStore).content.dir()),
    };
  },
);

/** How many files there are in a folder and its subfolders. */
async function filesUnder(dir: string): Promise<number> {
  let n = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) n += await filesUnder(`${dir}/${entry.name}`);
    else n++;
  }
  return n;
}

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
    // Every text column of every table, so that the text is found wherever it is kept. The
    // search indexes' virtual tables only show the `messages` rows (external content); their
    // shadow tables, which do keep data, are checked.
    const tables = () =>
      store.db.prepare(
        `SELECT name FROM sqlite_master WHERE type = 'table'
           AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'`,
      ).all().map((t) => String(t.name));
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

Deno.test({
  name: "sqlite store: a full disk while a file's bytes are written is StoreUnavailableError",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const store = new SqliteStore(`${dir}/parley.db`);
    const open = Deno.open;
    try {
      const general = (await store.getRoom("general"))!;
      const ada = await store.createMember("Ada");
      // The upload's temporary file is the kernel's always-full device: writes fail, ENOSPC.
      Deno.open = ((path: string | URL, options?: Deno.OpenOptions) =>
        options?.createNew
          ? open("/dev/full", { write: true })
          : open(path, options)) as typeof Deno.open;
      await assert.rejects(
        () =>
          store.addFile({
            roomId: general.id,
            uploaderId: ada.id,
            name: "big.bin",
            type: "application/octet-stream",
            width: null,
            height: null,
            content: (async function* () {
              yield new Uint8Array(64 * 1024);
            })(),
            maxBytes: 1024 * 1024,
            now: Date.now(),
          }),
        (error) =>
          error instanceof StoreUnavailableError && /No space left/.test(error.message),
      );
      Deno.open = open;
      assert.equal(Number(store.db.prepare("SELECT count(*) AS n FROM files").get()?.n), 0);
      assert.equal(Number(store.db.prepare("SELECT count(*) AS n FROM blobs").get()?.n), 0);
      assert.deepEqual(await Array.fromAsync(Deno.readDir(`${dir}/files/tmp`)), []);
    } finally {
      Deno.open = open;
      await store.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
