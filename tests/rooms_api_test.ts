// Rooms through the API: creating, joining, private rooms, direct messages, unread counts — and
// every access rule, including the ones that must say no.
import assert from "node:assert/strict";
import { appTest, callApi, type Guest, newGuest, postMessage, type TestApp } from "./helpers.ts";

const roomTest = appTest("rooms");

function call(app: TestApp, guest: Guest, method: string, path: string, body?: unknown) {
  return callApi(app, method, path, { body, cookie: guest.cookie });
}

/** Every way to reach a room's content; each must answer 404 for an outsider. */
async function assertHidden(app: TestApp, outsider: Guest, slug: string) {
  const base = `/api/rooms/${slug}`;
  const attempts = [
    await call(app, outsider, "GET", `${base}/messages`),
    await call(app, outsider, "GET", `${base}/messages?after=0&wait=1`),
    await call(app, outsider, "GET", `${base}/messages?before=999999`),
    await call(app, outsider, "POST", `${base}/messages`, { body: "let me in" }),
    await call(app, outsider, "POST", `${base}/join`),
    await call(app, outsider, "POST", `${base}/leave`),
    await call(app, outsider, "POST", `${base}/invite`, { memberId: outsider.member.id }),
    await call(app, outsider, "PUT", `${base}/read`, { messageId: 1 }),
  ];
  for (const attempt of attempts) {
    assert.equal(attempt.status, 404, JSON.stringify(attempt.json));
    assert.equal(attempt.json.error.code, "room_not_found", "indistinguishable from no room");
  }
  const page = await app.request(`/rooms/${slug}`, { headers: { cookie: outsider.cookie } });
  assert.equal(page.status, 404);
  assert.doesNotMatch(await page.text(), /secret plans/);
  const list = await call(app, outsider, "GET", "/api/rooms");
  const visible = [...list.json.rooms, ...list.json.publicRooms].map((r) => r.slug);
  assert.ok(!visible.includes(slug), "not listed");
}

roomTest("anyone creates a public room; others see it, join, and talk", async (app) => {
  const [ada, bob] = [await newGuest(app), await newGuest(app)];
  const created = await call(app, ada, "POST", "/api/rooms", {
    name: "  Design   Review ",
    topic: "Pixels",
  });
  assert.equal(created.status, 201);
  assert.deepEqual({ ...created.json, id: 0 }, {
    id: 0,
    slug: "design-review",
    name: "Design Review",
    topic: "Pixels",
    kind: "public",
  });
  assert.equal((await call(app, bob, "POST", "/api/rooms", { name: "design review" })).status, 409);
  for (const name of ["", "x", "!!", "a".repeat(41), "dm-sneaky"]) {
    assert.equal((await call(app, bob, "POST", "/api/rooms", { name })).status, 400, name);
  }
  const before = await call(app, bob, "GET", "/api/rooms");
  assert.deepEqual(
    before.json.publicRooms.map((r: { slug: string }) => r.slug),
    ["design-review"],
    "general is joined on the first visit",
  );
  assert.equal((await call(app, bob, "POST", "/api/rooms/design-review/join")).status, 200);
  const after = await call(app, bob, "GET", "/api/rooms");
  assert.deepEqual(after.json.rooms.map((r: { slug: string }) => r.slug), [
    "design-review",
    "general",
  ]);
  assert.equal(
    (await postMessage(app, bob, "hello designers", { room: "design-review" })).status,
    201,
  );
  const page = await app.request("/rooms/design-review", { headers: { cookie: ada.cookie } });
  assert.match(await page.text(), /hello designers/);
  assert.equal((await call(app, bob, "POST", "/api/rooms/design-review/leave")).status, 204);
  assert.equal((await call(app, bob, "POST", "/api/rooms/design-review/leave")).status, 409);
});

roomTest("rooms keep conversations apart", async (app) => {
  const ada = await newGuest(app);
  await call(app, ada, "POST", "/api/rooms", { name: "random" });
  await postMessage(app, ada, "in general");
  await postMessage(app, ada, "in random", { room: "random" });
  const general = await call(app, ada, "GET", "/api/rooms/general/messages");
  const random = await call(app, ada, "GET", "/api/rooms/random/messages");
  assert.deepEqual(general.json.messages.map((m: { body: string }) => m.body), ["in general"]);
  assert.deepEqual(random.json.messages.map((m: { body: string }) => m.body), ["in random"]);
});

roomTest("a private room is invisible to outsiders until they are invited", async (app) => {
  const [ada, bob, eve] = [await newGuest(app), await newGuest(app), await newGuest(app)];
  const room = await call(app, ada, "POST", "/api/rooms", { name: "Secret", private: true });
  assert.equal(room.json.kind, "private");
  await postMessage(app, ada, "secret plans", { room: "secret" });
  await assertHidden(app, eve, "secret");
  await assertHidden(app, bob, "secret");

  const invited = await call(app, ada, "POST", "/api/rooms/secret/invite", {
    memberId: bob.member.id,
  });
  assert.equal(invited.status, 200);
  const read = await call(app, bob, "GET", "/api/rooms/secret/messages");
  assert.deepEqual(read.json.messages.map((m: { body: string }) => m.body), ["secret plans"]);
  assert.equal((await postMessage(app, bob, "count me in", { room: "secret" })).status, 201);
  const bobRooms = await call(app, bob, "GET", "/api/rooms");
  assert.ok(bobRooms.json.rooms.some((r: { slug: string }) => r.slug === "secret"));
  await assertHidden(app, eve, "secret");
  const missing = await call(app, ada, "POST", "/api/rooms/secret/invite", { memberId: 999999 });
  assert.equal(missing.status, 404);
  assert.equal(missing.json.error.code, "member_not_found");
  assert.equal((await call(app, bob, "POST", "/api/rooms/secret/leave")).status, 204);
  await assertHidden(app, bob, "secret");
});

roomTest("a direct conversation is found again, and a third person cannot read it", async (app) => {
  const [ada, bob, eve] = [await newGuest(app), await newGuest(app), await newGuest(app)];
  const first = await call(app, ada, "POST", "/api/direct", { memberId: bob.member.id });
  assert.equal(first.status, 200);
  assert.equal(first.json.kind, "direct");
  const again = await call(app, ada, "POST", "/api/direct", { memberId: bob.member.id });
  const fromBob = await call(app, bob, "POST", "/api/direct", { memberId: ada.member.id });
  assert.deepEqual(again.json, first.json);
  assert.deepEqual(fromBob.json, first.json, "one room per pair, whoever starts it");
  const slug = first.json.slug;
  await postMessage(app, ada, "secret plans", { room: slug });
  const read = await call(app, bob, "GET", `/api/rooms/${slug}/messages`);
  assert.equal(read.json.messages.length, 1);
  await assertHidden(app, eve, slug);
  assert.equal((await call(app, ada, "POST", `/api/rooms/${slug}/leave`)).status, 400);
  const invite = await call(app, ada, "POST", `/api/rooms/${slug}/invite`, {
    memberId: eve.member.id,
  });
  assert.equal(invite.status, 400, "no third person in a direct room");
  await assertHidden(app, eve, slug);
  assert.equal(
    (await call(app, ada, "POST", "/api/direct", { memberId: ada.member.id })).status,
    400,
  );
  const adaDm = (await call(app, ada, "GET", "/api/rooms")).json.rooms.find((
    r: { kind: string },
  ) => r.kind === "direct");
  assert.equal(adaDm.name, bob.member.name, "named after the other person");
});

roomTest("unread counts per member, moved by the read cursor", async (app) => {
  const [ada, bob] = [await newGuest(app), await newGuest(app)];
  await call(app, ada, "POST", "/api/rooms", { name: "team" });
  await call(app, bob, "POST", "/api/rooms/team/join");
  const ids: number[] = [];
  for (const text of ["one", "two", "three"]) {
    ids.push((await (await postMessage(app, bob, text, { room: "team" })).json()).id);
  }
  const unread = async (guest: Guest) =>
    (await call(app, guest, "GET", "/api/rooms")).json.rooms.find((r: { slug: string }) =>
      r.slug === "team"
    ).unread;
  assert.equal(await unread(ada), 3);
  assert.equal(
    (await call(app, ada, "PUT", "/api/rooms/team/read", { messageId: ids[1] })).status,
    204,
  );
  assert.equal(await unread(ada), 1);
  await call(app, ada, "PUT", "/api/rooms/team/read", { messageId: ids[0] });
  assert.equal(await unread(ada), 1, "never back");
  assert.equal(
    (await call(app, ada, "PUT", "/api/rooms/team/read", { messageId: -1 })).status,
    400,
  );
});

roomTest("the OpenAPI document lists the account and room endpoints", async (app) => {
  const doc = await (await app.request("/api/openapi.json")).json();
  for (
    const path of [
      "/api/auth/register",
      "/api/auth/login",
      "/api/auth/logout",
      "/api/auth/sessions",
      "/api/auth/password",
      "/api/invites",
      "/api/rooms",
      "/api/rooms/{room}/join",
      "/api/rooms/{room}/leave",
      "/api/rooms/{room}/invite",
      "/api/rooms/{room}/read",
      "/api/direct",
    ]
  ) {
    assert.ok(doc.paths[path], path);
  }
});

roomTest("members are found by name to invite or message them", async (app) => {
  const [ada, bob] = [await newGuest(app), await newGuest(app)];
  const part = bob.member.name.split(" ")[1].toLowerCase();
  const found = await call(app, ada, "GET", `/api/members?q=${part}`);
  assert.equal(found.status, 200);
  assert.ok(found.json.members.some((m: { id: number }) => m.id === bob.member.id));
  assert.equal((await call(app, ada, "GET", "/api/members?q=")).status, 400);
  assert.equal((await call(app, ada, "GET", `/api/members?q=${"x".repeat(41)}`)).status, 400);
  const anonymous = await app.request(`/api/members?q=${part}`);
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();
});
