// Accounts through the API: registration, login, rotation, logout, passwords, invitations, policy.
import assert from "node:assert/strict";
import {
  appTest,
  callApi,
  type Guest,
  jsonInit,
  newGuest,
  postMessage,
  type TestApp,
} from "./helpers.ts";

const ORIGIN = "http://localhost";
const PASSWORD = "correct horse battery";

const accountTest = appTest("accounts");

function call(app: TestApp, method: string, path: string, body: unknown, cookie?: string) {
  return callApi(app, method, path, { body, cookie });
}

async function register(app: TestApp, guest: Guest | undefined, username: string, extra = {}) {
  return await call(
    app,
    "POST",
    "/api/auth/register",
    { username, password: PASSWORD, ...extra },
    guest?.cookie,
  );
}

async function me(app: TestApp, cookie: string) {
  return await call(app, "GET", "/api/me", undefined, cookie);
}

accountTest("a guest registers, keeps name and history, gets a new session", async (app) => {
  const guest = await newGuest(app);
  await postMessage(app, guest, "said as a guest");
  const registered = await register(app, guest, "Ada_L");
  assert.equal(registered.status, 201);
  assert.deepEqual(registered.json, {
    ...guest.member,
    account: { username: "Ada_L", isAdmin: true },
  });
  assert.ok(registered.cookie && registered.cookie !== guest.cookie, "session rotated");
  assert.match(registered.setCookie!, /HttpOnly/i);
  assert.equal((await me(app, guest.cookie)).status, 401, "the guest session is gone");
  assert.deepEqual((await me(app, registered.cookie!)).json, registered.json);
  const { messages } = await (await app.request("/api/rooms/general/messages")).json();
  assert.equal(messages[0].author.id, guest.member.id, "history kept");

  const second = await register(app, await newGuest(app), "bob");
  assert.equal(second.json.account.isAdmin, false, "only the first account is the admin");
  const again = await register(app, undefined, "cat", {});
  assert.equal(again.status, 201, "registering without a session creates a member");
});

accountTest("usernames are unique ignoring case and follow the rules", async (app) => {
  assert.equal((await register(app, await newGuest(app), "ada")).status, 201);
  const taken = await register(app, await newGuest(app), "ADA");
  assert.equal(taken.status, 409);
  assert.equal(taken.json.error.code, "username_taken");
  for (const bad of ["ab", "a".repeat(33), "has space", "dot.ted", "émile", "<b>"]) {
    const response = await register(app, await newGuest(app), bad);
    assert.equal(response.status, 400, bad);
    assert.equal(response.json.error.code, "invalid_username");
  }
  const weak = await call(app, "POST", "/api/auth/register", {
    username: "weakling",
    password: "123456789",
  });
  assert.equal(weak.status, 400);
  assert.equal(weak.json.error.code, "weak_password");
  const twice = await register(app, undefined, "someone");
  const again = await call(app, "POST", "/api/auth/register", {
    username: "someone_else",
    password: PASSWORD,
  }, twice.cookie);
  assert.equal(again.status, 409, "an account cannot register again");
});

accountTest("login failures say the same thing; success rotates the session", async (app) => {
  await register(app, undefined, "ada");
  const guest = await newGuest(app);
  const wrong = await call(app, "POST", "/api/auth/login", { username: "ada", password: "nope" });
  const unknown = await call(app, "POST", "/api/auth/login", {
    username: "nobody",
    password: PASSWORD,
  });
  assert.equal(wrong.status, 401);
  assert.deepEqual(wrong.json, unknown.json, "one generic message");
  const ok = await call(app, "POST", "/api/auth/login", {
    username: "ADA",
    password: PASSWORD,
  }, guest.cookie);
  assert.equal(ok.status, 200);
  assert.equal(ok.json.account.username, "ada");
  assert.ok(ok.cookie && ok.cookie !== guest.cookie);
  assert.equal((await me(app, guest.cookie)).status, 401, "the pre-login session is gone");
});

accountTest("login attempts are limited per username", async (app) => {
  await register(app, undefined, "ada");
  for (let i = 0; i < 10; i++) {
    const response = await call(app, "POST", "/api/auth/login", {
      username: "ada",
      password: `wrong ${i}`,
    });
    assert.equal(response.status, 401);
  }
  const response = await app.request(
    "/api/auth/login",
    jsonInit("POST", { username: "Ada", password: PASSWORD }, { origin: ORIGIN }),
  );
  assert.equal(response.status, 429);
  assert.ok(Number(response.headers.get("retry-after")) > 0);
  await response.body?.cancel();
  const other = await call(app, "POST", "/api/auth/login", { username: "bob", password: "x" });
  assert.equal(other.status, 401, "another username is not blocked");
});

accountTest("logout ends the session; log out everywhere ends them all", async (app) => {
  const { cookie: first } = await register(app, undefined, "ada");
  const { cookie: second } = await call(app, "POST", "/api/auth/login", {
    username: "ada",
    password: PASSWORD,
  });
  const { cookie: third } = await call(app, "POST", "/api/auth/login", {
    username: "ada",
    password: PASSWORD,
  });
  const out = await call(app, "POST", "/api/auth/logout", undefined, first);
  assert.equal(out.status, 204);
  assert.match(out.setCookie!, /parley_session=;/, "cookie cleared");
  assert.equal((await me(app, first!)).status, 401);
  assert.equal((await me(app, second!)).status, 200);
  const everywhere = await call(app, "DELETE", "/api/auth/sessions", undefined, second);
  assert.deepEqual(everywhere.json, { ended: 2 });
  assert.equal((await me(app, second!)).status, 401);
  assert.equal((await me(app, third!)).status, 401);
  const fresh = await newGuest(app);
  assert.equal((await me(app, fresh.cookie)).json.account, null, "back to a fresh guest");
});

accountTest("changing the password needs the current one and ends other sessions", async (app) => {
  const { cookie: mine } = await register(app, undefined, "ada");
  const { cookie: other } = await call(app, "POST", "/api/auth/login", {
    username: "ada",
    password: PASSWORD,
  });
  const wrong = await call(app, "PUT", "/api/auth/password", {
    currentPassword: "not it at all",
    newPassword: "a brand new secret",
  }, mine);
  assert.equal(wrong.status, 403);
  const weak = await call(app, "PUT", "/api/auth/password", {
    currentPassword: PASSWORD,
    newPassword: "short",
  }, mine);
  assert.equal(weak.status, 400);
  const changed = await call(app, "PUT", "/api/auth/password", {
    currentPassword: PASSWORD,
    newPassword: "a brand new secret",
  }, mine);
  assert.deepEqual(changed.json, { endedOtherSessions: 1 });
  assert.equal((await me(app, mine!)).status, 200, "this session stays");
  assert.equal((await me(app, other!)).status, 401, "the other one ended");
  const old = await call(app, "POST", "/api/auth/login", { username: "ada", password: PASSWORD });
  assert.equal(old.status, 401);
  const fresh = await call(app, "POST", "/api/auth/login", {
    username: "ada",
    password: "a brand new secret",
  });
  assert.equal(fresh.status, 200);
  const guest = await newGuest(app);
  const asGuest = await call(app, "PUT", "/api/auth/password", {
    currentPassword: "x",
    newPassword: "a brand new secret",
  }, guest.cookie);
  assert.equal(asGuest.status, 403);
});

accountTest("sessions unused for longer than the idle time end", async (app) => {
  const { cookie } = await register(app, undefined, "ada");
  assert.equal((await me(app, cookie!)).status, 200);
  // Last seen two days ago (through the store, which keeps its cached sessions in step).
  const [session] = app.store.db.prepare("SELECT id FROM sessions").all();
  await app.store.touchSession(Number(session.id), Date.now() - 2 * 86_400_000);
  const stale = await me(app, cookie!);
  assert.equal(stale.status, 401);
  assert.equal(stale.json.error.code, "invalid_session");
}, { PARLEY_SESSION_IDLE_DAYS: "1" });

accountTest("members-only: guests see the login page and cannot read or write", async (app) => {
  const page = await app.request("/");
  assert.equal(page.status, 303);
  assert.equal(page.headers.get("location"), "/login?next=%2F");
  assert.equal(page.headers.get("set-cookie"), null, "no guest is created");
  const read = await call(app, "GET", "/api/rooms/general/messages", undefined);
  assert.equal(read.status, 401);
  const { cookie } = await register(app, undefined, "ada");
  assert.equal((await app.request("/", { headers: { cookie: cookie! } })).status, 200);
  const posted = await app.request(
    "/api/rooms/general/messages",
    jsonInit("POST", { body: "members only" }, { cookie, origin: ORIGIN }),
  );
  assert.equal(posted.status, 201);
  const readAsMember = await call(app, "GET", "/api/rooms/general/messages", undefined, cookie);
  assert.equal(readAsMember.status, 200);
}, { PARLEY_GUESTS: "off" });

accountTest("registration by invitation: the admin invites, each link works once", async (app) => {
  const admin = await register(app, undefined, "admin");
  assert.equal(admin.status, 201, "the first account needs no invitation");
  const uninvited = await register(app, undefined, "stranger");
  assert.equal(uninvited.status, 403);
  assert.equal(uninvited.json.error.code, "invite_required");
  const invite = await call(app, "POST", "/api/invites", undefined, admin.cookie);
  assert.equal(invite.status, 201);
  assert.match(invite.json.url, /^http:\/\/localhost\/login\?invite=/);
  const invited = await register(app, undefined, "friend", { invite: invite.json.token });
  assert.equal(invited.status, 201);
  const reused = await register(app, undefined, "friend2", { invite: invite.json.token });
  assert.equal(reused.status, 403, "an invitation works once");
  const byMember = await call(app, "POST", "/api/invites", undefined, invited.cookie);
  assert.equal(byMember.status, 403, "only admins invite");
  assert.equal(byMember.json.error.code, "admin_only");
}, { PARLEY_REGISTRATION: "invite" });

accountTest(
  "login attempts are limited per address, from X-Forwarded-For behind a proxy",
  async (app) => {
    const attempt = (address: string, username: string) =>
      app.request("/api/auth/login", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          origin: ORIGIN,
          // Our proxy appends the client's address; what is left of it the client wrote.
          "x-forwarded-for": `10.0.0.1, ${address}`,
        },
        body: JSON.stringify({ username, password: "wrong password" }),
      });
    for (let i = 0; i < 30; i++) {
      const response = await attempt("203.0.113.7", `user${i}`);
      assert.equal(response.status, 401);
      await response.body?.cancel();
    }
    const blocked = await attempt("203.0.113.7", "another");
    assert.equal(blocked.status, 429);
    await blocked.body?.cancel();
    const elsewhere = await attempt("198.51.100.2", "another");
    assert.equal(elsewhere.status, 401, "another address is not blocked");
    await elsewhere.body?.cancel();
  },
  { PARLEY_TRUST_PROXY: "1" },
);

accountTest(
  "login's next stays on this site: tricks fall back to /, real paths are kept",
  async (app) => {
    const tricks = [
      "/%09/evil.example/",
      "/%0a/x",
      "/%0d/x",
      "/%00",
      "//evil",
      "/%5Cevil",
      "/\\evil",
      "https://evil",
      "/%2F/evil.example",
      "/.//evil.example",
      "/..//evil.example",
    ];
    const nextOf = async (query: string, cookie?: string) => {
      const response = await app.request(`/login?next=${query}`, {
        headers: cookie ? { cookie } : {},
      });
      if (response.status === 303) return response.headers.get("location");
      assert.equal(response.status, 200, query);
      const html = await response.text();
      const props = html.match(
        /data-island="account_forms#AccountForms"><script type="application\/json">(.*?)<\/script>/,
      );
      return JSON.parse(props![1]).next;
    };
    for (const trick of tricks) assert.equal(await nextOf(trick), "/", trick);
    assert.equal(await nextOf(encodeURIComponent("/rooms/x?y=1")), "/rooms/x?y=1");
    const { cookie } = await register(app, undefined, "ada");
    for (const trick of tricks) assert.equal(await nextOf(trick, cookie), "/", trick);
    assert.equal(await nextOf(encodeURIComponent("/rooms/x?y=1#z"), cookie), "/rooms/x?y=1#z");
  },
);
