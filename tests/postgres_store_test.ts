// The store contract on PostgreSQL, plus what only PostgreSQL has: instances sharing one database.
import assert from "node:assert/strict";
import { pollUntilSeen } from "./other_connection.ts";
import postgres from "postgres";
import { PostgresStore } from "../db/postgres_store.ts";
import { transaction } from "../db/postgres_transaction.ts";
import { POSTGRES_MIGRATIONS } from "../db/migrations/postgres.ts";
import type { Message } from "../db/store.ts";
import { storeContract } from "./store_contract.ts";
import { searchContract } from "./search_contract.ts";
import { adminContract } from "./admin_contract.ts";
import { checkErasure } from "./erasure.ts";
import { fileContract } from "./file_contract.ts";

const url = Deno.env.get("TEST_DATABASE_URL");
if (!url) console.log("postgres tests skipped: TEST_DATABASE_URL is not set");

/** A fresh schema name, so every test starts from an empty database. */
function freshSchema(): string {
  return `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

/** Drops a test schema. */
async function dropSchema(schema: string): Promise<void> {
  const admin = postgres(url!, { max: 1, onnotice: () => {} });
  try {
    await admin`DROP SCHEMA IF EXISTS ${admin(schema)} CASCADE`;
  } finally {
    await admin.end();
  }
}

/** Opens a store in its own schema; closing it also drops the schema. */
async function openIsolated(): Promise<PostgresStore> {
  const schema = freshSchema();
  const store = await PostgresStore.open(url!, { schema, max: 4 });
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await dropSchema(schema);
  };
  return store;
}

storeContract("postgres", openIsolated, { ignore: !url });
fileContract("postgres", openIsolated, async (store) => {
  const sql = (store as PostgresStore).sql;
  const [row] = await sql`SELECT (SELECT count(*)::int FROM files) AS files,
    (SELECT count(*)::int FROM blobs) AS blobs,
    (SELECT count(DISTINCT sha256)::int FROM blob_chunks) AS contents`;
  return { files: row.files, blobs: row.blobs, contents: row.contents };
}, { ignore: !url });
searchContract("postgres", openIsolated, { ignore: !url });
adminContract("postgres", openIsolated, { ignore: !url });

function pgTest(name: string, fn: (schema: string) => Promise<void>) {
  Deno.test({
    name: `postgres store: ${name}`,
    ignore: !url,
    fn: async () => {
      const schema = freshSchema();
      try {
        await fn(schema);
      } finally {
        await dropSchema(schema);
      }
    },
  });
}

/**
 * Makes every commit that wrote to `messages` slow (a deferred trigger sleeps up to `maxMs` per
 * row written, at COMMIT): it widens the window between a transaction drawing its id and change
 * number and other transactions seeing them, where a change committed out of order would slip
 * behind a reader's cursor.
 */
async function slowCommits(store: PostgresStore, maxMs: number): Promise<void> {
  await store.sql.unsafe(`
    CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(random() * ${maxMs / 1000}); RETURN NULL; END $$;
    CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT OR UPDATE ON messages
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit();
  `);
}

pgTest("several instances migrate one database at once, once", async (schema) => {
  const stores = await Promise.all(
    [1, 2, 3].map(() => PostgresStore.open(url!, { schema, max: 2 })),
  );
  try {
    const rows = await stores[0].sql`SELECT version FROM parley_schema`;
    assert.equal(rows.length, 1);
    const rooms = await stores[0].sql`SELECT count(*)::int AS n FROM rooms`;
    assert.equal(rooms[0].n, 1, "the default room exists once");
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
});

pgTest(
  "an instance that answers empty polls from memory still finds another's changes",
  async (schema) => {
    const [a, b] = [
      await PostgresStore.open(url!, { schema, max: 2 }),
      await PostgresStore.open(url!, { schema, max: 2 }),
    ];
    try {
      const { ms } = await pollUntilSeen(a, b, 20);
      // The notification, not the 2 s expiry, brought it: well within it.
      assert.ok(ms < 1500, `found after ${ms} ms`);
    } finally {
      await a.close();
      await b.close();
    }
  },
);

pgTest("a message stored through one instance wakes a wait on another", async (schema) => {
  const a = await PostgresStore.open(url!, { schema, max: 2 });
  const b = await PostgresStore.open(url!, { schema, max: 2 });
  try {
    const room = (await b.getRoom("general"))!;
    const waiter = b.waitForChange(room, 0, { timeoutMs: 5000 });
    const member = await a.createMember("Ada");
    const started = performance.now();
    const { message } = await a.addMessage({
      room,
      authorId: member.id,
      body: "hi",
      clientId: "1",
    });
    assert.equal(await waiter.arrived, true);
    assert.ok(performance.now() - started < 1000, "woken by NOTIFY, not by the timeout");
    const seen = await b.listMessages(room, { after: 0, limit: 10 });
    assert.deepEqual(seen.messages, [message]);
    assert.equal(seen.cursor, message.seq);
  } finally {
    await a.close();
    await b.close();
  }
});

pgTest(
  "ids in a room commit in order: a following reader sees each message once",
  async (schema) => {
    const a = await PostgresStore.open(url!, { schema, max: 8 });
    const b = await PostgresStore.open(url!, { schema, max: 8 });
    try {
      const room = (await a.getRoom("general"))!;
      const [ada, bob] = [await a.createMember("Ada"), await b.createMember("Bob")];
      await slowCommits(a, 5);
      let done = false;
      const seen: number[] = [];
      const reader = (async () => {
        let cursor = 0;
        while (true) {
          const finished = done;
          const page = (await b.listMessages(room, { after: cursor, limit: 200 })).messages;
          for (const m of page) seen.push(m.id);
          if (page.length) cursor = page.at(-1)!.id;
          if (finished && page.length === 0) return;
        }
      })();
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          (i % 2 ? a : b).addMessage({
            room,
            authorId: (i % 2 ? ada : bob).id,
            body: `m${i}`,
            clientId: `c${i}`,
          })),
      );
      done = true;
      await reader;
      const all = (await a.listMessages(room, { after: 0, limit: 200 })).messages.map((m) => m.id);
      assert.equal(all.length, 200);
      assert.deepEqual(seen, all, "the reader saw every message, once, in order");
    } finally {
      await a.close();
      await b.close();
    }
  },
);

pgTest(
  "change numbers commit in order: a reader following since misses no change of concurrent " +
    "edits, reactions and new messages, even with slow commits",
  async (schema) => {
    const a = await PostgresStore.open(url!, { schema, max: 8 });
    const b = await PostgresStore.open(url!, { schema, max: 8 });
    // The reader has an instance of its own, so that it keeps up with the writers: a reader at
    // the head of the feed is the one a change committed out of order slips past.
    const r = await PostgresStore.open(url!, { schema, max: 1 });
    try {
      const room = (await a.getRoom("general"))!;
      const [ada, bob] = [await a.createMember("Ada"), await b.createMember("Bob")];
      const base: Message[] = [];
      for (let i = 0; i < 8; i++) {
        const sent = await a.addMessage({
          room,
          authorId: ada.id,
          body: `base ${i}`,
          clientId: `base${i}`,
        });
        base.push(sent.message);
      }
      await slowCommits(a, 10);
      let done = false;
      const seen = new Map<number, Message>();
      let pages = 0;
      const reader = (async () => {
        let cursor = 0;
        while (true) {
          const finished = done;
          const page = await r.listMessages(room, { since: cursor, limit: 20 });
          let last = cursor;
          for (const m of page.messages) {
            assert.ok(m.seq > last, `ascending change numbers above the cursor ${cursor}`);
            last = m.seq;
            seen.set(m.id, m);
          }
          assert.ok(page.cursor >= last, "the cursor covers the page");
          cursor = page.cursor;
          pages++;
          if (finished && page.messages.length === 0) return;
          // Nothing new: let the writers and their notifications in (an empty poll at the head
          // of the feed is answered from memory, without waiting for the database).
          if (page.messages.length === 0) await new Promise((resolve) => setTimeout(resolve, 0));
        }
      })();
      const emoji = ["👍", "🎉", "👀"];
      const change = async (i: number) => {
        const store = i % 2 ? a : b;
        const member = i % 3 ? ada : bob;
        const target = base[i % base.length];
        switch (i % 5) {
          case 0:
          case 1:
            return (await store.addMessage({
              room,
              authorId: member.id,
              body: `new ${i}`,
              clientId: `new${i}`,
            })).message;
          case 2: {
            const edited = await store.editMessage({
              room,
              id: target.id,
              body: `edit ${i}`,
              now: Date.now(),
            });
            assert.ok(edited.ok);
            return edited.message;
          }
          default: {
            const reacted = await store.react({
              room,
              id: target.id,
              memberId: member.id,
              emoji: emoji[i % emoji.length],
              add: i % 5 === 3,
              maxEmoji: 20,
            });
            assert.ok(reacted.ok);
            return reacted.message;
          }
        }
      };
      // 16 writers on two instances, each making its changes one after another.
      const changes = (await Promise.all(Array.from({ length: 16 }, async (_, w) => {
        const made: Message[] = [];
        for (let i = w; i < 240; i += 16) made.push(await change(i));
        return made;
      }))).flat();
      done = true;
      await reader;
      assert.ok(new Set(changes.map((m) => m.seq)).size > 100, "most changes took a number");
      const final = await a.listMessages(room, { since: 0, limit: 500 });
      assert.equal(final.messages.length, base.length + 96);
      assert.ok(pages > 3, "the reader read while the changes were being made");
      // Each message's latest change is the last one the reader received for it: a change
      // committed behind the reader's cursor would be missing here.
      for (const m of final.messages) {
        assert.deepEqual(seen.get(m.id), m, `message ${m.id} (change ${m.seq}) reached the reader`);
      }
      assert.equal(seen.size, final.messages.length);
    } finally {
      await a.close();
      await b.close();
      await r.close();
    }
  },
);

pgTest("deleting erases the text and the reactions from the tables", async (schema) => {
  const store = await PostgresStore.open(url!, { schema, max: 2 });
  const raw = postgres(url!, { max: 1, onnotice: () => {} });
  try {
    // Every table of the schema, each row as text, so that the text is found wherever it is kept.
    const tables = async () =>
      (await raw`SELECT table_name FROM information_schema.tables
        WHERE table_schema = ${schema} AND table_type = 'BASE TABLE'`).map((t) => t.table_name);
    await checkErasure(store, {
      async holding(pattern) {
        const found: string[] = [];
        for (const table of (await tables()).sort()) {
          const rows = await raw`SELECT 1 FROM ${raw(schema)}.${raw(table)} x
            WHERE x::text LIKE ${pattern} LIMIT 1`;
          if (rows.length > 0) found.push(table);
        }
        return found;
      },
      async reactions(id) {
        return (await raw`SELECT count(*)::int AS n FROM ${raw(schema)}.reactions
          WHERE message_id = ${id}`)[0].n;
      },
      async message(id) {
        const [row] = await raw`SELECT body, deleted_at FROM ${raw(schema)}.messages
          WHERE id = ${id}`;
        return { body: row.body, deleted_at: row.deleted_at };
      },
    });
  } finally {
    await raw.end();
    await store.close();
  }
});

pgTest("messages from before the change feed take their id as change number", async (schema) => {
  const raw = postgres(url!, {
    max: 1,
    onnotice: () => {},
    connection: { search_path: schema },
  });
  try {
    await raw`CREATE SCHEMA ${raw(schema)}`;
    for (const migration of POSTGRES_MIGRATIONS.slice(0, 3)) await raw.unsafe(migration);
    await raw`CREATE TABLE parley_schema (version INTEGER NOT NULL)`;
    await raw`INSERT INTO parley_schema (version) VALUES (3)`;
    await raw`INSERT INTO members (name, created_at) VALUES ('Ada', 0)`;
    await raw`INSERT INTO rooms (slug, name, created_at) VALUES ('quiet', 'quiet', 0)`;
    for (const slug of ["general", "other", "general"]) {
      if (slug === "other") {
        await raw`INSERT INTO rooms (slug, name, created_at) VALUES ('other', 'other', 0)`;
      }
      await raw`INSERT INTO messages (room_id, author_id, body, client_id, created_at)
        SELECT r.id, 1, ${slug}, ${crypto.randomUUID()}, 0 FROM rooms r WHERE r.slug = ${slug}`;
    }
  } finally {
    await raw.end();
  }
  const store = await PostgresStore.open(url!, { schema, max: 2 });
  try {
    const general = (await store.getRoom("general"))!;
    const page = await store.listMessages(general, { since: 0, limit: 10 });
    assert.deepEqual(page.messages.map((m) => [m.id, m.seq]), [[1, 1], [3, 3]]);
    assert.equal(page.cursor, 3);
    const quiet = (await store.getRoom("quiet"))!;
    assert.equal((await store.listMessages(quiet, { latest: true, limit: 1 })).cursor, 0);
    const ada = (await store.getMember(1))!;
    const { message } = await store.addMessage({
      room: general,
      authorId: ada.id,
      body: "after",
      clientId: "a",
    });
    assert.equal(message.seq, 4, "the room counts on from its last message");
  } finally {
    await store.close();
  }
});

pgTest("a database from a newer Parley is refused", async (schema) => {
  const store = await PostgresStore.open(url!, { schema, max: 1 });
  await store.sql`UPDATE parley_schema SET version = 999`;
  await store.close();
  await assert.rejects(
    () => PostgresStore.open(url!, { schema, max: 1 }),
    /newer than this Parley knows/,
  );
});

pgTest("one instance prunes at a time: the others skip while it is at it", async (schema) => {
  const store = await PostgresStore.open(url!, { schema, max: 2 });
  const other = postgres(url!, { max: 1, onnotice: () => {} });
  try {
    const options = { now: Date.now(), sessionIdleMs: 1000, guestRetentionMs: 1000 };
    await other.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(72616101)`;
      assert.equal(await store.pruneStale(options), null, "skipped while another prunes");
    });
    assert.deepEqual(await store.pruneStale(options), {
      sessions: 0,
      invites: 0,
      guests: 0,
      files: 0,
    });
  } finally {
    await other.end();
    await store.close();
  }
});

Deno.test({
  name:
    "postgres: a transaction reserves its connection before BEGIN, even when BEGIN fills the pipeline",
  ignore: !url,
  async fn() {
    // postgres.js 3.4.9's sql.begin skips reserving the connection whenever its BEGIN fills
    // the connection's pipeline; under load that is now and then, with max_pipeline 0 it is
    // every time (porsager/postgres#1210). max_pipeline is an option its types do not list.
    const options = { max: 3, max_pipeline: 0, onnotice: () => {} };
    const sql = postgres(url!, options as Parameters<typeof postgres>[1]);
    try {
      for (let round = 0; round < 10; round++) {
        const busy = [1, 2, 3].map(() => sql`SELECT pg_sleep(0.2)`.execute());
        await new Promise((resolve) => setTimeout(resolve, 20)); // sent: every connection busy
        const plain = Array.from({ length: 6 }, (_, i) => sql`SELECT ${i}::int AS n`);
        const transactions = Array.from({ length: 5 }, (_, i) =>
          transaction(sql, async (tx) => {
            const [row] = await tx`SELECT ${i}::int AS n, now() = statement_timestamp() AS fresh`;
            const [state] = await tx`SELECT count(*)::int AS open FROM pg_stat_activity
              WHERE pid = pg_backend_pid() AND state = 'active' AND xact_start IS NOT NULL`;
            assert.equal(state.open, 1, "inside a transaction");
            return row.n;
          }));
        const results = await Promise.allSettled([...busy, ...plain, ...transactions]);
        const failed = results.filter((r) => r.status === "rejected");
        assert.deepEqual(failed, [], `round ${round}`);
        assert.deepEqual(
          await Promise.all(transactions),
          [0, 1, 2, 3, 4],
        );
      }
      const [idle] = await sql`SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND state = 'idle in transaction'`;
      assert.equal(idle.n, 0, "no transaction left open on a pooled connection");
    } finally {
      await sql.end();
    }
  },
});

/** Reads `read` until `done` says so (at most 2 s); returns how long it took. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<number> {
  const started = performance.now();
  while (!done(await read())) {
    if (performance.now() - started > 2000) throw new Error("not within 2 s");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now() - started;
}

pgTest(
  "cached sessions and rooms: a change counts at once on its instance, on another with the notification",
  async (schema) => {
    const [a, b] = [
      await PostgresStore.open(url!, { schema, max: 2 }),
      await PostgresStore.open(url!, { schema, max: 2 }),
    ];
    try {
      const ada = await a.createMember("Ada");
      await a.createSession(ada.id, "ada-token");
      const eve = await a.createMember("Eve");
      const eveSession = await a.createSession(eve.id, "eve-token");
      const general = (await a.getRoom("general"))!;
      for (const store of [a, b]) {
        assert.ok(await store.getSession("ada-token"));
        assert.ok(await store.getSession("eve-token"));
        assert.equal((await store.getRoom("general"))?.topic, general.topic);
      }

      await a.banMember(ada.id, Date.now());
      assert.equal(await a.getSession("ada-token"), null, "at once where it was banned");
      const banMs = await until(() => b.getSession("ada-token"), (s) => s === null);
      await a.renameMember(eve.id, "Eve Renamed");
      assert.equal((await a.getSession("eve-token"))?.member.name, "Eve Renamed");
      await until(() => b.getSession("eve-token"), (s) => s?.member.name === "Eve Renamed");
      await b.deleteSession(eveSession.id);
      assert.equal(await b.getSession("eve-token"), null, "logged out at once on b");
      await until(() => a.getSession("eve-token"), (s) => s === null);
      await b.setRoomTopic(general.id, "new topic");
      assert.equal((await b.getRoom("general"))?.topic, "new topic");
      await until(() => a.getRoom("general"), (r) => r?.topic === "new topic");
      await a.archiveRoom(general.id, Date.now());
      assert.equal((await a.getRoomById(general.id))?.archived, true);
      await until(() => b.getRoomById(general.id), (r) => r?.archived === true);
      // The notification, not the cache's 5 s age, brought it.
      assert.ok(banMs < 1000, `the ban counted on b after ${banMs} ms`);
    } finally {
      await a.close();
      await b.close();
    }
  },
);
