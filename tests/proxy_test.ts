// Behind a proxy: the Secure cookie, the client address from X-Forwarded-For, invitation links.
import assert from "node:assert/strict";
import { appTest, type TestApp } from "./helpers.ts";

const proxyTest = appTest("proxy");

/** The Set-Cookie of a first visit to `url` with `headers`. */
async function firstVisitCookie(
  app: TestApp,
  url: string,
  headers: Record<string, string> = {},
): Promise<string> {
  const response = await app.fetch(new Request(url, { headers }));
  assert.equal(response.status, 200);
  await response.body?.cancel();
  return response.headers.get("set-cookie") ?? "";
}

proxyTest(
  "with PARLEY_PUBLIC_URL https, the cookie is Secure behind a plain-HTTP proxy",
  async (app) => {
    const cookie = await firstVisitCookie(app, "http://chat.example.com/");
    assert.match(cookie, /; Secure/i);
  },
  { PARLEY_PUBLIC_URL: "https://chat.example.com" },
);

proxyTest("with PARLEY_PUBLIC_URL http, the cookie is not Secure", async (app) => {
  const cookie = await firstVisitCookie(app, "http://chat.example.com/", {
    "x-forwarded-proto": "https",
  });
  assert.doesNotMatch(cookie, /; Secure/i);
}, { PARLEY_PUBLIC_URL: "http://chat.example.com", PARLEY_TRUST_PROXY: "1" });

proxyTest("a trusted proxy's X-Forwarded-Proto: https makes the cookie Secure", async (app) => {
  assert.match(
    await firstVisitCookie(app, "http://localhost/", { "x-forwarded-proto": "https" }),
    /; Secure/i,
  );
  assert.doesNotMatch(await firstVisitCookie(app, "http://localhost/"), /; Secure/i);
  assert.doesNotMatch(
    await firstVisitCookie(app, "http://localhost/", { "x-forwarded-proto": "https, http" }),
    /; Secure/i,
    "the entry our proxy appended counts, not one the client wrote",
  );
}, { PARLEY_TRUST_PROXY: "1" });

proxyTest("X-Forwarded-Proto is ignored without a trusted proxy", async (app) => {
  assert.doesNotMatch(
    await firstVisitCookie(app, "http://localhost/", { "x-forwarded-proto": "https" }),
    /; Secure/i,
  );
  assert.match(await firstVisitCookie(app, "https://localhost/"), /; Secure/i);
});

proxyTest("invitation links start with PARLEY_PUBLIC_URL", async (app) => {
  const origin = "https://chat.example.com";
  // The TLS proxy passes the Host on, over plain HTTP.
  const call = (path: string, body?: unknown, cookie?: string) =>
    app.fetch(
      new Request(`http://chat.example.com${path}`, {
        method: "POST",
        headers: {
          origin,
          ...(body ? { "content-type": "application/json" } : {}),
          ...(cookie ? { cookie } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      }),
    );
  const registered = await call("/api/auth/register", {
    username: "admin",
    password: "correct horse battery",
  });
  assert.equal(registered.status, 201, await registered.clone().text());
  const cookie = registered.headers.get("set-cookie")!.split(";")[0];
  const invite = await call("/api/invites", undefined, cookie);
  assert.equal(invite.status, 201);
  const { url } = await invite.json();
  assert.ok(url.startsWith(`${origin}/login?invite=`), url);
}, { PARLEY_PUBLIC_URL: "https://chat.example.com", PARLEY_ORIGINS: "https://chat.example.com" });

proxyTest(
  "a forged left-most X-Forwarded-For does not get past the new-guest limit",
  async (app) => {
    const visit = (forwarded: string) =>
      app.request("/", { headers: { "x-forwarded-for": forwarded } });
    for (let i = 0; i < 2; i++) {
      const response = await visit(`192.0.2.${i}, 203.0.113.9`);
      assert.equal(response.status, 200);
      await response.body?.cancel();
    }
    const refused = await visit("192.0.2.77, 203.0.113.9");
    assert.equal(refused.status, 429, "the right-most entry, written by our proxy, counts");
    await refused.body?.cancel();
    const other = await visit("203.0.113.9, 198.51.100.3");
    assert.equal(other.status, 200, "another client behind the proxy is let in");
    await other.body?.cancel();
  },
  { PARLEY_TRUST_PROXY: "1", PARLEY_NEW_GUESTS_PER_MINUTE: "2" },
);

proxyTest("with two proxies, the second entry from the right is the client", async (app) => {
  const visit = (forwarded: string) =>
    app.request("/", { headers: { "x-forwarded-for": forwarded } });
  const first = await visit("192.0.2.1, 203.0.113.9, 10.0.0.2");
  assert.equal(first.status, 200);
  await first.body?.cancel();
  const refused = await visit("192.0.2.2, 203.0.113.9, 10.0.0.3");
  assert.equal(refused.status, 429);
  await refused.body?.cancel();
}, { PARLEY_TRUST_PROXY: "2", PARLEY_NEW_GUESTS_PER_MINUTE: "1" });

proxyTest("X-Forwarded-For is ignored without a trusted proxy", async (app) => {
  const first = await app.request("/", { headers: { "x-forwarded-for": "192.0.2.1" } });
  assert.equal(first.status, 200);
  await first.body?.cancel();
  const refused = await app.request("/", { headers: { "x-forwarded-for": "192.0.2.2" } });
  assert.equal(refused.status, 429);
  await refused.body?.cancel();
}, { PARLEY_NEW_GUESTS_PER_MINUTE: "1" });

proxyTest("a forged left-most X-Forwarded-For does not get past the login limit", async (app) => {
  const attempt = (forwarded: string, username: string) =>
    app.request("/api/auth/login", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        origin: "http://localhost",
        "x-forwarded-for": forwarded,
      },
      body: JSON.stringify({ username, password: "wrong password" }),
    });
  const statuses: number[] = [];
  for (let i = 0; i < 31; i++) {
    const response = await attempt(`192.0.2.${i}, 203.0.113.7`, `user${i}`);
    statuses.push(response.status);
    await response.body?.cancel();
  }
  assert.equal(statuses.at(-1), 429, statuses.join(" "));
}, { PARLEY_TRUST_PROXY: "1" });
