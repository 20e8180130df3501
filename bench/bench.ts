// `deno task bench`: starts Parley and drives it over HTTP on 127.0.0.1: delivery, throughput, pages.
import { parseArgs } from "node:util";
import { SqliteStore } from "../db/sqlite_store.ts";
import { PostgresStore } from "../db/postgres_store.ts";
import { type Child, closedLoop, freePort, percentile, rssMb, startChild } from "./load.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    clients: { type: "string", default: "200" },
    rate: { type: "string", default: "20" },
    seconds: { type: "string", default: "10" },
    history: { type: "string", default: "0" },
    db: { type: "string", default: "sqlite" },
    instances: { type: "string", default: "1" },
    concurrency: { type: "string", default: "32" },
  },
});
const clients = Number(flags.clients);
const rate = Number(flags.rate);
const seconds = Number(flags.seconds);
const history = Number(flags.history);
const db = flags.db === "postgres" ? "postgres" : "sqlite";
const instances = Math.max(1, Number(flags.instances));
const concurrency = Number(flags.concurrency);
const databaseUrl = Deno.env.get("DATABASE_URL");
if (db === "postgres" && !databaseUrl) {
  console.error("--db postgres needs DATABASE_URL (a database the benchmark may empty)");
  Deno.exit(2);
}
if (db === "sqlite" && instances > 1) {
  console.error("--instances above 1 needs --db postgres (SQLite is one process's file)");
  Deno.exit(2);
}

const root = new URL("..", import.meta.url).pathname;
const tmp = await Deno.makeTempDir({ prefix: "parley-bench-" });
const sqlitePath = `${tmp}/parley.db`;
const children: Child[] = [];
const ROOM = "/api/rooms/general/messages";

function log(text: string) {
  console.error(text);
}

async function ok(url: string): Promise<boolean> {
  const response = await fetch(url);
  await response.body?.cancel();
  return response.ok;
}

/** Fills the store with `count` old messages, fast, before the server starts. */
async function fillHistory(count: number) {
  if (db === "sqlite") {
    const store = new SqliteStore(sqlitePath);
    const member = await store.createMember("History");
    const insert = store.db.prepare(
      `INSERT INTO messages (room_id, author_id, body, client_id, created_at)
       VALUES (1, ?, ?, ?, ?)`,
    );
    const start = Date.now() - count * 1000;
    store.db.exec("BEGIN");
    for (let i = 0; i < count; i++) {
      insert.run(member.id, `old message ${i} with a little text in it`, `h${i}`, start + i * 1000);
    }
    store.db.exec("COMMIT");
    await store.close();
  } else {
    const store = await PostgresStore.open(databaseUrl!);
    await store.sql`TRUNCATE messages, sessions, members RESTART IDENTITY CASCADE`;
    if (count > 0) {
      const member = await store.createMember("History");
      await store.sql`
        INSERT INTO messages (room_id, author_id, body, client_id, created_at)
        SELECT r.id, ${member.id}, 'old message ' || g || ' with a little text in it', 'h' || g,
               ${Date.now() - count * 1000} + g * 1000
        FROM generate_series(1, ${count}) AS g, rooms r WHERE r.slug = 'general'`;
      await store.sql`ANALYZE messages`;
    }
    await store.close();
  }
}

async function startParley(): Promise<string[]> {
  const bases: string[] = [];
  for (let i = 0; i < instances; i++) {
    const port = freePort();
    const env: Record<string, string> = {
      PORT: String(port),
      HOSTNAME: "127.0.0.1",
      PARLEY_SECRET: "bench-secret-0123456789abcdef",
      PARLEY_BURST_MESSAGES: "100000000",
      PARLEY_BUILD_DIR: "_no_prebuilt_bundle_",
    };
    if (db === "sqlite") env.SQLITE_PATH = sqlitePath;
    else env.DATABASE_URL = databaseUrl!;
    const base = `http://127.0.0.1:${port}`;
    children.push(
      await startChild({
        script: `${root}main.ts`,
        env,
        ready: () => ok(`${base}/api/openapi.json`),
      }),
    );
    bases.push(base);
  }
  return bases;
}

async function guest(base: string): Promise<string> {
  const response = await fetch(`${base}/`);
  await response.body?.cancel();
  return response.headers.get("set-cookie")!.split(";")[0];
}

async function latestId(base: string): Promise<number> {
  const { messages } = await (await fetch(`${base}${ROOM}?limit=1`)).json();
  return messages.at(-1)?.id ?? 0;
}

function post(base: string, cookie: string, body: string) {
  return fetch(`${base}${ROOM}`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json" },
    body: JSON.stringify({ body, clientId: crypto.randomUUID() }),
  });
}

async function measureHello(): Promise<number> {
  const port = freePort();
  const hello = await startChild({
    script: `${root}bench/hello_server.ts`,
    args: [String(port)],
    ready: () => ok(`http://127.0.0.1:${port}/`),
  });
  try {
    return await closedLoop({
      concurrency,
      seconds: 3,
      request: async () => {
        const response = await fetch(`http://127.0.0.1:${port}/`);
        await response.arrayBuffer();
        return response.ok;
      },
    });
  } finally {
    await hello.stop();
  }
}

/** Readers run the island's loop; posters send `rate` messages/s; latency per (message, reader). */
async function measureDelivery(bases: string[]) {
  const cookies = await Promise.all(
    Array.from({ length: 8 }, (_, i) => guest(bases[i % bases.length])),
  );
  const start = await latestId(bases[0]);
  const expectedPerReader = Math.round(rate * seconds);
  const seen = new Uint8Array(clients * expectedPerReader);
  const latencies: number[] = [];
  let duplicates = 0;
  let delivered = 0;
  let errors = 0;
  const stop = new AbortController();

  async function reader(index: number) {
    const base = bases[index % bases.length];
    let cursor = start;
    while (!stop.signal.aborted) {
      try {
        const response = await fetch(`${base}${ROOM}?after=${cursor}&wait=25`, {
          signal: stop.signal,
        });
        const { messages } = await response.json() as { messages: { id: number; body: string }[] };
        const now = performance.now();
        for (const message of messages) {
          const [, seq, sentAt] = message.body.split(":");
          const slot = index * expectedPerReader + Number(seq);
          if (seen[slot]) duplicates++;
          else {
            seen[slot] = 1;
            delivered++;
            latencies.push(now - Number(sentAt));
          }
        }
        if (messages.length) cursor = messages.at(-1)!.id;
      } catch {
        if (!stop.signal.aborted) {
          errors++;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    }
  }

  const readers = Array.from({ length: clients }, (_, i) => reader(i));
  // Long polls are not answered until a message arrives: give them time to reach the server.
  await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 500 + clients)));

  let peakRss = 0;
  const sampler = setInterval(() => {
    const rss = children.reduce((sum, child) => sum + rssMb(child.pid), 0);
    peakRss = Math.max(peakRss, rss);
  }, 250);
  let posted = 0;
  let postFailures = 0;
  const sends: Promise<void>[] = [];
  const began = performance.now();
  for (let seq = 0; seq < expectedPerReader; seq++) {
    const due = began + (seq * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const base = bases[seq % bases.length];
    sends.push(
      post(base, cookies[seq % cookies.length], `bench:${seq}:${performance.now()}`).then(
        async (response) => {
          await response.body?.cancel();
          if (response.status === 201) posted++;
          else postFailures++;
        },
        () => void postFailures++,
      ),
    );
  }
  await Promise.all(sends);
  const expected = posted * clients;
  const drainUntil = performance.now() + 5000;
  while (delivered < expected && performance.now() < drainUntil) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  clearInterval(sampler);
  stop.abort();
  await Promise.all(readers);
  latencies.sort((a, b) => a - b);
  return {
    expected,
    delivered,
    lost: expected - delivered,
    duplicates,
    postFailures,
    readerErrors: errors,
    delivery_ms: {
      p50: round(percentile(latencies, 50)),
      p95: round(percentile(latencies, 95)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies.at(-1) ?? NaN),
    },
    rss_mb: round(peakRss),
  };
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

try {
  log(
    `parley bench: ${db}, ${instances} instance(s), ${clients} clients, ${rate} msg/s, ${seconds} s, history ${history}`,
  );
  log("measuring hello-world baseline…");
  const helloRps = await measureHello();
  if (history > 0) log(`filling ${history} messages…`);
  if (history > 0 || db === "postgres") await fillHistory(history);
  const bases = await startParley();

  log("room page latency…");
  const pageCookie = await guest(bases[0]);
  const pageTimes: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    const response = await fetch(`${bases[0]}/`, { headers: { cookie: pageCookie } });
    await response.arrayBuffer();
    pageTimes.push(performance.now() - t);
  }
  pageTimes.sort((a, b) => a - b);

  log("empty poll throughput…");
  const latest = await latestId(bases[0]);
  const emptyPollRps = await closedLoop({
    concurrency,
    seconds: 3,
    request: async (worker) => {
      const response = await fetch(`${bases[worker % bases.length]}${ROOM}?after=${latest}`);
      await response.arrayBuffer();
      return response.ok;
    },
  });

  log("post throughput…");
  const posterCookies = await Promise.all(
    Array.from({ length: concurrency }, (_, i) => guest(bases[i % bases.length])),
  );
  const postRps = await closedLoop({
    concurrency,
    seconds: 3,
    request: async (worker) => {
      const response = await post(
        bases[worker % bases.length],
        posterCookies[worker],
        "throughput",
      );
      await response.body?.cancel();
      return response.status === 201;
    },
  });

  log(`delivery: ${clients} readers, ${rate} msg/s for ${seconds} s…`);
  const delivery = await measureDelivery(bases);

  const result = {
    db,
    instances,
    clients,
    rate,
    seconds,
    history,
    delivered: delivery.delivered,
    expected: delivery.expected,
    lost: delivery.lost,
    duplicates: delivery.duplicates,
    delivery_ms: delivery.delivery_ms,
    post_rps: Math.round(postRps),
    empty_poll_rps: Math.round(emptyPollRps),
    hello_rps: Math.round(helloRps),
    post_vs_hello: round(postRps / helloRps, 3),
    empty_poll_vs_hello: round(emptyPollRps / helloRps, 3),
    page_ms_p50: round(percentile(pageTimes, 50), 2),
    page_ms_p95: round(percentile(pageTimes, 95), 2),
    rss_mb: delivery.rss_mb,
    post_failures: delivery.postFailures,
    reader_errors: delivery.readerErrors,
    cpus: navigator.hardwareConcurrency,
  };
  const targets: [string, boolean, string][] = [
    [
      "0 lost, 0 duplicates",
      result.lost === 0 && result.duplicates === 0,
      `${result.lost} lost, ${result.duplicates} duplicates`,
    ],
    ["p99 delivery < 100 ms", result.delivery_ms.p99 < 100, `${result.delivery_ms.p99} ms`],
    [
      "empty polls ≥ 40 % of hello",
      result.empty_poll_vs_hello >= 0.4,
      `${Math.round(result.empty_poll_vs_hello * 100)} %`,
    ],
    ["posts ≥ 3,000/s (SQLite)", result.post_rps >= 3000, `${result.post_rps}/s`],
    ["room page median < 15 ms", result.page_ms_p50 < 15, `${result.page_ms_p50} ms`],
    ["RSS < 300 MB", result.rss_mb < 300, `${result.rss_mb} MB`],
  ];
  const rows = [
    ["delivered / expected", `${result.delivered} / ${result.expected}`],
    [
      "delivery p50 / p95 / p99 / max",
      `${result.delivery_ms.p50} / ${result.delivery_ms.p95} / ${result.delivery_ms.p99} / ${result.delivery_ms.max} ms`,
    ],
    ["POST throughput", `${result.post_rps}/s (${result.post_vs_hello}× hello)`],
    ["empty poll throughput", `${result.empty_poll_rps}/s (${result.empty_poll_vs_hello}× hello)`],
    ["hello-world baseline", `${result.hello_rps}/s`],
    [
      "room page p50 / p95",
      `${result.page_ms_p50} / ${result.page_ms_p95} ms (history ${history})`,
    ],
    ["server RSS at peak", `${result.rss_mb} MB`],
  ];
  console.log("");
  for (const [name, value] of rows) console.log(`${name.padEnd(32)} ${value}`);
  console.log("");
  for (const [name, pass, value] of targets) {
    console.log(`${pass ? "PASS" : "MISS"}  ${name.padEnd(30)} ${value}`);
  }
  console.log(JSON.stringify(result));
} finally {
  await Promise.all(children.map((child) => child.stop()));
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}
