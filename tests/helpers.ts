// Test helpers: a Parley app on an in-memory (or file) SQLite store, guests with cookies, a real server.
import { createParley, loadBundle, type Parley } from "../app.ts";
import { loadConfig, type ParleyConfig } from "../fresh.config.ts";
import { SqliteStore } from "../db/sqlite_store.ts";
import type { Member } from "../db/store.ts";
import type { Bundle } from "../runtime/mod.ts";

let sharedBundle: Promise<Bundle> | undefined;

/** The browser bundle, built once per test process. */
export function testBundle(): Promise<Bundle> {
  sharedBundle ??= loadBundle(loadConfig({ PARLEY_BUILD_DIR: "_no_prebuilt_bundle_" }));
  return sharedBundle;
}

/** A configuration for tests: defaults, a fixed secret, no access log, and any overrides. */
export function testConfig(env: Record<string, string> = {}): ParleyConfig {
  return loadConfig({
    PARLEY_SECRET: "test-secret-0123456789abcdef",
    PARLEY_BUILD_DIR: "_no_prebuilt_bundle_",
    PARLEY_LOG: "off",
    ...env,
  });
}

/** A Parley app on a fresh store. */
export interface TestApp extends Parley {
  store: SqliteStore;
  config: ParleyConfig;
  /** `app.request()` with a path on `http://localhost`. */
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** Creates a Parley app on an in-memory SQLite store (or the file `sqlitePath`). */
export async function createTestApp(
  options: { env?: Record<string, string>; sqlitePath?: string } = {},
): Promise<TestApp> {
  const config = testConfig(options.env);
  const store = new SqliteStore(options.sqlitePath ?? ":memory:");
  const parley = await createParley({ config, store, bundle: await testBundle() });
  return {
    ...parley,
    store,
    config,
    request: (path, init) => parley.fetch(new Request(`http://localhost${path}`, init)),
    close: async () => {
      parley.shutdown();
      await store.close();
    },
  };
}

/** A browser-like guest: the cookie from a first page visit and the member it names. */
export interface Guest {
  cookie: string;
  member: Member;
}

/** Visits `/` without a cookie and returns the new guest's cookie and member. */
export async function newGuest(app: TestApp): Promise<Guest> {
  const response = await app.request("/");
  const html = await response.text();
  const setCookie = response.headers.get("set-cookie");
  if (!setCookie) throw new Error("The first visit set no cookie");
  const cookie = setCookie.split(";")[0];
  const props = html.match(
    /<island-root data-island="chat_room#ChatRoom"><script type="application\/json">(.*?)<\/script>/,
  );
  if (!props) throw new Error("The page has no chat island");
  return { cookie, member: JSON.parse(props[1]).me };
}

/** Request options for a JSON API call as the browser makes it. */
export function jsonInit(
  method: string,
  body: unknown,
  options: { cookie?: string; origin?: string } = {},
): RequestInit {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.cookie) headers.cookie = options.cookie;
  if (options.origin) headers.origin = options.origin;
  return { method, headers, body: typeof body === "string" ? body : JSON.stringify(body) };
}

/** Posts a message as a guest; returns the response. */
export function postMessage(
  app: TestApp,
  guest: Guest,
  body: string,
  options: { room?: string; clientId?: string } = {},
): Promise<Response> {
  return app.request(
    `/api/rooms/${options.room ?? "general"}/messages`,
    jsonInit("POST", { body, clientId: options.clientId ?? crypto.randomUUID() }, {
      cookie: guest.cookie,
      origin: "http://localhost",
    }),
  );
}

/** A Parley server on a real port (for browser tests), on the SQLite file `sqlitePath`. */
export interface TestServer {
  url: string;
  port: number;
  app: TestApp;
  /** Stops the server the way a restart does: long polls end, connections close. */
  stop(): Promise<void>;
}

/** Starts Parley on 127.0.0.1 (`port` 0 picks a free one). */
export async function startTestServer(
  options: { sqlitePath: string; port?: number; env?: Record<string, string> },
): Promise<TestServer> {
  const app = await createTestApp({ sqlitePath: options.sqlitePath, env: options.env });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: options.port ?? 0, onListen: () => {} },
    app.fetch,
  );
  const port = server.addr.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    app,
    stop: async () => {
      app.shutdown();
      await server.shutdown();
      await app.store.close();
    },
  };
}

/**
 * A `Deno.test` registrar for tests that each get a fresh app (closed afterwards), named
 * `"<prefix>: <name>"`; `env` overrides the configuration of one test.
 */
export function appTest(prefix: string) {
  return (name: string, fn: (app: TestApp) => Promise<void>, env?: Record<string, string>) =>
    Deno.test(`${prefix}: ${name}`, async () => {
      const app = await createTestApp({ env });
      try {
        await fn(app);
      } finally {
        await app.close();
      }
    });
}

/** An API answer: status, parsed JSON (null for 204) and the cookie set, if any. */
export interface ApiAnswer {
  status: number;
  // deno-lint-ignore no-explicit-any
  json: any;
  setCookie: string | null;
  cookie?: string;
}

/** Calls the API as the browser does (same origin, JSON), as the owner of `cookie`. */
export async function callApi(
  app: TestApp,
  method: string,
  path: string,
  options: { body?: unknown; cookie?: string } = {},
): Promise<ApiAnswer> {
  const response = await app.request(
    path,
    options.body === undefined
      ? { method, headers: { origin: "http://localhost", ...cookieHeader(options.cookie) } }
      : jsonInit(method, options.body, { cookie: options.cookie, origin: "http://localhost" }),
  );
  const setCookie = response.headers.get("set-cookie");
  const json = response.status === 204 ? null : await response.json();
  return { status: response.status, json, setCookie, cookie: setCookie?.split(";")[0] };
}

function cookieHeader(cookie?: string): Record<string, string> {
  return cookie ? { cookie } : {};
}
