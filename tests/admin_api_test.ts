// The admin API (/api/admin/…): admins only, bans that take effect at once, the audit log, archived and deleted rooms.
import assert from "node:assert/strict";
import {
  appTest,
  callApi,
  type Guest,
  newGuest,
  postMessage,
  type TestApp,
  testConfig,
} from "./helpers.ts";
import { effectiveSettings } from "../chat/moderation.ts";

const PASSWORD = "correct horse battery";
const adminTest = appTest("admin api");

/** Registers a guest as an account; the first account of an app is its admin. */
async function account(app: TestApp, username: string): Promise<Guest> {
  const guest = await newGuest(app);
  const registered = await callApi(app, "POST", "/api/auth/register", {
    body: { username, password: PASSWORD },
    cookie: guest.cookie,
  });
  assert.equal(registered.status, 201, JSON.stringify(registered.json));
  return { cookie: registered.cookie!, member: guest.member };
}

function call(app: TestApp, method: string, path: string, cookie?: string, body?: unknown) {
  return callApi(app, method, path, { cookie, body });
}

/** Every admin route with a method, a target that exists and a valid body. */
function adminRoutes(memberId: number): [string, string, unknown?][] {
  return [
    ["GET", "/api/admin/members"],
    ["GET", "/api/admin/members?q=ada"],
    ["POST", `/api/admin/members/${memberId}/ban`],
    ["DELETE", `/api/admin/members/${memberId}/ban`],
    ["PUT", `/api/admin/members/${memberId}/admin`, { admin: true }],
    ["DELETE", `/api/admin/members/${memberId}/messages`],
    ["GET", "/api/admin/rooms"],
    ["POST", "/api/admin/rooms/general/archive"],
    ["DELETE", "/api/admin/rooms/general", { confirm: "general" }],
    ["GET", "/api/admin/invites"],
    ["GET", "/api/admin/settings"],
    ["GET", "/api/admin/audit"],
  ];
}

adminTest("every admin route answers 401 without a session, 403 to others", async (app) => {
  await account(app, "admin");
  const member = await account(app, "bob");
  const guest = await newGuest(app);
  for (const [method, path, body] of adminRoutes(member.member.id)) {
    const anonymous = await call(app, method, path, undefined, body);
    assert.equal(anonymous.status, 401, `${method} ${path} without a session`);
    for (const who of [member, guest]) {
      const answer = await call(app, method, path, who.cookie, body);
      assert.equal(answer.status, 403, `${method} ${path} as ${who.member.name}`);
      assert.equal(answer.json.error.code, "forbidden");
    }
  }
  assert.equal((await call(app, "GET", "/api/admin/members?q=bob", member.cookie)).status, 403);
  const rooms = await call(app, "GET", "/api/rooms/general/messages", member.cookie);
  assert.equal(rooms.status, 200, "nothing was archived or deleted by the refused calls");
});

adminTest("the admin page: admins only (404 for members, login for guests)", async (app) => {
  const admin = await account(app, "admin");
  const member = await account(app, "bob");
  const guest = await newGuest(app);
  const page = await app.request("/admin", { headers: { cookie: admin.cookie } });
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<h1>Admin<\/h1>/);
  assert.match(html, /admin_panel#AdminPanel/);
  assert.ok(!html.includes("test-secret-0123456789abcdef"), "the secret is not in the page");
  const forMember = await app.request("/admin", { headers: { cookie: member.cookie } });
  assert.equal(forMember.status, 404);
  await forMember.body?.cancel();
  for (const cookie of [guest.cookie, undefined]) {
    const redirected = await app.request("/admin", { headers: cookie ? { cookie } : {} });
    assert.equal(redirected.status, 303);
    assert.equal(redirected.headers.get("location"), "/login?next=%2Fadmin");
  }
});

adminTest("admin routes are in the OpenAPI document", async (app) => {
  const doc = await (await app.request("/api/openapi.json")).json();
  for (const [method, path] of adminRoutes(1)) {
    const documented = path.split("?")[0].replace(/\/members\/\d+/, "/members/{id}")
      .replace(/\/rooms\/general/, "/rooms/{room}");
    assert.ok(doc.paths[documented]?.[method.toLowerCase()], `${method} ${documented}`);
  }
});

adminTest("a ban ends an open session within one request, and login is refused", async (app) => {
  const admin = await account(app, "admin");
  const bob = await account(app, "bob");
  const bobElsewhere = await callApi(app, "POST", "/api/auth/login", {
    body: { username: "bob", password: PASSWORD },
  });
  assert.equal(bobElsewhere.status, 200);
  assert.equal((await postMessage(app, bob, "before the ban")).status, 201);

  const banned = await call(app, "POST", `/api/admin/members/${bob.member.id}/ban`, admin.cookie);
  assert.equal(banned.status, 200);
  assert.equal(banned.json.sessionsEnded, 2);

  // The very next request with either open session has no session any more.
  const posted = await postMessage(app, bob, "after the ban");
  assert.equal(posted.status, 401);
  assert.equal((await call(app, "GET", "/api/me", bobElsewhere.cookie)).status, 401);
  const login = await callApi(app, "POST", "/api/auth/login", {
    body: { username: "bob", password: PASSWORD },
  });
  assert.equal(login.status, 403);
  assert.equal(login.json.error.code, "banned");
  assert.equal(login.setCookie, null, "no session for a banned member");
  const wrong = await callApi(app, "POST", "/api/auth/login", {
    body: { username: "bob", password: "not the password at all" },
  });
  assert.equal(wrong.status, 401, "a wrong password says nothing about the ban");

  const { json } = await call(app, "GET", "/api/admin/members?q=bob", admin.cookie);
  assert.equal(json.members.length, 1);
  assert.ok(json.members[0].bannedAt > 0);
  assert.equal(json.members[0].messageCount, 1);

  assert.equal(
    (await call(app, "DELETE", `/api/admin/members/${bob.member.id}/ban`, admin.cookie)).status,
    204,
  );
  const again = await callApi(app, "POST", "/api/auth/login", {
    body: { username: "bob", password: PASSWORD },
  });
  assert.equal(again.status, 200, "unbanned: logs in again");
  assert.equal((await postMessage(app, { ...bob, cookie: again.cookie! }, "back")).status, 201);
});

adminTest("a banned guest can no longer post with its session", async (app) => {
  const admin = await account(app, "admin");
  const guest = await newGuest(app);
  assert.equal((await postMessage(app, guest, "hello")).status, 201);
  assert.equal(
    (await call(app, "POST", `/api/admin/members/${guest.member.id}/ban`, admin.cookie)).status,
    200,
  );
  assert.equal((await postMessage(app, guest, "still here?")).status, 401);
  assert.equal(await app.store.isBanned(guest.member.id), true);
  // The store never finds a session for a banned member, even one created later.
  const session = await app.store.createSession(guest.member.id, "a-token-hash").catch(() => null);
  assert.equal(session, null);
});

adminTest(
  "every admin action is written to the audit log: who, what, when, target",
  async (app) => {
    const admin = await account(app, "admin");
    const bob = await account(app, "bob");
    const started = Date.now();
    const id = bob.member.id;
    await call(app, "POST", `/api/admin/members/${id}/ban`, admin.cookie);
    await call(app, "DELETE", `/api/admin/members/${id}/ban`, admin.cookie);
    await call(app, "PUT", `/api/admin/members/${id}/admin`, admin.cookie, { admin: true });
    await call(app, "PUT", `/api/admin/members/${id}/admin`, admin.cookie, { admin: false });
    await call(app, "DELETE", `/api/admin/members/${id}/messages`, admin.cookie);
    const created = await call(app, "POST", "/api/rooms", admin.cookie, { name: "attic" });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const slug = created.json.slug;
    await call(app, "POST", `/api/admin/rooms/${slug}/archive`, admin.cookie);
    await call(app, "DELETE", `/api/admin/rooms/${slug}`, admin.cookie, { confirm: slug });

    const { status, json } = await call(app, "GET", "/api/admin/audit", admin.cookie);
    assert.equal(status, 200);
    assert.deepEqual(
      json.entries.map((e: { action: string; targetKind: string; targetId: string }) => [
        e.action,
        e.targetKind,
        e.targetId,
      ]),
      [
        ["room.delete", "room", slug],
        ["room.archive", "room", slug],
        ["member.delete_messages", "member", String(id)],
        ["member.demote", "member", String(id)],
        ["member.promote", "member", String(id)],
        ["member.unban", "member", String(id)],
        ["member.ban", "member", String(id)],
      ],
    );
    for (const entry of json.entries) {
      assert.deepEqual(entry.actor, admin.member);
      assert.ok(entry.at >= started && entry.at <= Date.now());
    }
    assert.equal(json.entries.at(-1).detail.name, bob.member.name);
    const older = await call(
      app,
      "GET",
      `/api/admin/audit?before=${json.entries[1].id}`,
      admin.cookie,
    );
    assert.equal(older.json.entries.length, 5, "paged by id");
  },
);

adminTest("the last admin cannot demote themselves; guests cannot be admins", async (app) => {
  const admin = await account(app, "admin");
  const guest = await newGuest(app);
  const self = await call(app, "PUT", `/api/admin/members/${admin.member.id}/admin`, admin.cookie, {
    admin: false,
  });
  assert.equal(self.status, 409);
  assert.equal(self.json.error.code, "last_admin");
  const promote = await call(
    app,
    "PUT",
    `/api/admin/members/${guest.member.id}/admin`,
    admin.cookie,
    {
      admin: true,
    },
  );
  assert.equal(promote.status, 400);
  const missing = await call(app, "POST", "/api/admin/members/999999/ban", admin.cookie);
  assert.equal(missing.status, 404);
  const me = await call(app, "POST", `/api/admin/members/${admin.member.id}/ban`, admin.cookie);
  assert.equal(me.status, 400, "an admin cannot ban themselves");
});

adminTest("an archived room refuses posts, edits and reactions but can be read", async (app) => {
  const admin = await account(app, "admin");
  const guest = await newGuest(app);
  const sent = await postMessage(app, guest, "before archiving");
  const message = await sent.json();
  const archived = await call(app, "POST", "/api/admin/rooms/general/archive", admin.cookie);
  assert.equal(archived.status, 200);
  assert.equal(archived.json.archived, true);

  const post = await postMessage(app, guest, "after");
  assert.equal(post.status, 403);
  assert.equal((await post.json()).error.code, "room_archived");
  const edit = await call(app, "PATCH", `/api/rooms/general/messages/${message.id}`, guest.cookie, {
    body: "changed",
  });
  assert.equal(edit.status, 403);
  assert.equal(edit.json.error.code, "room_archived");
  const react = await call(
    app,
    "PUT",
    `/api/rooms/general/messages/${message.id}/reactions/${encodeURIComponent("👍")}`,
    guest.cookie,
  );
  assert.equal(react.status, 403);
  const form = new FormData();
  form.append("file", new Blob([new TextEncoder().encode("late notes")]), "notes.txt");
  const upload = await app.request("/api/rooms/general/files", {
    method: "POST",
    body: form,
    headers: { cookie: admin.cookie, origin: "http://localhost" },
  });
  assert.equal(upload.status, 403);
  assert.equal((await upload.json()).error.code, "room_archived");
  const files = app.store.db.prepare("SELECT count(*) AS n FROM files").get();
  assert.equal(Number(files?.n), 0, "nothing was stored");
  const topic = await call(app, "PUT", "/api/rooms/general/topic", admin.cookie, {
    topic: "too late",
  });
  assert.equal(topic.status, 403);
  assert.equal(topic.json.error.code, "room_archived");
  const read = await call(app, "GET", "/api/rooms/general/messages", guest.cookie);
  assert.equal(read.status, 200);
  assert.equal(read.json.messages.length, 1);
});

adminTest("a long poll waiting in a room that is deleted answers 404 at once", async (app) => {
  const admin = await account(app, "admin");
  const created = await call(app, "POST", "/api/rooms", admin.cookie, { name: "attic" });
  const slug = created.json.slug;
  const first = await call(app, "GET", `/api/rooms/${slug}/messages`, admin.cookie);
  const started = Date.now();
  const waiting = call(
    app,
    "GET",
    `/api/rooms/${slug}/messages?after=${first.json.cursor}&wait=20`,
    admin.cookie,
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  const deleted = await call(app, "DELETE", `/api/admin/rooms/${slug}`, admin.cookie, {
    confirm: slug,
  });
  assert.equal(deleted.status, 204);
  const answer = await waiting;
  assert.equal(answer.status, 404, JSON.stringify(answer.json));
  assert.equal(answer.json.error.code, "room_not_found");
  assert.ok(Date.now() - started < 5000, "woken, not timed out");
});

adminTest("deleting a room removes its messages and files; it needs the slug", async (app) => {
  const admin = await account(app, "admin");
  const created = await call(app, "POST", "/api/rooms", admin.cookie, { name: "attic" });
  const slug = created.json.slug;
  const form = new FormData();
  form.append("file", new Blob([new TextEncoder().encode("attic notes")]), "notes.txt");
  const upload = await app.request(`/api/rooms/${slug}/files`, {
    method: "POST",
    body: form,
    headers: { cookie: admin.cookie, origin: "http://localhost" },
  });
  assert.equal(upload.status, 201);
  const file = await upload.json();
  const sent = await call(app, "POST", `/api/rooms/${slug}/messages`, admin.cookie, {
    body: "see the file",
    attachments: [file.id],
  });
  assert.equal(sent.status, 201, JSON.stringify(sent.json));
  assert.equal((await app.request(file.url, { headers: { cookie: admin.cookie } })).status, 200);

  const unconfirmed = await call(app, "DELETE", `/api/admin/rooms/${slug}`, admin.cookie, {
    confirm: "wrong",
  });
  assert.equal(unconfirmed.status, 400);
  assert.equal(unconfirmed.json.error.code, "confirmation_mismatch");
  const general = await call(app, "DELETE", "/api/admin/rooms/general", admin.cookie, {
    confirm: "general",
  });
  assert.equal(general.status, 400, "general stays");

  const deleted = await call(app, "DELETE", `/api/admin/rooms/${slug}`, admin.cookie, {
    confirm: slug,
  });
  assert.equal(deleted.status, 204);
  assert.equal((await call(app, "GET", `/api/rooms/${slug}/messages`, admin.cookie)).status, 404);
  assert.equal(await app.store.getFile(file.id), null);
  assert.equal((await app.request(file.url, { headers: { cookie: admin.cookie } })).status, 404);
  const count = app.store.db.prepare("SELECT count(*) AS n FROM messages").get();
  assert.equal(Number(count?.n), 0);
  const blobs = app.store.db.prepare("SELECT count(*) AS n FROM blobs").get();
  assert.equal(Number(blobs?.n), 0, "the bytes are gone too");
});

adminTest("deleting all messages of a member erases them, live for readers", async (app) => {
  const admin = await account(app, "admin");
  const guest = await newGuest(app);
  const other = await newGuest(app);
  await postMessage(app, guest, "one");
  await postMessage(app, other, "stays");
  await postMessage(app, guest, "two");
  const before = await call(app, "GET", "/api/rooms/general/messages", other.cookie);
  const deleted = await call(
    app,
    "DELETE",
    `/api/admin/members/${guest.member.id}/messages`,
    admin.cookie,
  );
  assert.equal(deleted.status, 200);
  assert.equal(deleted.json.deleted, 2);
  const changes = await call(
    app,
    "GET",
    `/api/rooms/general/messages?since=${before.json.cursor}`,
    other.cookie,
  );
  assert.deepEqual(
    changes.json.messages.map((m: { body: string; deleted: boolean }) => [m.body, m.deleted]),
    [["", true], ["", true]],
  );
  const all = await call(app, "GET", "/api/rooms/general/messages", other.cookie);
  assert.deepEqual(all.json.messages.map((m: { body: string }) => m.body), ["", "stays", ""]);
});

adminTest("settings never show secrets; invitations and members are listed", async (app) => {
  const admin = await account(app, "admin");
  const invite = await call(app, "POST", "/api/invites", admin.cookie);
  assert.equal(invite.status, 201);
  const settings = await call(app, "GET", "/api/admin/settings", admin.cookie);
  assert.equal(settings.status, 200);
  assert.equal(settings.json.secret, "set");
  assert.equal(settings.json.metricsToken, "not set");
  assert.equal(settings.json.database, "sqlite");
  const text = JSON.stringify(settings.json);
  assert.ok(!text.includes(app.config.secret!), "the secret itself is not shown");
  const invites = await call(app, "GET", "/api/admin/invites", admin.cookie);
  assert.equal(invites.json.invites.length, 1);
  assert.deepEqual(invites.json.invites[0].createdBy, admin.member);
  assert.ok(!JSON.stringify(invites.json).includes(invite.json.token), "no token shown");
  const members = await call(app, "GET", "/api/admin/members", admin.cookie);
  assert.ok(members.json.members.some((m: { username: string }) => m.username === "admin"));
  assert.ok(members.json.members.every((m: { lastSeenAt: number | null }) => "lastSeenAt" in m));
}, { PARLEY_SECRET: "a-very-secret-value-0123456789" });

Deno.test("admin api: effective settings hide the database password and tokens", () => {
  const config = testConfig({
    DATABASE_URL: "postgres://parley:hunter2-secret@db:5432/parley",
    PARLEY_METRICS_TOKEN: "metrics-token-value",
  });
  const settings = effectiveSettings(config);
  assert.equal(settings.database, "postgres");
  assert.equal(settings.databaseUrl, "postgres://parley:***@db:5432/parley");
  assert.equal(settings.metricsToken, "set");
  const text = JSON.stringify(settings);
  for (const secret of ["hunter2-secret", "metrics-token-value", config.secret!]) {
    assert.ok(!text.includes(secret), secret);
  }
});
