// A full or unwritable database: writes answer 503 with Retry-After, nothing acknowledged is lost.
import assert from "node:assert/strict";
import { SqliteStore } from "../db/sqlite_store.ts";
import { StoreOpenError, StoreUnavailableError } from "../db/store.ts";
import { openStore } from "../db/open_store.ts";
import { isUnavailable } from "../db/postgres_store.ts";
import { createParley } from "../app.ts";
import {
  callApi,
  createTestApp,
  newGuest,
  postMessage,
  type TestApp,
  testBundle,
  testConfig,
} from "./helpers.ts";

/**
 * Fills the database as a full disk would: no page may be added (`max_page_count`), and the
 * members and messages tables (one page each in a fresh database) are filled to the brim.
 */
function fillUp(store: SqliteStore, authorId: number): void {
  const db = store.db;
  assert.equal(db.prepare("PRAGMA freelist_count").get()?.freelist_count, 0);
  const pages = Number(db.prepare("PRAGMA page_count").get()?.page_count);
  db.exec(`PRAGMA max_page_count = ${pages}`);
  const fill = (sql: string, make: (text: string, i: number) => unknown[]) => {
    let i = 0;
    for (const size of [1000, 100, 10, 1]) {
      try {
        for (;; i++) db.prepare(sql).run(...make("f".repeat(size), i) as never[]);
      } catch (error) {
        assert.match(String(error), /full/);
      }
    }
  };
  fill("INSERT INTO members (name, created_at) VALUES (?, 0)", (text) => [text]);
  fill(
    "INSERT INTO messages (room_id, author_id, body, client_id, created_at) VALUES (1, ?, ?, ?, 0)",
    (text, i) => [authorId, text, `f${i}`],
  );
}

/** Lets the database grow again, as when disk space is freed. */
function makeRoom(store: SqliteStore): void {
  store.db.exec("PRAGMA max_page_count = 1073741823");
}

async function withFileApp(fn: (app: TestApp) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  const app = await createTestApp({ sqlitePath: `${dir}/parley.db` });
  try {
    await fn(app);
  } finally {
    await app.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("disk full: writes answer 503 with Retry-After, and work again when space returns", async () => {
  await withFileApp(async (app) => {
    const ada = await newGuest(app);
    const filler = await app.store.createMember("filler");
    const acknowledged: string[] = [];
    const kept = await postMessage(app, ada, "before the disk filled up");
    assert.equal(kept.status, 201);
    acknowledged.push("before the disk filled up");

    fillUp(app.store, filler.id);

    const rename = await callApi(app, "PATCH", "/api/me", {
      cookie: ada.cookie,
      body: { name: "A much longer name than before, oh yes" },
    });
    assert.equal(rename.status, 503, JSON.stringify(rename.json));
    assert.equal(rename.json.error.code, "unavailable");
    assert.equal((await app.store.getMember(ada.member.id))?.name, ada.member.name);

    const lost = await postMessage(app, ada, "while the disk is full", { clientId: "full-1" });
    assert.equal(lost.status, 503);
    assert.ok(Number(lost.headers.get("retry-after")) > 0);
    await lost.body?.cancel();

    const page = await app.request("/");
    assert.equal(page.status, 503);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    assert.ok(Number(page.headers.get("retry-after")) > 0, "the page says when to retry");
    assert.match(await page.text(), /unavailable/i);
    assert.equal(page.headers.get("set-cookie"), null, "no cookie for a guest never stored");

    // Space returns: the same requests succeed without a restart.
    makeRoom(app.store);
    const renamed = await callApi(app, "PATCH", "/api/me", {
      cookie: ada.cookie,
      body: { name: "A much longer name than before, oh yes" },
    });
    assert.equal(renamed.status, 200);
    const sent = await postMessage(app, ada, "while the disk is full", { clientId: "full-1" });
    assert.equal(sent.status, 201, "the refused message was not stored: now it is created");
    acknowledged.push("while the disk is full");
    const visit = await app.request("/");
    assert.equal(visit.status, 200);
    await visit.body?.cancel();

    const me = await callApi(app, "GET", "/api/me", { cookie: ada.cookie });
    assert.equal(me.json.name, "A much longer name than before, oh yes");
    const history = await callApi(app, "GET", "/api/rooms/general/messages?limit=200", {
      cookie: ada.cookie,
    });
    const mine = history.json.messages.filter((m: { author: { id: number } }) =>
      m.author.id === ada.member.id
    );
    assert.deepEqual(mine.map((m: { body: string }) => m.body), acknowledged);
  });
});

Deno.test("disk full: opening a database where none can be written is one clear error", async () => {
  const file = await Deno.makeTempFile();
  try {
    for (const path of [`${file}/sub/parley.db`, "/proc/parley-test/parley.db"]) {
      assert.throws(
        () => new SqliteStore(path),
        (error) =>
          error instanceof StoreOpenError &&
          error.message.startsWith(`Cannot open the SQLite database at ${path}: `) &&
          error.message.endsWith("Set SQLITE_PATH to a writable file."),
      );
      await assert.rejects(() => openStore({ sqlitePath: path }), StoreOpenError);
    }
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("disk full: members can still read when their session's last use cannot be recorded", async () => {
  const store = new SqliteStore(":memory:");
  store.touchSession = () => Promise.reject(new StoreUnavailableError("database or disk is full"));
  const parley = await createParley({ config: testConfig(), store, bundle: await testBundle() });
  try {
    const first = await parley.fetch(new Request("http://localhost/"));
    assert.equal(first.status, 200);
    await first.body?.cancel();
    const cookie = first.headers.get("set-cookie")!.split(";")[0];
    // Last used an hour ago: this visit would record the use, and cannot.
    store.db.prepare("UPDATE sessions SET last_seen_at = ?").run(Date.now() - 3600_000);
    const page = await parley.fetch(new Request("http://localhost/", { headers: { cookie } }));
    assert.equal(page.status, 200);
    await page.body?.cancel();
    const history = await parley.fetch(
      new Request("http://localhost/api/rooms/general/messages", { headers: { cookie } }),
    );
    assert.equal(history.status, 200);
    await history.body?.cancel();
  } finally {
    parley.shutdown();
    await store.close();
  }
});

Deno.test("disk full: PostgreSQL out of space or read-only counts as unavailable", () => {
  for (const code of ["53100", "53300", "25006", "57P03", "08006"]) {
    assert.ok(isUnavailable({ code }), code);
  }
  assert.ok(!isUnavailable({ code: "23505" }), "a unique violation is not");
});
