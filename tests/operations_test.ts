// Operations: /healthz and /readyz (both stores), /metrics parsed as Prometheus text, access logs and request ids.
import assert from "node:assert/strict";
import postgres from "postgres";
import parsePrometheus from "parse-prometheus-text-format";
import { createParley, type Parley } from "../app.ts";
import { SqliteStore } from "../db/sqlite_store.ts";
import { PostgresStore } from "../db/postgres_store.ts";
import { type Store, StoreUnavailableError } from "../db/store.ts";
import { testBundle, testConfig } from "./helpers.ts";

const TOKEN = "metrics-token-0123456789";
const ORIGIN = "http://localhost";
const pgUrl = Deno.env.get("TEST_DATABASE_URL");

/** A Parley app whose access log lines are kept in `lines`. */
interface OpsApp {
  parley: Parley;
  store: Store;
  lines: string[];
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

async function opsApp(
  options: { env?: Record<string, string>; store?: Store } = {},
): Promise<OpsApp> {
  const store = options.store ?? new SqliteStore(":memory:");
  const lines: string[] = [];
  const parley = await createParley({
    config: testConfig({ PARLEY_LOG: "text", ...options.env }),
    store,
    bundle: await testBundle(),
    logSink: (line) => lines.push(line),
  });
  return {
    parley,
    store,
    lines,
    request: (path, init) => parley.fetch(new Request(`${ORIGIN}${path}`, init)),
    close: async () => {
      parley.shutdown();
      await store.close();
    },
  };
}

/** A test with a fresh app (closed afterwards). */
function opsTest(
  name: string,
  fn: (app: OpsApp) => Promise<void>,
  env?: Record<string, string>,
) {
  Deno.test(`operations: ${name}`, async () => {
    const app = await opsApp({ env });
    try {
      await fn(app);
    } finally {
      await app.close();
    }
  });
}

/** A first visit's session cookie (`name=value`). */
async function guestCookie(app: OpsApp): Promise<string> {
  const response = await app.request("/");
  await response.body?.cancel();
  const cookie = response.headers.get("set-cookie")?.split(";")[0];
  assert.ok(cookie, "the first visit sets a cookie");
  return cookie;
}

function json(method: string, body: unknown, cookie?: string): RequestInit {
  return {
    method,
    headers: { "content-type": "application/json", origin: ORIGIN, ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
  };
}

async function post(app: OpsApp, cookie: string, body: string, clientId = crypto.randomUUID()) {
  const response = await app.request(
    "/api/rooms/general/messages",
    json("POST", { body, clientId }, cookie),
  );
  return { status: response.status, message: await response.json() };
}

// --- Health and readiness --------------------------------------------------------------------

opsTest(
  "healthz and readyz answer JSON, uncached, with no session, log line or cookie",
  async (app) => {
    for (const method of ["GET", "HEAD"]) {
      const health = await app.request("/healthz", { method });
      assert.equal(health.status, 200);
      assert.equal(health.headers.get("cache-control"), "no-store");
      assert.equal(health.headers.get("set-cookie"), null);
      if (method === "GET") assert.deepEqual(await health.json(), { status: "ok" });
      else await health.body?.cancel();
    }
    const ready = await app.request("/readyz");
    assert.equal(ready.status, 200);
    assert.equal(ready.headers.get("content-type"), "application/json");
    assert.deepEqual(await ready.json(), { status: "ready", store: "sqlite" });
    assert.deepEqual(app.lines, [], "probes are not logged");
  },
);

opsTest(
  "probes work for any Host when PARLEY_PUBLIC_URL restricts the others to 421",
  async (app) => {
    const byAddress = { headers: { host: "10.1.2.3:8000" } };
    assert.equal((await app.request("/healthz", byAddress)).status, 200);
    assert.equal((await app.request("/readyz", byAddress)).status, 200);
    const page = await app.request("/", byAddress);
    await page.body?.cancel();
    assert.equal(page.status, 421, "other paths still refuse a foreign Host");
  },
  { PARLEY_PUBLIC_URL: "https://chat.example.com" },
);

opsTest(
  "probes are not rate limited: past a limit that refuses pages, they still pass",
  async (app) => {
    const pages = [];
    for (let i = 0; i < 3; i++) {
      const page = await app.request("/");
      await page.body?.cancel();
      pages.push(page.status);
    }
    assert.equal(pages.at(-1), 429, "new guests are limited");
    for (let i = 0; i < 100; i++) {
      assert.equal((await app.request(i % 2 ? "/healthz" : "/readyz")).status, 200);
    }
  },
  { PARLEY_NEW_GUESTS_PER_MINUTE: "1" },
);

Deno.test("operations: readyz is 503 without internals when SQLite is closed, behind in migrations, or stopping", async () => {
  const closed = await opsApp();
  await closed.parley.cleanup.stop(); // (its first run would find the store closed)
  await closed.store.close();
  const down = await closed.request("/readyz");
  assert.equal(down.status, 503);
  assert.deepEqual(await down.json(), { status: "unavailable", store: "sqlite" });
  assert.equal((await closed.request("/healthz")).status, 200, "the process still answers");
  closed.parley.shutdown();

  const behind = await opsApp();
  try {
    (behind.store as SqliteStore).db.exec("PRAGMA user_version = 1");
    const answer = await behind.request("/readyz");
    assert.equal(answer.status, 503);
    assert.deepEqual(await answer.json(), { status: "unavailable", store: "sqlite" });
  } finally {
    await behind.close();
  }

  const stopping = await opsApp();
  try {
    assert.equal((await stopping.request("/readyz")).status, 200);
    stopping.parley.shutdown();
    assert.equal((await stopping.request("/readyz")).status, 503, "draining instances say so");
  } finally {
    await stopping.store.close();
  }
});

Deno.test({
  name:
    "operations: readyz on PostgreSQL is ready, then 503 when migrations are missing or the database is gone",
  ignore: !pgUrl,
  fn: async () => {
    const schema = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    const store = await PostgresStore.open(pgUrl!, { schema, max: 2 });
    const app = await opsApp({ store, env: { PARLEY_SECRET: "" } });
    const admin = postgres(pgUrl!, { max: 1, onnotice: () => {} });
    try {
      const ready = await app.request("/readyz");
      assert.deepEqual(await ready.json(), { status: "ready", store: "postgres" });
      assert.equal(ready.status, 200);

      await admin`UPDATE ${admin(schema)}.parley_schema SET version = version - 1`;
      await new Promise((resolve) => setTimeout(resolve, 1100)); // past the reuse of a check
      const behind = await app.request("/readyz");
      assert.equal(behind.status, 503);
      assert.deepEqual(await behind.json(), { status: "unavailable", store: "postgres" });

      await admin`UPDATE ${admin(schema)}.parley_schema SET version = version + 1`;
      await new Promise((resolve) => setTimeout(resolve, 1100));
      assert.equal((await app.request("/readyz")).status, 200);

      await store.sql.end({ timeout: 1 }); // the database is gone for this instance
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const gone = await app.request("/readyz");
      assert.equal(gone.status, 503);
      assert.deepEqual(await gone.json(), { status: "unavailable", store: "postgres" });
      assert.equal((await app.request("/healthz")).status, 200);
    } finally {
      app.parley.shutdown();
      await store.close().catch(() => {});
      await admin`DROP SCHEMA IF EXISTS ${admin(schema)} CASCADE`;
      await admin.end();
    }
  },
});

// --- Metrics ---------------------------------------------------------------------------------

interface Family {
  name: string;
  type: string;
  help: string;
  metrics: { value?: string; labels?: Record<string, string> }[];
}

/** Scrapes /metrics and parses it with a Prometheus text format parser. */
async function scrape(app: OpsApp): Promise<{ text: string; families: Map<string, Family> }> {
  const response = await app.request("/metrics", {
    headers: { authorization: `Bearer ${TOKEN}`, host: "10.1.2.3:9090" },
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  const families = new Map<string, Family>();
  for (const family of parsePrometheus(text) as Family[]) families.set(family.name, family);
  return { text, families };
}

/** The value of a counter or gauge sample whose labels include `labels` (summed), 0 if none. */
function valueOf(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const family = families.get(name);
  assert.ok(family, `${name} is exposed`);
  return family.metrics
    .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
    .reduce((sum, m) => sum + Number(m.value), 0);
}

const METRICS_ENV = { PARLEY_METRICS_TOKEN: TOKEN };

opsTest("metrics are off (404) without PARLEY_METRICS_TOKEN", async (app) => {
  const response = await app.request("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
  await response.body?.cancel();
  assert.equal(response.status, 404);
  assert.equal(app.parley.metrics, undefined);
});

opsTest("metrics need the bearer token: none or a wrong one is 401", async (app) => {
  for (const authorization of [undefined, "Bearer wrong", `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
    const response = await app.request("/metrics", {
      headers: authorization ? { authorization } : {},
    });
    assert.equal(response.status, 401, String(authorization));
    assert.match(response.headers.get("www-authenticate")!, /^Bearer/);
    assert.equal((await response.json()).error.code, "unauthenticated");
  }
  await scrape(app);
}, METRICS_ENV);

opsTest(
  "counters move: requests by route pattern, messages stored, changes delivered, logins",
  async (app) => {
    const cookie = await guestCookie(app);
    const before = (await scrape(app)).families;
    const route = "/api/rooms/:room/messages";
    assert.equal(valueOf(before, "parley_messages_stored_total"), 0);

    const clientId = crypto.randomUUID();
    const first = await post(app, cookie, "hello metrics", clientId);
    assert.equal(first.status, 201);
    assert.equal((await post(app, cookie, "hello metrics", clientId)).status, 200, "a repeat");
    await post(app, cookie, "second");
    const poll = await app.request(
      `/api/rooms/general/messages?after=${first.message.id - 1}`,
      { headers: { cookie } },
    );
    assert.equal((await poll.json()).messages.length, 2);
    const login = await app.request(
      "/api/auth/login",
      json("POST", { username: "nobody", password: "not-the-password" }, cookie),
    );
    await login.body?.cancel();
    assert.equal(login.status, 401);

    const { text, families } = await scrape(app);
    assert.equal(valueOf(families, "parley_messages_stored_total"), 2, "the repeat is not counted");
    assert.equal(valueOf(families, "parley_changes_delivered_total"), 2);
    assert.equal(valueOf(families, "parley_login_failures_total"), 1);
    assert.equal(
      valueOf(families, "parley_http_requests_total", { method: "POST", route, status: "201" }),
      2,
    );
    assert.equal(
      valueOf(families, "parley_http_requests_total", { method: "POST", route, status: "200" }),
      1,
    );
    assert.equal(
      valueOf(families, "parley_http_requests_total", { method: "GET", route: "/", status: "200" }),
      1,
    );
    assert.equal(families.get("parley_http_requests_total")!.type, "COUNTER");
    assert.equal(families.get("parley_http_request_duration_seconds")!.type, "HISTOGRAM");
    assert.equal(families.get("parley_long_polls_open")!.type, "GAUGE");
    // Labels are route patterns, never paths: no room slug, id or query appears in any label.
    for (const family of families.values()) {
      for (const sample of family.metrics) {
        for (const value of Object.values(sample.labels ?? {})) {
          assert.doesNotMatch(value, /general|\?|after=/, `${family.name} label ${value}`);
        }
      }
    }
    // The histogram of the messages route is cumulative and ends at its count.
    const series = `method="POST",route="${route}"`;
    const buckets = [...text.matchAll(
      new RegExp(
        `^parley_http_request_duration_seconds_bucket\\{le="([^"]+)",${
          series.replace(/[/:]/g, "\\$&")
        }\\} (\\d+)$`,
        "gm",
      ),
    )].map((m) => [m[1], Number(m[2])] as const);
    assert.ok(buckets.length > 5, "the route has buckets");
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i][1] >= buckets[i - 1][1]);
    assert.equal(buckets.at(-1)![0], "+Inf");
    assert.match(
      text,
      new RegExp(
        `^parley_http_request_duration_seconds_count\\{${series.replace(/[/:]/g, "\\$&")}\\} ${
          buckets.at(-1)![1]
        }$`,
        "m",
      ),
    );
    assert.equal(buckets.at(-1)![1], 3);
  },
  METRICS_ENV,
);

opsTest("the open long polls gauge follows a waiting poll", async (app) => {
  const cookie = await guestCookie(app);
  const { message } = await post(app, cookie, "before the poll");
  const waiting = app.request(
    `/api/rooms/general/messages?after=${message.id}&wait=10`,
    { headers: { cookie } },
  );
  let open = 0;
  for (let i = 0; i < 50 && open === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    open = valueOf((await scrape(app)).families, "parley_long_polls_open");
  }
  assert.equal(open, 1);
  await post(app, cookie, "wakes it");
  assert.equal((await (await waiting).json()).messages.length, 1);
  const { families } = await scrape(app);
  assert.equal(valueOf(families, "parley_long_polls_open"), 0);
  assert.equal(valueOf(families, "parley_changes_delivered_total"), 1);
}, METRICS_ENV);

opsTest("uploads are counted with their bytes", async (app) => {
  const cookie = await guestCookie(app);
  const bytes = new TextEncoder().encode("a small text file for the metrics\n".repeat(10));
  const form = new FormData();
  form.append("file", new Blob([bytes]), "notes.txt");
  const response = await app.request("/api/rooms/general/files", {
    method: "POST",
    body: form,
    headers: { cookie, origin: ORIGIN },
  });
  assert.equal(response.status, 201);
  assert.equal((await response.json()).size, bytes.byteLength);
  await new Promise((resolve) => setTimeout(resolve, 10)); // the size is read from a copy
  const { families } = await scrape(app);
  assert.equal(valueOf(families, "parley_uploads_total"), 1);
  assert.equal(valueOf(families, "parley_upload_bytes_total"), bytes.byteLength);
}, METRICS_ENV);

Deno.test("operations: store errors are counted when the database is unavailable", async () => {
  const sqlite = new SqliteStore(":memory:");
  let failing = false;
  // The real store, except that listing messages fails like a database that went away.
  const store = new Proxy(sqlite, {
    get(target, key) {
      if (key === "listMessages" && failing) {
        return () => Promise.reject(new StoreUnavailableError("gone for the test"));
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const app = await opsApp({ store, env: METRICS_ENV });
  try {
    const cookie = await guestCookie(app);
    failing = true;
    const response = await app.request("/api/rooms/general/messages", { headers: { cookie } });
    await response.body?.cancel();
    assert.equal(response.status, 503);
    const { families } = await scrape(app);
    assert.equal(valueOf(families, "parley_store_errors_total"), 1);
    assert.equal(
      valueOf(families, "parley_http_requests_total", {
        route: "/api/rooms/:room/messages",
        status: "503",
      }),
      1,
    );
  } finally {
    await app.close();
  }
});

// --- Access logs and request ids ---------------------------------------------------------------

const TEXT_LINE =
  /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|OTHER) \S+ \d{3} \d+(\.\d)?ms [A-Za-z0-9._-]{1,64}$/;

opsTest(
  "one text line per request: method, route pattern, status, duration, request id",
  async (app) => {
    const cookie = await guestCookie(app);
    const response = await app.request("/api/rooms/general/messages?after=0&token=hunter2-secret", {
      headers: { cookie, "x-request-id": "lb-42.a_b" },
    });
    await response.body?.cancel();
    assert.equal(response.headers.get("x-request-id"), "lb-42.a_b");
    assert.equal(app.lines.length, 2);
    for (const line of app.lines) assert.match(line, TEXT_LINE);
    assert.match(app.lines[0], / GET \/ 200 /);
    assert.match(app.lines[1], / GET \/api\/rooms\/:room\/messages 200 [\d.]+ms lb-42\.a_b$/);
    assert.doesNotMatch(app.lines.join("\n"), /hunter2|token=|general/, "no path, no query");
  },
);

opsTest(
  "request ids: a client's sane id is echoed, anything else replaced by a new one",
  async (app) => {
    const ids = new Set<string>();
    for (const sent of [undefined, "x".repeat(65), "has space", "semi;colon", "ünïcode", ""]) {
      const response = await app.request("/healthz-not-a-probe", {
        headers: sent === undefined ? {} : { "x-request-id": sent },
      });
      await response.body?.cancel();
      const id = response.headers.get("x-request-id")!;
      assert.match(id, /^[A-Za-z0-9._-]{1,64}$/);
      assert.notEqual(id, sent);
      ids.add(id);
    }
    assert.equal(ids.size, 6, "every generated id is new");
    const longest = "A".repeat(64);
    const echoed = await app.request("/", { headers: { "x-request-id": longest } });
    await echoed.body?.cancel();
    assert.equal(echoed.headers.get("x-request-id"), longest);
    assert.match(app.lines.at(-1)!, new RegExp(` ${longest}$`));
    assert.match(app.lines[0], / GET \(unmatched\) 404 /);
  },
);

opsTest(
  "JSON lines; a login and a message post log neither password, text nor cookie",
  async (app) => {
    const cookie = await guestCookie(app);
    const password = "correct horse battery staple";
    const register = await app.request(
      "/api/auth/register",
      json("POST", { username: "ada_ops", password }, cookie),
    );
    assert.equal(register.status, 201);
    const session = register.headers.get("set-cookie")!.split(";")[0];
    await register.body?.cancel();
    const login = await app.request(
      "/api/auth/login",
      json("POST", { username: "ada_ops", password }, session),
    );
    assert.equal(login.status, 200);
    const loggedIn = login.headers.get("set-cookie")!.split(";")[0];
    await login.body?.cancel();
    const text = "the launch code is 0000, keep it quiet";
    assert.equal((await post(app, loggedIn, text)).status, 201);

    const records = app.lines.map((line) => JSON.parse(line));
    assert.deepEqual(
      records.map((r) => [r.method, r.route, r.status]),
      [
        ["GET", "/", 200],
        ["POST", "/api/auth/register", 201],
        ["POST", "/api/auth/login", 200],
        ["POST", "/api/rooms/:room/messages", 201],
      ],
    );
    for (const record of records) {
      assert.deepEqual(Object.keys(record).sort(), [
        "method",
        "ms",
        "requestId",
        "route",
        "status",
        "time",
      ]);
      assert.equal(typeof record.ms, "number");
    }
    const all = app.lines.join("\n");
    for (const secret of [password, text, "launch code", cookie, session, loggedIn]) {
      assert.ok(!all.includes(secret), `the log does not contain ${secret}`);
    }
    for (const value of [cookie, session, loggedIn]) {
      assert.ok(!all.includes(value.split("=")[1]), "no cookie value");
    }
  },
  { PARLEY_LOG: "json" },
);

opsTest("PARLEY_LOG=off logs nothing and still sets request ids", async (app) => {
  const response = await app.request("/");
  await response.body?.cancel();
  assert.match(response.headers.get("x-request-id")!, /^[A-Za-z0-9._-]+$/);
  assert.deepEqual(app.lines, []);
}, { PARLEY_LOG: "off" });

Deno.test("operations: configuration refuses a short metrics token and an unknown log format", () => {
  assert.throws(() => testConfig({ PARLEY_METRICS_TOKEN: "short" }), /PARLEY_METRICS_TOKEN/);
  assert.throws(() => testConfig({ PARLEY_LOG: "yaml" }), /PARLEY_LOG/);
  assert.equal(testConfig({ PARLEY_LOG: "" }).log, "text", "the default is text");
});

// --- Through a real server ---------------------------------------------------------------------

Deno.test("operations: over a socket, probes by address pass the host check, ids and log lines match", async () => {
  const app = await opsApp({
    env: { PARLEY_PUBLIC_URL: "https://chat.example.com", ...METRICS_ENV },
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    app.parley.fetch,
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    // fetch sends Host: 127.0.0.1:<port>, which PARLEY_PUBLIC_URL does not name.
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok" });
    const ready = await fetch(`${base}/readyz`);
    assert.deepEqual(await ready.json(), { status: "ready", store: "sqlite" });
    const metrics = await fetch(`${base}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^# HELP parley_http_requests_total /m);

    const page = await fetch(`${base}/`, { headers: { "x-request-id": "probe-7" } });
    await page.body?.cancel();
    assert.equal(page.status, 421);
    assert.equal(page.headers.get("x-request-id"), "probe-7");
    const generated = await fetch(`${base}/`);
    await generated.body?.cancel();
    const id = generated.headers.get("x-request-id")!;
    assert.match(id, /^[A-Za-z0-9._-]+$/);
    assert.equal(app.lines.length, 2, "probes and scrapes are not logged");
    assert.match(app.lines[0], / GET \/ 421 [\d.]+ms probe-7$/);
    assert.ok(app.lines[1].endsWith(` ${id}`));
  } finally {
    await server.shutdown();
    await app.close();
  }
});
