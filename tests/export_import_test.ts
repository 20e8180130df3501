// Export and import: the SQLite → PostgreSQL → SQLite round trip, refusals, re-runs, damaged exports.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import postgres from "postgres";
import { createParley } from "../app.ts";
import { loadConfig } from "../fresh.config.ts";
import { PostgresStore } from "../db/postgres_store.ts";
import { SqliteStore } from "../db/sqlite_store.ts";
import type { Room, Store } from "../db/store.ts";
import { exportStore } from "../ops/export.ts";
import { importStore, TargetNotEmptyError } from "../ops/import.ts";
import { ContentMismatchError, portableDatabase } from "../ops/portable_db.ts";
import { fillSqlite } from "../bench/search_bench.ts";
import { testBundle } from "./helpers.ts";

const url = Deno.env.get("TEST_DATABASE_URL");
if (!url) console.log("export/import postgres tests skipped: TEST_DATABASE_URL is not set");

/** The bytes of the attached file: 600 KiB, more than one content line and one PG chunk. */
const FILE_BYTES = Uint8Array.from({ length: 600 * 1024 }, (_, i) => (i * 7 + (i >> 10)) & 255);

/** The export of `store` as text (small test databases only). */
async function exportText(store: Store, options: { sessions?: boolean } = {}): Promise<string> {
  const lines: string[] = [];
  await exportStore(store, (line) => {
    lines.push(line);
    return Promise.resolve();
  }, { sessions: options.sessions ?? true });
  return lines.join("");
}

/** Imports an export given as text. */
function importText(store: Store, text: string, options: { force?: boolean } = {}) {
  async function* lines() {
    for (const line of text.split("\n")) if (line) yield line;
  }
  return importStore(store, lines(), options);
}

/** The export without its header's source (the only line allowed to differ between stores). */
function withoutSource(text: string): string {
  const [header, ...rest] = text.split("\n");
  const { source: _source, ...kept } = JSON.parse(header);
  return [JSON.stringify(kept), ...rest].join("\n");
}

/** The app on `store`, with the cookie secret kept in its settings (no PARLEY_SECRET). */
async function appOn(store: Store) {
  const config = loadConfig({ PARLEY_BUILD_DIR: "_no_prebuilt_bundle_", PARLEY_LOG: "off" });
  const parley = await createParley({ config, store, bundle: await testBundle() });
  return {
    request: (path: string, init?: RequestInit) =>
      parley.fetch(new Request(`http://localhost${path}`, init)),
    shutdown: () => parley.shutdown(),
  };
}

/** The member id the session `cookie` names on `app`, or the status when it names none. */
async function whoIs(app: Awaited<ReturnType<typeof appOn>>, cookie: string) {
  const response = await app.request("/api/me", { headers: { cookie } });
  if (response.status !== 200) {
    await response.body?.cancel();
    return response.status;
  }
  return (await response.json()).id as number;
}

/** Bytes from a stream. */
async function bytesOf(stream: ReadableStream<Uint8Array> | null): Promise<Uint8Array> {
  assert.ok(stream, "the content is there");
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** What {@link populate} made, to check after the move. */
interface Made {
  guestCookie: string;
  guestId: number;
  adaId: number;
  boId: number;
  rooms: Room[];
  sha256: string;
}

/**
 * Fills a store with every kind of row through the Store API: accounts (an admin, one by
 * invitation), a guest with a session made by the app, public, private and direct rooms,
 * memberships, read positions, messages with edits, a deletion, reactions, replies, mentions,
 * an open invitation, and an attached file.
 */
async function populate(store: Store): Promise<Made> {
  const app = await appOn(store);
  const first = await app.request("/");
  await first.body?.cancel();
  const guestCookie = first.headers.get("set-cookie")!.split(";")[0];
  const guestId = await whoIs(app, guestCookie);
  assert.equal(typeof guestId, "number");
  app.shutdown();

  const ada = await store.registerAccount({
    memberId: null,
    name: "Ada",
    username: "ada",
    usernameKey: "ada",
    passwordHash: "scrypt$ada-hash",
  });
  assert.ok(ada.ok);
  const now = Date.now();
  await store.createInvite({
    createdBy: ada.member.id,
    tokenHash: "invite-used",
    expiresAt: now + 1e6,
  });
  await store.createInvite({
    createdBy: ada.member.id,
    tokenHash: "invite-open",
    expiresAt: now + 1e6,
  });
  const bo = await store.registerAccount({
    memberId: null,
    name: "Bo",
    username: "bo",
    usernameKey: "bo",
    passwordHash: "scrypt$bo-hash",
    invite: { tokenHash: "invite-used", now },
  });
  assert.ok(bo.ok);
  const [adaId, boId] = [ada.member.id, bo.member.id];
  await store.createSession(boId, "bo-session-hash");

  const general = (await store.getRoom("general"))!;
  const design = (await store.createRoom({
    slug: "design",
    name: "design",
    topic: "Pixels",
    kind: "public",
    createdBy: adaId,
  }))!;
  const secret = (await store.createRoom({
    slug: "secret",
    name: "secret",
    topic: "",
    kind: "private",
    createdBy: adaId,
  }))!;
  const direct = (await store.createRoom({
    slug: `dm-${adaId}-${boId}`,
    name: "",
    topic: "",
    kind: "direct",
    createdBy: adaId,
    directKey: `${adaId}:${boId}`,
  }))!;
  for (const room of [design, secret, direct]) {
    await store.addRoomMember(room.id, adaId);
    await store.addRoomMember(room.id, boId);
  }
  await store.addRoomMember(general.id, adaId);
  await store.addRoomMember(general.id, guestId);

  const file = await store.addFile({
    roomId: design.id,
    uploaderId: adaId,
    name: "pattern.bin",
    type: "application/octet-stream",
    width: null,
    height: null,
    content: (async function* () {
      for (let i = 0; i < FILE_BYTES.length; i += 100_000) yield FILE_BYTES.slice(i, i + 100_000);
    })(),
    maxBytes: 10 << 20,
    now,
  });
  let n = 0;
  const post = async (room: Room, authorId: number, body: string, extra = {}) =>
    (await store.addMessage({ room, authorId, body, clientId: `c${n++}`, ...extra })).message;
  const hello = await post(general, adaId, "Hello, everyone");
  await post(general, guestId, "Hi Ada!", { replyTo: hello.id, mentions: [adaId] });
  const withFile = await post(design, adaId, "The pattern", { attachments: [file.id] });
  const draft = await post(design, boId, "first draft");
  await store.editMessage({ room: design, id: draft.id, body: "second draft", now: now + 1 });
  const oops = await post(design, boId, "oops, wrong room");
  await store.deleteMessage({ room: design, id: oops.id, now: now + 2 });
  await store.react({
    room: design,
    id: withFile.id,
    memberId: boId,
    emoji: "👍",
    add: true,
    maxEmoji: 20,
  });
  await post(secret, adaId, "Only us, @bo", { mentions: [boId] });
  await post(direct, boId, "psst");
  for (let i = 0; i < 30; i++) {
    await post(general, i % 2 ? adaId : boId, `message ${i} — ünïcode ✓`);
  }
  await store.markRead(general.id, adaId, hello.id);
  // Any other table (here the admin audit log, when the schema has it) moves the same way.
  if (store instanceof SqliteStore) {
    const audit = store.db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'audit_log'").get();
    if (audit) {
      store.db.prepare(
        `INSERT INTO audit_log (at, actor_id, action, target_kind, target_id, detail)
         VALUES (?, ?, 'promote', 'member', ?, '{}')`,
      ).run(now, adaId, String(boId));
    }
  }
  await store.markRead(design.id, boId, withFile.id);
  return {
    guestCookie,
    guestId,
    adaId,
    boId,
    rooms: [general, design, secret, direct],
    sha256: file.sha256,
  };
}

/** A fresh SQLite store in a temporary folder (with its files folder). */
async function freshSqlite(): Promise<{ store: SqliteStore; remove(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "parley-export-test-" });
  const store = new SqliteStore(`${dir}/parley.db`);
  return {
    store,
    remove: async () => {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A PostgreSQL store in a schema of its own, dropped by `remove`. */
async function freshPostgres(): Promise<{ store: PostgresStore; remove(): Promise<void> }> {
  const schema = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const store = await PostgresStore.open(url!, { schema, max: 4 });
  return {
    store,
    remove: async () => {
      await store.close();
      const admin = postgres(url!, { max: 1, onnotice: () => {} });
      try {
        await admin`DROP SCHEMA IF EXISTS ${admin(schema)} CASCADE`;
      } finally {
        await admin.end();
      }
    },
  };
}

Deno.test({
  name:
    "export/import: SQLite → PostgreSQL → SQLite gives the same export; sessions, ids, read positions and files survive",
  ignore: !url,
  async fn() {
    const [source, pg, back] = [await freshSqlite(), await freshPostgres(), await freshSqlite()];
    try {
      const made = await populate(source.store);
      const first = await exportText(source.store);
      // The target was started once (settings and the seed room only): that counts as empty.
      (await appOn(pg.store)).shutdown();
      await importText(pg.store, first);
      const second = await exportText(pg.store);
      await importText(back.store, second);
      const third = await exportText(back.store);

      assert.equal(JSON.parse(first.split("\n")[0]).source, "sqlite");
      assert.equal(JSON.parse(second.split("\n")[0]).source, "postgres");
      assert.equal(withoutSource(second), withoutSource(first));
      assert.equal(third, first);

      for (const target of [pg.store, back.store]) {
        // The session made before the move still works (cookie secret and sessions moved).
        const app = await appOn(target);
        assert.equal(await whoIs(app, made.guestCookie), made.guestId);
        app.shutdown();
        // Message ids, change numbers and read positions are those of the source.
        for (const room of made.rooms) {
          const [was, now] = [
            await source.store.listMessages(room, { latest: true, limit: 100 }),
            await target.listMessages((await target.getRoomById(room.id))!, {
              latest: true,
              limit: 100,
            }),
          ];
          assert.ok(was.messages.length > 0);
          assert.deepEqual(now, was);
        }
        for (const member of [made.adaId, made.boId, made.guestId]) {
          assert.deepEqual(
            await target.listMyRooms(member, 99),
            await source.store.listMyRooms(member, 99),
          );
        }
        assert.deepEqual(await bytesOf(await target.readContent(made.sha256)), FILE_BYTES);
        // Numbering continues after the moved ids.
        const general = (await target.getRoom("general"))!;
        const { message } = await target.addMessage({
          room: general,
          authorId: made.adaId,
          body: "after the move",
          clientId: "after",
        });
        const lastId = JSON.parse(
          first.split("\n").findLast((l) => l.includes('"ids":"messages"'))!,
        )
          .last;
        assert.equal(message.id, lastId + 1);
      }
    } finally {
      await source.remove();
      await pg.remove();
      await back.remove();
    }
  },
});

Deno.test("export/import: every table of the schema is exported, in foreign-key order", async () => {
  const { store, remove } = await freshSqlite();
  try {
    await populate(store);
    const text = await exportText(store);
    const exported = new Set(
      text.split("\n").filter((l) => l.startsWith('{"table"')).map((l) => JSON.parse(l).table),
    );
    // Every table of the live schema but SQLite's own and the search index's.
    const live = store.db.prepare(
      `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         AND name NOT LIKE 'message_words%' AND name NOT LIKE 'message_text%'`,
    ).all().map((row) => String(row.name));
    const tables = (await portableDatabase(store).tables()).map((t) => t.name);
    assert.deepEqual([...tables].sort(), [...live].sort());
    for (
      const name of [
        "settings",
        "rooms",
        "members",
        "sessions",
        "messages",
        "invites",
        "room_members",
        "reactions",
        "mentions",
        "blobs",
        "files",
      ]
    ) assert.ok(exported.has(name), `${name} is exported`);
    // A table's rows come after those of every table it references.
    const firstLine = new Map<string, number>();
    text.split("\n").forEach((line, i) => {
      if (line.startsWith('{"table"')) {
        const table = JSON.parse(line).table;
        if (!firstLine.has(table)) firstLine.set(table, i);
      }
    });
    for (const table of await portableDatabase(store).tables()) {
      for (const other of table.references) {
        if (firstLine.has(table.name) && firstLine.has(other)) {
          assert.ok(
            firstLine.get(other)! < firstLine.get(table.name)!,
            `${other} before ${table.name}`,
          );
        }
      }
    }
    // Without --sessions, no sessions: people log in again.
    assert.ok(!(await exportText(store, { sessions: false })).includes('"table":"sessions"'));
  } finally {
    await remove();
  }
});

Deno.test("export/import: a used target is refused; --force re-runs change nothing", async () => {
  const [source, target] = [await freshSqlite(), await freshSqlite()];
  try {
    await populate(source.store);
    const text = await exportText(source.store);
    const first = await importText(target.store, text);
    assert.ok(first.written > 40);
    assert.equal(first.skipped, 0);
    await assert.rejects(() => importText(target.store, text), TargetNotEmptyError);
    const again = await importText(target.store, text, { force: true });
    assert.equal(again.written, 0);
    assert.equal(again.skipped, first.written);
    assert.equal(await exportText(target.store), text);
    // A target with other data is refused as well.
    const other = await freshSqlite();
    try {
      await other.store.createMember("Someone");
      await assert.rejects(() => importText(other.store, text), /not empty: members \(1\)/);
    } finally {
      await other.remove();
    }
  } finally {
    await source.remove();
    await target.remove();
  }
});

Deno.test("export/import: a cut-off export or damaged file bytes are errors", async () => {
  const { store, remove } = await freshSqlite();
  try {
    await populate(store);
    const text = await exportText(store);
    const lines = text.trimEnd().split("\n");
    const cut = await freshSqlite();
    try {
      await assert.rejects(() => importText(cut.store, lines.slice(0, -1).join("\n")), /cut off/);
    } finally {
      await cut.remove();
    }
    const damaged = lines.map((line) => {
      if (!line.startsWith('{"content"')) return line;
      const { content, data } = JSON.parse(line);
      return JSON.stringify({ content, data: "AAAA" + data.slice(4) });
    }).join("\n");
    const bad = await freshSqlite();
    try {
      await assert.rejects(() => importText(bad.store, damaged), ContentMismatchError);
    } finally {
      await bad.remove();
    }
    // The export carries the bytes whole: their hash is the content key.
    const hash = createHash("sha256");
    for (const line of lines.filter((l) => l.startsWith('{"content"'))) {
      hash.update(Uint8Array.from(atob(JSON.parse(line).data), (c) => c.charCodeAt(0)));
    }
    assert.deepEqual(
      hash.digest("hex"),
      JSON.parse(lines.find((l) => l.includes('"blobs"'))!).row.sha256,
    );
  } finally {
    await remove();
  }
});

Deno.test("export/import: 200,000 messages export in a 48 MiB JavaScript heap", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-export-memory-" });
  try {
    const path = `${dir}/parley.db`;
    (await fillSqlite(path, { messages: 200_000, seed: 1 })).close();
    await new SqliteStore(path).close(); // the remaining migrations
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--v8-flags=--max-old-space-size=48",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-net",
        "--allow-sys",
        new URL("../ops/export.ts", import.meta.url).pathname,
        `${dir}/export.ndjson`,
      ],
      env: { SQLITE_PATH: path, PARLEY_FILES_DIR: `${dir}/files`, NO_COLOR: "1" },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let peak = 0;
    const sample = setInterval(() => {
      try {
        const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
        peak = Math.max(peak, Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0) * 1024);
      } catch { /* ended, or no /proc */ }
    }, 50);
    const { success, stderr } = await child.output();
    clearInterval(sample);
    assert.ok(success, new TextDecoder().decode(stderr));
    const lines = (await Deno.readTextFile(`${dir}/export.ndjson`)).trimEnd().split("\n");
    assert.equal(lines.filter((l) => l.startsWith('{"table":"messages"')).length, 200_000);
    if (peak > 0) {
      console.log(`export of 200,000 messages: peak RSS ${(peak / 2 ** 20).toFixed(1)} MiB`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
