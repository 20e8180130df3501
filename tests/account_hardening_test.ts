// Hardening of accounts (issue 7): registration limits, atomic invitations, who is who, lockouts.
import assert from "node:assert/strict";
import { appTest, callApi, type Guest, newGuest, postMessage, type TestApp } from "./helpers.ts";
import { passwordWork } from "../chat/passwords.ts";

const ORIGIN = "http://localhost";
const PASSWORD = "correct horse battery";

const hardeningTest = appTest("account hardening");

async function register(
  app: TestApp,
  guest: Guest | undefined,
  username: string,
  extra: Record<string, unknown> = {},
) {
  return await callApi(app, "POST", "/api/auth/register", {
    body: { username, password: PASSWORD, ...extra },
    cookie: guest?.cookie,
  });
}

function memberCount(app: TestApp): number {
  return Number(app.store.db.prepare("SELECT count(*) AS n FROM members").get()!.n);
}

/** A request from `address` (the app trusts X-Forwarded-For in these tests). */
async function from(app: TestApp, address: string, path: string, body: unknown) {
  const response = await app.request(path, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      origin: ORIGIN,
      "x-forwarded-for": address,
    },
    body: JSON.stringify(body),
  });
  const json = await response.json();
  return { status: response.status, json, retryAfter: response.headers.get("retry-after") };
}

// Item 7: registrations are limited per address.
hardeningTest("registrations are limited per address, with Retry-After", async (app) => {
  for (let i = 0; i < 3; i++) {
    assert.equal(
      (await from(app, "203.0.113.1", "/api/auth/register", {
        username: `user${i}`,
        password: PASSWORD,
      })).status,
      201,
    );
  }
  const refused = await from(app, "203.0.113.1", "/api/auth/register", {
    username: "user3",
    password: PASSWORD,
  });
  assert.equal(refused.status, 429);
  assert.equal(refused.json.error.code, "rate_limited");
  assert.ok(Number(refused.retryAfter) > 0);
  const other = await from(app, "198.51.100.9", "/api/auth/register", {
    username: "user3",
    password: PASSWORD,
  });
  assert.equal(other.status, 201, "another address may register");
}, { PARLEY_REGISTRATIONS_PER_HOUR: "3", PARLEY_TRUST_PROXY: "1" });

// Item 7: password hashing is bounded; memory does not grow with attackers.
hardeningTest("at most two password hashes run at once; beyond a small queue, 503", async (app) => {
  await register(app, undefined, "owner");
  passwordWork.resetPeak();
  const requests = [];
  for (let i = 0; i < 48; i++) {
    requests.push(
      i % 6
        ? callApi(app, "POST", "/api/auth/register", {
          body: { username: `flood${i}`, password: PASSWORD },
        })
        : callApi(app, "POST", "/api/auth/login", {
          body: { username: "owner", password: `wrong password ${i}` },
        }),
    );
  }
  const answers = await Promise.all(requests);
  assert.equal(passwordWork.peak, 2, "never more than two hashes at once");
  assert.ok(passwordWork.peakWaiting <= passwordWork.maxWaiting, "the queue stays small");
  const busy = answers.filter((a) => a.status === 503);
  assert.ok(busy.length >= 48 - 2 - passwordWork.maxWaiting, `${busy.length} answered 503`);
  assert.ok(busy.length < 48, "some got through");
  assert.equal(busy[0].json.error.code, "busy");
  const other = answers.filter((a) => a.status !== 503).map((a) => a.status);
  assert.ok(other.every((s) => s === 201 || s === 401), String(other));
  assert.equal(passwordWork.running, 0);
  assert.equal(passwordWork.waiting, 0);
}, { PARLEY_REGISTRATIONS_PER_HOUR: "1000" });

// Item 7: a failed registration creates nothing.
hardeningTest("a failed registration leaves no member behind", async (app) => {
  assert.equal((await register(app, undefined, "ada")).status, 201);
  const before = memberCount(app);
  const taken = await register(app, undefined, "ADA");
  assert.equal(taken.status, 409);
  assert.equal(taken.json.error.code, "username_taken");
  assert.equal(memberCount(app), before, "no orphan member");
  const search = await callApi(app, "GET", "/api/members?q=ada", {
    cookie: (await register(app, undefined, "searcher")).cookie,
  });
  assert.deepEqual(search.json.members.map((m: { name: string }) => m.name), ["ada"]);
}, { PARLEY_REGISTRATIONS_PER_HOUR: "1000" });

hardeningTest("a registration refused for want of an invitation leaves no member", async (app) => {
  assert.equal((await register(app, undefined, "admin")).status, 201);
  const before = memberCount(app);
  const refused = await register(app, undefined, "stranger");
  assert.equal(refused.status, 403);
  assert.equal(memberCount(app), before);
}, { PARLEY_REGISTRATION: "invite" });

// Item 8: an invitation is used only by a successful registration.
hardeningTest("a failed registration does not use up the invitation", async (app) => {
  const admin = await register(app, undefined, "admin");
  const invite = await callApi(app, "POST", "/api/invites", { cookie: admin.cookie });
  const taken = await register(app, undefined, "ADMIN", { invite: invite.json.token });
  assert.equal(taken.status, 409);
  const guest = await newGuest(app);
  const ok = await register(app, guest, "friend", { invite: invite.json.token });
  assert.equal(ok.status, 201, "the same link still works");
  const reused = await register(app, undefined, "friend2", { invite: invite.json.token });
  assert.equal(reused.status, 403, "and then it is used");
}, { PARLEY_REGISTRATION: "invite" });

hardeningTest("on an empty invite-only site only one first registration succeeds", async (app) => {
  const answers = await Promise.all(
    ["first1", "first2", "first3", "first4"].map((name) => register(app, undefined, name)),
  );
  const statuses = answers.map((a) => a.status).sort();
  assert.deepEqual(statuses, [201, 403, 403, 403]);
  const admins = answers.filter((a) => a.status === 201);
  assert.equal(admins[0].json.account.isAdmin, true);
  assert.equal(memberCount(app), 1, "the refused ones left nothing");
}, { PARLEY_REGISTRATION: "invite" });

// Item 13: who is who.
hardeningTest("messages carry author.username; null for guests", async (app) => {
  const admin = await register(app, await newGuest(app), "boss");
  const guest = await newGuest(app);
  await postMessage(app, { cookie: admin.cookie!, member: admin.json }, "from the admin");
  await postMessage(app, guest, "from a guest");
  const { json } = await callApi(app, "GET", "/api/rooms/general/messages");
  assert.deepEqual(json.messages.map((m: { author: unknown }) => m.author), [
    { id: admin.json.id, name: admin.json.name, username: "boss" },
    { id: guest.member.id, name: guest.member.name, username: null },
  ]);
  const sent = await postMessage(app, guest, "again");
  assert.equal((await sent.json()).author.username, null);
  const spec = await (await app.request("/api/openapi.json")).json();
  const schemas = JSON.stringify(spec);
  assert.match(schemas, /"username"/);
});

hardeningTest("the page shows @username for members and marks guests", async (app) => {
  const admin = await register(app, await newGuest(app), "boss");
  const guest = await newGuest(app);
  await postMessage(app, { cookie: admin.cookie!, member: admin.json }, "from the admin");
  await postMessage(app, guest, "from a guest");
  const html = await (await app.request("/", { headers: { cookie: guest.cookie } })).text();
  const items = [...html.matchAll(/<li class="message[^"]*"[^>]*>([\s\S]*?)<\/li>/g)].map((m) =>
    m[1]
  );
  assert.equal(items.length, 2);
  assert.match(items[0], /<span class="username"[^>]*>@boss<\/span>/);
  assert.doesNotMatch(items[0], /guest-badge/);
  assert.match(items[1], /<span class="guest-badge"[^>]*>guest<\/span>/);
});

hardeningTest("a guest cannot take a member's name or username (any case, NFKC)", async (app) => {
  const admin = await register(app, await newGuest(app), "boss");
  const renameAdmin = await callApi(app, "PATCH", "/api/me", {
    body: { name: "Alice Admin" },
    cookie: admin.cookie,
  });
  assert.equal(renameAdmin.status, 200);
  const guest = await newGuest(app);
  for (const name of ["Alice Admin", "alice admin", "ＡＬＩＣＥ ＡＤＭＩＮ", "BOSS", "ｂｏｓｓ"]) {
    const answer = await callApi(app, "PATCH", "/api/me", { body: { name }, cookie: guest.cookie });
    assert.equal(answer.status, 409, name);
    assert.equal(answer.json.error.code, "name_taken");
  }
  const ok = await callApi(app, "PATCH", "/api/me", {
    body: { name: "Alice A." },
    cookie: guest.cookie,
  });
  assert.equal(ok.status, 200);
  const member = await register(app, await newGuest(app), "member2");
  const clash = await callApi(app, "PATCH", "/api/me", {
    body: { name: "alice admin" },
    cookie: member.cookie,
  });
  assert.equal(clash.status, 409, "a member cannot take another member's name either");
  const own = await callApi(app, "PATCH", "/api/me", {
    body: { name: "MEMBER2" },
    cookie: member.cookie,
  });
  assert.equal(own.status, 200, "one's own username is fine");
  const self = await callApi(app, "PATCH", "/api/me", {
    body: { name: "alice admin" },
    cookie: admin.cookie,
  });
  assert.equal(self.status, 200, "one's own name in another case is fine");
}, { PARLEY_REGISTRATIONS_PER_HOUR: "1000" });

// Item 19: member search and lockouts.
hardeningTest(
  "guests find only members who share a room with them; accounts find all",
  async (app) => {
    const ada = await register(app, await newGuest(app), "ada_l");
    const guest = await newGuest(app);
    const hidden = await callApi(app, "GET", "/api/members?q=ada", { cookie: guest.cookie });
    assert.equal(hidden.status, 200);
    assert.deepEqual(hidden.json.members, [], "general does not count: everyone is in it");
    const room = await callApi(app, "POST", "/api/rooms", {
      body: { name: "Shared" },
      cookie: ada.cookie,
    });
    assert.equal(room.status, 201);
    await callApi(app, "POST", `/api/rooms/${room.json.slug}/join`, { cookie: guest.cookie });
    const shared = await callApi(app, "GET", "/api/members?q=ada", { cookie: guest.cookie });
    assert.deepEqual(shared.json.members.map((m: { username: string }) => m.username), ["ada_l"]);
    const member = await register(app, await newGuest(app), "bob_b");
    const all = await callApi(app, "GET", "/api/members?q=ada", { cookie: member.cookie });
    assert.deepEqual(all.json.members.map((m: { username: string }) => m.username), ["ada_l"]);
  },
  { PARLEY_REGISTRATIONS_PER_HOUR: "1000" },
);

hardeningTest("failed logins from one address do not lock the owner out elsewhere", async (app) => {
  assert.equal(
    (await from(app, "198.51.100.2", "/api/auth/register", {
      username: "owner",
      password: PASSWORD,
    })).status,
    201,
  );
  for (let i = 0; i < 10; i++) {
    const failed = await from(app, "203.0.113.66", "/api/auth/login", {
      username: "owner",
      password: `guess ${i}`,
    });
    assert.equal(failed.status, 401);
  }
  const locked = await from(app, "203.0.113.66", "/api/auth/login", {
    username: "owner",
    password: PASSWORD,
  });
  assert.equal(locked.status, 429, "the failing address is locked");
  const started = Date.now();
  const owner = await from(app, "198.51.100.2", "/api/auth/login", {
    username: "owner",
    password: PASSWORD,
  });
  assert.equal(owner.status, 200, "the owner from another address gets in");
  assert.ok(Date.now() - started >= 900, "but slowed: the username is under attack");
  const fresh = await from(app, "192.0.2.1", "/api/auth/login", {
    username: "owner",
    password: "another guess",
  });
  assert.equal(fresh.status, 401, "a third address is slowed, not blocked");
}, { PARLEY_TRUST_PROXY: "1" });

hardeningTest("successful logins do not count towards the lockout", async (app) => {
  await register(app, undefined, "ada");
  for (let i = 0; i < 15; i++) {
    const ok = await callApi(app, "POST", "/api/auth/login", {
      body: { username: "ada", password: PASSWORD },
    });
    assert.equal(ok.status, 200, `login ${i}`);
  }
});
