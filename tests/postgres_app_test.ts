// Parley on PostgreSQL: two instances on one database, and a database restart under load.
import assert from "node:assert/strict";
import postgres from "postgres";
import { createParley, type Parley } from "../app.ts";
import { PostgresStore } from "../db/postgres_store.ts";
import { testBundle, testConfig } from "./helpers.ts";

const url = Deno.env.get("TEST_DATABASE_URL");
const pgData = Deno.env.get("TEST_PG_DATA");

interface Instance {
  url: string;
  parley: Parley;
  store: PostgresStore;
  stop(): Promise<void>;
}

async function startInstance(schema: string): Promise<Instance> {
  const store = await PostgresStore.open(url!, { schema, max: 4 });
  const parley = await createParley({
    config: testConfig({ PARLEY_SECRET: "" }),
    store,
    bundle: await testBundle(),
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    parley.fetch,
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    parley,
    store,
    stop: async () => {
      parley.shutdown();
      await server.shutdown();
      await store.close();
    },
  };
}

async function dropSchema(schema: string) {
  const admin = postgres(url!, { max: 1, onnotice: () => {} });
  try {
    await admin`DROP SCHEMA IF EXISTS ${admin(schema)} CASCADE`;
  } finally {
    await admin.end();
  }
}

/** A test with two app instances on one fresh schema (stopped and dropped afterwards). */
function twoInstances(name: string, fn: (a: Instance, b: Instance) => Promise<void>) {
  Deno.test({
    name: `postgres app: ${name}`,
    ignore: !url,
    fn: async () => {
      const schema = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
      const [a, b] = [await startInstance(schema), await startInstance(schema)];
      try {
        await fn(a, b);
      } finally {
        await a.stop();
        await b.stop();
        await dropSchema(schema);
      }
    },
  });
}

async function guestCookie(base: string): Promise<string> {
  const response = await fetch(`${base}/`);
  await response.body?.cancel();
  return response.headers.get("set-cookie")!.split(";")[0];
}

function post(base: string, cookie: string, body: string, clientId: string) {
  return fetch(`${base}/api/rooms/general/messages`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json" },
    body: JSON.stringify({ body, clientId }),
  });
}

twoInstances(
  "a file uploaded on A is served by B (bytes in the database, no shared disk), and found by search",
  async (a, b) => {
    const cookie = await guestCookie(a.url);
    // 600 KiB: more than two of PostgreSQL's 256 KiB chunks.
    const bytes = new Uint8Array(600 * 1024).map((_, i) => (i * 7 + (i >> 10)) & 0xff);
    const form = new FormData();
    form.append("file", new Blob([bytes]), "notes from the offsite.bin");
    const uploaded = await fetch(`${a.url}/api/rooms/general/files`, {
      method: "POST",
      headers: { cookie },
      body: form,
    });
    assert.equal(uploaded.status, 201);
    const file = await uploaded.json();
    assert.equal(file.size, bytes.length);
    const sent = await fetch(`${a.url}/api/rooms/general/messages`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: JSON.stringify({
        body: "offsite notes attached",
        clientId: "f1",
        attachments: [file.id],
      }),
    });
    assert.equal(sent.status, 201);
    const message = await sent.json();
    assert.deepEqual(message.attachments.map((x: { id: string }) => x.id), [file.id]);

    const whole = await fetch(`${b.url}${file.url}`, { headers: { cookie } });
    assert.equal(whole.status, 200);
    assert.deepEqual(new Uint8Array(await whole.arrayBuffer()), bytes);
    const start = 256 * 1024 - 10;
    const part = await fetch(`${b.url}${file.url}`, {
      headers: { cookie, range: `bytes=${start}-${start + 19}` },
    });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), `bytes ${start}-${start + 19}/${bytes.length}`);
    assert.deepEqual(new Uint8Array(await part.arrayBuffer()), bytes.slice(start, start + 20));

    const found = await (await fetch(`${b.url}/api/search?q=offsite`, { headers: { cookie } }))
      .json();
    assert.deepEqual(found.results.map((r: { message: { id: number } }) => r.message.id), [
      message.id,
    ]);

    const deleted = await fetch(`${a.url}/api/rooms/general/messages/${message.id}`, {
      method: "DELETE",
      headers: { cookie },
    });
    assert.equal(deleted.status, 200);
    await deleted.body?.cancel();
    const gone = await fetch(`${b.url}${file.url}`, { headers: { cookie } });
    assert.equal(gone.status, 404);
    await gone.body?.cancel();
    const after = await (await fetch(`${b.url}/api/search?q=offsite`, { headers: { cookie } }))
      .json();
    assert.deepEqual(after.results, []);
  },
);

async function pgCtl(...args: string[]) {
  const command = new Deno.Command("runuser", {
    args: ["-u", "postgres", "--", "pg_ctl", "-D", pgData!, "-w", ...args],
    stdout: "null",
    stderr: "piped",
  });
  const { code, stderr } = await command.output();
  if (code !== 0) throw new Error(`pg_ctl ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
}

twoInstances("a post on instance A wakes a long poll on instance B at once", async (a, b) => {
  assert.notEqual(a.url, b.url, "two ports");
  const cookie = await guestCookie(a.url);
  const meOnB = await fetch(`${b.url}/api/me`, { headers: { cookie } });
  assert.equal(meOnB.status, 200, "a session made on A is valid on B (shared secret)");
  await meOnB.body?.cancel();

  const started = performance.now();
  const poll = fetch(`${b.url}/api/rooms/general/messages?after=0&wait=10`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const sent = await (await post(a.url, cookie, "across instances", "x1")).json();
  const { messages } = await (await poll).json();
  const elapsed = performance.now() - started;
  assert.deepEqual(messages, [sent]);
  assert.ok(
    elapsed < 2000,
    `woken by NOTIFY, not by the 10 s wait (${Math.round(elapsed)} ms)`,
  );

  // Cursors stay ordered across instances under concurrent posts.
  const cookies = await Promise.all([a.url, b.url, a.url, b.url].map(guestCookie));
  const bases = [a.url, b.url, a.url, b.url];
  await Promise.all(
    Array.from(
      { length: 40 },
      (_, i) => post(bases[i % 4], cookies[i % 4], `c${i}`, `c${i}`).then((r) => r.body?.cancel()),
    ),
  );
  const fromA = (await (await fetch(`${a.url}/api/rooms/general/messages?after=0&limit=200`))
    .json()).messages.map((m: { id: number }) => m.id);
  const fromB = (await (await fetch(`${b.url}/api/rooms/general/messages?after=0&limit=200`))
    .json()).messages.map((m: { id: number }) => m.id);
  assert.equal(fromA.length, 41);
  assert.deepEqual(fromA, fromB);
  assert.deepEqual(fromA, [...fromA].sort((x: number, y: number) => x - y));
});

twoInstances(
  "a room-list poll on B wakes when A starts a direct conversation with B",
  async (a, b) => {
    const [ada, bob] = [await guestCookie(a.url), await guestCookie(b.url)];
    const bobId = (await (await fetch(`${b.url}/api/me`, { headers: { cookie: bob } })).json()).id;
    const first = await (await fetch(`${b.url}/api/rooms`, { headers: { cookie: bob } })).json();
    const started = performance.now();
    const poll = fetch(
      `${b.url}/api/rooms?wait=10&since=${encodeURIComponent(first.cursor)}`,
      { headers: { cookie: bob } },
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const direct = await fetch(`${a.url}/api/direct`, {
      method: "POST",
      headers: { cookie: ada, "content-type": "application/json" },
      body: JSON.stringify({ memberId: bobId }),
    });
    assert.equal(direct.status, 200);
    const room = await direct.json();
    const answer = await (await poll).json();
    const elapsed = performance.now() - started;
    assert.ok(answer.rooms.some((r: { slug: string }) => r.slug === room.slug));
    assert.ok(
      elapsed < 2000,
      `woken by NOTIFY, not by the 10 s wait (${Math.round(elapsed)} ms)`,
    );
  },
);

twoInstances(
  "a since long poll on B wakes on an edit, a reaction and a deletion on A",
  async (a, b) => {
    const cookie = await guestCookie(a.url);
    const sent = await (await post(a.url, cookie, "change me", "m1")).json();
    const path = `/api/rooms/general/messages/${sent.id}`;
    const changes: [string, string, string, unknown][] = [
      ["edit", "PATCH", path, { body: "changed" }],
      ["reaction", "PUT", `${path}/reactions/${encodeURIComponent("👍")}`, undefined],
      ["deletion", "DELETE", path, undefined],
    ];
    for (const [what, method, target, body] of changes) {
      const { cursor } = await (await fetch(`${b.url}/api/rooms/general/messages`)).json();
      const started = performance.now();
      const poll = fetch(`${b.url}/api/rooms/general/messages?since=${cursor}&wait=10`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const changed = await fetch(`${a.url}${target}`, {
        method,
        headers: { cookie, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      assert.equal(changed.status, 200, what);
      const change = await changed.json();
      const answer = await (await poll).json();
      const elapsed = performance.now() - started;
      assert.deepEqual(answer.messages, [change], `B receives the ${what} as A answered it`);
      assert.equal(answer.cursor, change.seq);
      assert.ok(elapsed < 2000, `woken by NOTIFY for the ${what} (${Math.round(elapsed)} ms)`);
    }
  },
);

Deno.test({
  name: "postgres app: a database restart answers 503, then recovers without losing a message",
  ignore: !url || !pgData,
  fn: async () => {
    const schema = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    const app = await startInstance(schema);
    try {
      const cookie = await guestCookie(app.url);
      const first = await (await post(app.url, cookie, "before", "m1")).json();
      const poll = fetch(`${app.url}/api/rooms/general/messages?after=${first.id}&wait=30`);
      await new Promise((resolve) => setTimeout(resolve, 100));

      await pgCtl("-m", "fast", "stop");
      const down = await post(app.url, cookie, "during", "m2");
      assert.equal(down.status, 503);
      assert.equal(down.headers.get("retry-after"), "2");
      assert.equal((await down.json()).error.code, "unavailable");
      const reading = await fetch(`${app.url}/api/rooms/general/messages`);
      assert.equal(reading.status, 503);
      await reading.body?.cancel();
      const page = await fetch(`${app.url}/`, { headers: { cookie } });
      assert.equal(page.status, 503);
      assert.match(await page.text(), /unavailable/);

      await pgCtl("-l", `${pgData}/../restart.log`, "start");
      let stored: Response | undefined;
      for (let i = 0; i < 50; i++) {
        stored = await post(app.url, cookie, "during", "m2");
        if (stored.status !== 503) break;
        await stored.body?.cancel();
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.equal(stored!.status, 201, "the retried message is stored once the database is back");
      const second = await stored!.json();
      const again = await post(app.url, cookie, "during", "m2");
      assert.equal(again.status, 200, "a further retry does not duplicate it");
      await again.body?.cancel();

      const { messages: polled } = await (await poll).json();
      assert.deepEqual(
        polled.map((m: { id: number }) => m.id),
        [second.id],
        "the waiting poll got it",
      );
      const { messages } = await (await fetch(`${app.url}/api/rooms/general/messages`)).json();
      assert.deepEqual(messages.map((m: { body: string }) => m.body), ["before", "during"]);
    } finally {
      await pgCtl("-l", `${pgData}/../restart.log`, "start").catch(() => {});
      await app.stop();
      await dropSchema(schema);
    }
  },
});

twoInstances("typing on instance A wakes a typing poll on instance B", async (a, b) => {
  const cookie = await guestCookie(a.url);
  const me = await (await fetch(`${a.url}/api/me`, { headers: { cookie } })).json();
  const started = performance.now();
  const poll = fetch(`${b.url}/api/rooms/general/typing?since=0&wait=10`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const typed = await fetch(`${a.url}/api/rooms/general/typing`, {
    method: "POST",
    headers: { cookie, origin: a.url },
  });
  assert.equal(typed.status, 204);
  const answer = await (await poll).json();
  assert.deepEqual(answer.typing, [{ id: me.id, name: me.name }]);
  const elapsed = performance.now() - started;
  assert.ok(
    elapsed < 2000,
    `woken by NOTIFY, not by the 10 s wait (${Math.round(elapsed)} ms)`,
  );

  // Sending on A ends it on B.
  const next = fetch(`${b.url}/api/rooms/general/typing?since=${answer.version}&wait=10`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  await (await post(a.url, cookie, "sent", "t1")).body?.cancel();
  assert.deepEqual(await (await next).json(), { typing: [], version: 0 });
});
