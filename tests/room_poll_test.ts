// The room poll's own path answers exactly as the app does: same bodies, headers, errors, log lines.
import assert from "node:assert/strict";
import { createParley, type Parley } from "../app.ts";
import { SqliteStore } from "../db/sqlite_store.ts";
import { testBundle, testConfig } from "./helpers.ts";
import { roomPoll } from "../http/room_poll.ts";
import { sessionResolver } from "../chat/sessions.ts";

interface Both {
  parley: Parley;
  store: SqliteStore;
  lines: string[];
  /** Answers through the poll's path (as served) and through the app alone. */
  both(path: string, headers?: Record<string, string>): Promise<[Response, Response]>;
}

async function withParley(env: Record<string, string>, fn: (w: Both) => Promise<void>) {
  const store = new SqliteStore(":memory:");
  const lines: string[] = [];
  const parley = await createParley({
    config: testConfig({ PARLEY_LOG: "json", ...env }),
    store,
    bundle: await testBundle(),
    logSink: (line) => lines.push(line),
  });
  const origin = env.PARLEY_PUBLIC_URL ?? "http://localhost";
  const both = async (path: string, headers: Record<string, string> = {}) =>
    [
      await parley.fetch(new Request(`${origin}${path}`, { headers })),
      await parley.app.fetch(new Request(`${origin}${path}`, { headers })),
    ] as [Response, Response];
  try {
    await fn({ parley, store, lines, both });
  } finally {
    parley.shutdown();
    await store.close();
  }
}

/** Headers that must match, in order (the request id differs by design). */
function comparable(response: Response): [string, string][] {
  return [...response.headers].filter(([name]) => name !== "x-request-id").sort();
}

async function assertSame([own, app]: [Response, Response], what: string) {
  assert.equal(own.status, app.status, `${what}: status`);
  assert.deepEqual(comparable(own), comparable(app), `${what}: headers`);
  assert.equal(await own.text(), await app.text(), `${what}: body`);
  assert.match(own.headers.get("x-request-id") ?? "", /./, `${what}: a request id`);
}

async function guestCookie(parley: Parley, origin = "http://localhost"): Promise<string> {
  const page = await parley.fetch(new Request(`${origin}/`));
  await page.body?.cancel();
  return page.headers.get("set-cookie")!.split(";")[0];
}

Deno.test("room poll: answers, empty or not, as the app does, and is logged under its route", async () => {
  await withParley({}, async ({ parley, lines, both }) => {
    const cookie = await guestCookie(parley);
    const sent = await parley.fetch(
      new Request("http://localhost/api/rooms/general/messages", {
        method: "POST",
        headers: { cookie, origin: "http://localhost", "content-type": "application/json" },
        body: JSON.stringify({ body: "hello", clientId: "c1" }),
      }),
    );
    assert.equal(sent.status, 201);
    const { seq } = await sent.json();
    for (
      const path of [
        `/api/rooms/general/messages?since=0`,
        `/api/rooms/general/messages?since=${seq}`,
        `/api/rooms/general/messages?after=0&limit=5`,
        `/api/rooms/general/messages?since=${seq}&wait=0`,
      ]
    ) {
      await assertSame(await both(path, { cookie }), path);
      await assertSame(await both(path), `${path} without a session`);
    }
    const logged = lines.map((line) => JSON.parse(line))
      .filter((entry) => entry.route === "/api/rooms/:room/messages" && entry.method === "GET");
    assert.equal(logged.length, 16, "every poll, by either path, has its line");
    assert.ok(logged.every((entry) => entry.status === 200 && entry.requestId));
  });
});

Deno.test("room poll: mistakes and refusals are the app's answers", async () => {
  await withParley({}, async ({ parley, both }) => {
    const cookie = await guestCookie(parley);
    for (
      const path of [
        "/api/rooms/general/messages?since=abc",
        "/api/rooms/general/messages?since=1&after=1",
        "/api/rooms/general/messages?since=1&since=2",
        "/api/rooms/general/messages?since=1&limit=0",
        "/api/rooms/general/messages?since=1&wait=999",
        "/api/rooms/nowhere/messages?since=0",
        "/api/rooms/dm-1-2/messages?since=0",
      ]
    ) {
      const [own, app] = await both(path, { cookie });
      assert.ok(own.status >= 400, `${path} is refused (${own.status})`);
      await assertSame([own, app], path);
    }
    // Parameters the API does not know are ignored by both.
    await assertSame(await both("/api/rooms/general/messages?since=0&x=1", { cookie }), "unknown");
  });
});

Deno.test("room poll: members-only sites and other host names are refused as by the app", async () => {
  await withParley({ PARLEY_GUESTS: "off" }, async ({ parley, both }) => {
    const [own] = await both("/api/rooms/general/messages?since=0");
    assert.equal(own.status, 401);
    await assertSame(await both("/api/rooms/general/messages?since=0"), "no account");
    const cookie = await guestCookie(parley).catch(() => "parley_session=forged.x");
    await assertSame(await both("/api/rooms/general/messages?since=0", { cookie }), "forged");
  });
  await withParley({ PARLEY_PUBLIC_URL: "https://chat.example" }, async ({ parley }) => {
    const request = () =>
      new Request("http://evil.example/api/rooms/general/messages?since=0", {
        headers: { host: "evil.example" },
      });
    const [own, app] = [await parley.fetch(request()), await parley.app.fetch(request())];
    assert.equal(own.status, 421);
    await assertSame([own, app], "another host");
  });
});

Deno.test("room poll: valid polls never reach the app; everything else does", async () => {
  await withParley({}, async ({ parley, store }) => {
    const config = testConfig();
    const reached: string[] = [];
    const fetch = roomPoll({
      chat: parley.chat,
      resolveSession: sessionResolver({ store, secret: config.secret!, idleMs: 60_000 }),
      guests: () => true,
      hosts: new Set(),
      proxyHops: 0,
      apiHeaders: {},
      app: (request) => {
        reached.push(new URL(request.url).pathname + new URL(request.url).search);
        return new Response("app");
      },
    });
    const own = [
      "/api/rooms/general/messages?since=0",
      "/api/rooms/general/messages?after=3&limit=10",
      "/api/rooms/general/messages?since=0&wait=0",
    ];
    const others = [
      "/api/rooms/general/messages",
      "/api/rooms/general/messages?before=3",
      "/api/rooms/nowhere/messages?since=0",
      "/api/me",
      "/",
    ];
    for (const path of [...own, ...others]) {
      const response = await fetch(new Request(`http://localhost${path}`));
      await response.body?.cancel();
    }
    assert.deepEqual(reached, others);
  });
});
