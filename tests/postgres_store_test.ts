// The store contract on PostgreSQL, plus what only PostgreSQL has: instances sharing one database.
import assert from "node:assert/strict";
import postgres from "postgres";
import { PostgresStore } from "../db/postgres_store.ts";
import { storeContract } from "./store_contract.ts";

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

pgTest("a message stored through one instance wakes a wait on another", async (schema) => {
  const a = await PostgresStore.open(url!, { schema, max: 2 });
  const b = await PostgresStore.open(url!, { schema, max: 2 });
  try {
    const room = (await b.getRoom("general"))!;
    const waiter = b.waitForMessage(room, 0, { timeoutMs: 5000 });
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
    assert.deepEqual(seen, [message]);
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
      let done = false;
      const seen: number[] = [];
      const reader = (async () => {
        let cursor = 0;
        while (true) {
          const finished = done;
          const page = await b.listMessages(room, { after: cursor, limit: 200 });
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
      const all = (await a.listMessages(room, { after: 0, limit: 200 })).map((m) => m.id);
      assert.equal(all.length, 200);
      assert.deepEqual(seen, all, "the reader saw every message, once, in order");
    } finally {
      await a.close();
      await b.close();
    }
  },
);

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
    assert.deepEqual(await store.pruneStale(options), { sessions: 0, invites: 0, guests: 0 });
  } finally {
    await other.end();
    await store.close();
  }
});
