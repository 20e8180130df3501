// Rooms through the API: creating, joining, private rooms, direct messages, unread counts — and
// every access rule, including the ones that must say no.
import assert from "node:assert/strict";
import manifest from "../fresh.gen.ts";
import { appTest, callApi, type Guest, newGuest, postMessage, type TestApp } from "./helpers.ts";

const appRoomTest = appTest("rooms");
/** Most tests here let guests create rooms (`PARLEY_GUEST_ROOMS=on`); the default is tested too. */
function roomTest(
  name: string,
  fn: (app: TestApp) => Promise<void>,
  env: Record<string, string> = {},
) {
  appRoomTest(name, fn, { PARLEY_GUEST_ROOMS: "on", ...env });
}

function call(app: TestApp, guest: Guest, method: string, path: string, body?: unknown) {
  return callApi(app, method, path, { body, cookie: guest.cookie });
}

/** A new visitor registered as `username`, with the account's session cookie. */
async function registered(app: TestApp, username: string): Promise<Guest> {
  const guest = await newGuest(app);
  const answer = await callApi(app, "POST", "/api/auth/register", {
    body: { username, password: "correct horse battery" },
    cookie: guest.cookie,
  });
  assert.equal(answer.status, 201, JSON.stringify(answer.json));
  return { ...guest, cookie: answer.cookie! };
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
    ownerId: ada.member.id,
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
  const slug = room.json.slug;
  await postMessage(app, ada, "secret plans", { room: slug });
  await assertHidden(app, eve, slug);
  await assertHidden(app, bob, slug);

  const invited = await call(app, ada, "POST", `/api/rooms/${slug}/invite`, {
    memberId: bob.member.id,
  });
  assert.equal(invited.status, 200);
  const read = await call(app, bob, "GET", `/api/rooms/${slug}/messages`);
  assert.deepEqual(read.json.messages.map((m: { body: string }) => m.body), ["secret plans"]);
  assert.equal((await postMessage(app, bob, "count me in", { room: slug })).status, 201);
  const bobRooms = await call(app, bob, "GET", "/api/rooms");
  assert.ok(bobRooms.json.rooms.some((r: { slug: string }) => r.slug === slug));
  await assertHidden(app, eve, slug);
  const missing = await call(app, ada, "POST", `/api/rooms/${slug}/invite`, { memberId: 999999 });
  assert.equal(missing.status, 404);
  assert.equal(missing.json.error.code, "member_not_found");
  assert.equal((await call(app, bob, "POST", `/api/rooms/${slug}/leave`)).status, 204);
  await assertHidden(app, bob, slug);
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

roomTest("every API route and method is in the OpenAPI document", async (app) => {
  const doc = await (await app.request("/api/openapi.json")).json();
  const undocumented: string[] = [];
  for (const [file, module] of Object.entries(manifest.routes)) {
    const match = /^\.\/routes(\/api\/.*)\.tsx?$/.exec(file);
    if (!match || /\/_|\/docs\/|openapi\.json/.test(file)) continue;
    const path = match[1].replace(/\/index$/, "").replace(/\[(\w+)\]/g, "{$1}");
    const handler = (module as { handler?: Record<string, unknown> }).handler ?? {};
    for (const method of Object.keys(handler)) {
      if (!doc.paths[path]?.[method.toLowerCase()]) undocumented.push(`${method} ${path}`);
    }
  }
  assert.deepEqual(undocumented, []);
});

roomTest("members are found by name to invite or message them", async (app) => {
  const [ada, bob] = [await newGuest(app), await newGuest(app)];
  const part = bob.member.name.split(" ")[1].toLowerCase();
  const strangers = await call(app, ada, "GET", `/api/members?q=${part}`);
  assert.equal(strangers.status, 200);
  assert.ok(
    !strangers.json.members.some((m: { id: number }) => m.id === bob.member.id),
    "a guest finds only the people it shares a room with (besides general)",
  );
  const room = await app.store.createRoom({
    slug: "together",
    name: "together",
    topic: "",
    kind: "private",
    createdBy: ada.member.id,
  });
  await app.store.addRoomMember(room!.id, bob.member.id);
  const found = await call(app, ada, "GET", `/api/members?q=${part}`);
  assert.equal(found.status, 200);
  assert.ok(found.json.members.some((m: { id: number }) => m.id === bob.member.id));
  assert.equal((await call(app, ada, "GET", "/api/members?q=")).status, 400);
  assert.equal((await call(app, ada, "GET", `/api/members?q=${"x".repeat(41)}`)).status, 400);
  const anonymous = await app.request(`/api/members?q=${part}`);
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();
});

roomTest("taking a hidden private room's name creates a room and reveals nothing", async (app) => {
  const [ada, bob] = [await newGuest(app), await newGuest(app)];
  // A private room from before private slugs got random characters: its slug is its name's.
  const hidden = await app.store.createRoom({
    slug: "secret-plans",
    name: "Secret Plans",
    topic: "",
    kind: "private",
    createdBy: ada.member.id,
  });
  await postMessage(app, ada, "secret plans", { room: hidden!.slug });
  const open = await call(app, bob, "POST", "/api/rooms", { name: "Secret Plans" });
  assert.equal(open.status, 201, JSON.stringify(open.json));
  assert.match(open.json.slug, /^secret-plans-[a-z0-9]{6}$/);
  assert.equal(open.json.kind, "public");
  const closed = await call(app, bob, "POST", "/api/rooms", {
    name: "Secret Plans",
    private: true,
  });
  assert.equal(closed.status, 201);
  await assertHidden(app, bob, "secret-plans");
  const again = await call(app, bob, "POST", "/api/rooms", { name: "Secret Plans" });
  assert.equal(again.status, 201, "the same answer every time: nothing to learn");
});

roomTest("private rooms get unguessable slugs; two may share a name", async (app) => {
  const [ada, bob] = [await newGuest(app), await newGuest(app)];
  const first = await call(app, ada, "POST", "/api/rooms", { name: "Board", private: true });
  const second = await call(app, bob, "POST", "/api/rooms", { name: "Board", private: true });
  assert.equal(first.status, 201);
  assert.equal(second.status, 201);
  assert.match(first.json.slug, /^board-[a-z0-9]{6}$/);
  assert.match(second.json.slug, /^board-[a-z0-9]{6}$/);
  assert.notEqual(first.json.slug, second.json.slug);
  await assertHidden(app, bob, first.json.slug);
  const open = await call(app, bob, "POST", "/api/rooms", { name: "Board" });
  assert.equal(open.json.slug, "board", "a public room keeps its plain slug");
  const taken = await call(app, ada, "POST", "/api/rooms", { name: "board" });
  assert.equal(taken.status, 409, "a room one can see is a conflict");
  assert.equal(taken.json.error.code, "room_exists");
});

roomTest("room names and topics refuse controls and direction overrides", async (app) => {
  const ada = await newGuest(app);
  const create = (body: unknown) => call(app, ada, "POST", "/api/rooms", body);
  for (const name of ["evil\u202egnp", "a\u2066b\u2069c", "nul\u0000room", "x\u0085y"]) {
    const answer = await create({ name });
    assert.equal(answer.status, 400, JSON.stringify(name));
    assert.equal(answer.json.error.code, "invalid_room_name");
  }
  for (const topic of ["evil\u202egnp", "a\u2067b", "before\u0000after", "bell\u0007"]) {
    const answer = await create({ name: "Topical", topic });
    assert.equal(answer.status, 400, JSON.stringify(topic));
    assert.equal(answer.json.error.code, "invalid_topic");
  }
  const zalgo = await create({ name: "Za" + "\u0301".repeat(6) + "lgo" });
  assert.equal(zalgo.status, 400);
  const fine = await create({ name: "Café ☕", topic: "Line\nbreaks fold\tinto spaces" });
  assert.equal(fine.status, 201, JSON.stringify(fine.json));
  assert.equal(fine.json.topic, "Line breaks fold into spaces");
});

roomTest("room creation is limited per member and hour", async (app) => {
  const [ada, bob] = [await newGuest(app), await newGuest(app)];
  for (let i = 0; i < 3; i++) {
    const made = await call(app, ada, "POST", "/api/rooms", { name: `Room ${i}` });
    assert.equal(made.status, 201);
  }
  const response = await app.request("/api/rooms", {
    method: "POST",
    headers: { "content-type": "application/json", origin: "http://localhost", cookie: ada.cookie },
    body: JSON.stringify({ name: "One too many" }),
  });
  assert.equal(response.status, 429);
  assert.ok(Number(response.headers.get("retry-after")) > 0);
  assert.equal((await response.json()).error.code, "rate_limited");
  assert.equal((await call(app, bob, "POST", "/api/rooms", { name: "Bob's" })).status, 201);
}, { PARLEY_ROOMS_PER_HOUR: "3" });

appRoomTest("by default guests chat but only members create rooms", async (app) => {
  const guest = await newGuest(app);
  const refused = await call(app, guest, "POST", "/api/rooms", { name: "Guest room" });
  assert.equal(refused.status, 403);
  assert.equal(refused.json.error.code, "account_required");
  assert.match(refused.json.error.message, /register/i);
  const page = await (await app.request("/", { headers: { cookie: guest.cookie } })).text();
  assert.doesNotMatch(page, /name="room-name"/, "no new-room form for guests");
  assert.match(page, /Guests cannot create rooms here/);
  const member = await callApi(app, "POST", "/api/auth/register", {
    body: { username: "ada", password: "correct horse battery" },
    cookie: guest.cookie,
  });
  assert.equal(member.status, 201);
  const made = await call(app, { ...guest, cookie: member.cookie! }, "POST", "/api/rooms", {
    name: "Member room",
  });
  assert.equal(made.status, 201);
  const memberPage = await app.request("/", { headers: { cookie: member.cookie! } });
  assert.match(await memberPage.text(), /name="room-name"/);
});

roomTest(
  "with 200 public rooms a new visitor's page stays small; the rest are found by name",
  async (app) => {
    const owner = await app.store.createMember("Owner");
    for (let i = 0; i < 200; i++) {
      await app.store.createRoom({
        slug: `room-${i}`,
        name: `Room number ${i} with a longish name to weigh on the page`,
        topic: "x".repeat(100),
        kind: "public",
        createdBy: owner.id,
      });
    }
    const response = await app.request("/");
    const html = await response.text();
    assert.ok(html.length < 40_000, `the page has ${html.length} characters`);
    const sidebar = html.match(
      /data-island="room_sidebar#RoomSidebar"><script type="application\/json">(.*?)<\/script>/,
    );
    const props = JSON.parse(sidebar![1]);
    assert.equal(props.publicRooms.length, 30);
    assert.equal(props.morePublicRooms, true);
    assert.match(html, /name="room-search"/, "a search box finds the others");
    assert.equal(props.publicRooms[0].slug, "room-199", "the newest first when none is active");
    const guest = { cookie: response.headers.get("set-cookie")!.split(";")[0] } as Guest;
    const list = await call(app, guest, "GET", "/api/rooms");
    assert.equal(list.json.publicRooms.length, 30);
    assert.equal(list.json.morePublicRooms, true);
    const found = await call(app, guest, "GET", "/api/rooms?q=number%2017");
    assert.deepEqual(
      found.json.publicRooms.map((r: { slug: string }) => r.slug),
      [
        "room-179",
        "room-178",
        "room-177",
        "room-176",
        "room-175",
        "room-174",
        "room-173",
        "room-172",
        "room-171",
        "room-170",
        "room-17",
      ],
    );
    assert.equal(found.json.morePublicRooms, false);
    assert.equal((await call(app, guest, "GET", "/api/rooms?q=" + "x".repeat(41))).status, 400);
  },
);

roomTest(
  "the room list long-polls: a message in one of my rooms answers it, counted",
  async (app) => {
    const [ada, bob] = [await newGuest(app), await newGuest(app)];
    await postMessage(app, ada, "ada was here"); // both are in general
    const first = await call(app, ada, "GET", "/api/rooms");
    assert.equal(typeof first.json.cursor, "string");
    assert.equal(first.json.rooms.find((r: { slug: string }) => r.slug === "general").unread, 0);
    const started = performance.now();
    const poll = call(
      app,
      ada,
      "GET",
      `/api/rooms?wait=10&since=${encodeURIComponent(first.json.cursor)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    await postMessage(app, bob, "news for ada");
    const answer = await poll;
    const elapsed = performance.now() - started;
    assert.equal(answer.status, 200);
    assert.equal(answer.json.rooms.find((r: { slug: string }) => r.slug === "general").unread, 1);
    assert.notEqual(answer.json.cursor, first.json.cursor);
    assert.ok(elapsed < 2000, `answered by the message, not the wait (${Math.round(elapsed)} ms)`);
    // An old cursor answers at once; a bad one is refused.
    const stale = performance.now();
    await call(
      app,
      ada,
      "GET",
      `/api/rooms?wait=10&since=${encodeURIComponent(first.json.cursor)}`,
    );
    assert.ok(performance.now() - stale < 1000);
    assert.equal((await call(app, ada, "GET", "/api/rooms?wait=10&since=x")).status, 400);
    // Nothing changes: the wait runs out and the same cursor comes back.
    const quiet = await call(
      app,
      ada,
      "GET",
      `/api/rooms?wait=1&since=${encodeURIComponent(answer.json.cursor)}`,
    );
    assert.equal(quiet.json.cursor, answer.json.cursor);
  },
);

roomTest(
  "the room list long-poll answers when someone starts a direct conversation or adds me",
  async (app) => {
    const [ada, bob] = [await newGuest(app), await newGuest(app)];
    async function pollWhile(action: () => Promise<unknown>) {
      const first = await call(app, bob, "GET", "/api/rooms");
      const started = performance.now();
      const poll = call(
        app,
        bob,
        "GET",
        `/api/rooms?wait=10&since=${encodeURIComponent(first.json.cursor)}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      await action();
      const answer = await poll;
      const elapsed = performance.now() - started;
      assert.equal(answer.status, 200);
      assert.notEqual(answer.json.cursor, first.json.cursor, "the cursor covers the set of rooms");
      assert.ok(
        elapsed < 2000,
        `answered by the addition, not the wait (${Math.round(elapsed)} ms)`,
      );
      return answer.json.rooms as { slug: string; kind: string }[];
    }
    const direct = await pollWhile(() =>
      call(app, ada, "POST", "/api/direct", { memberId: bob.member.id })
    );
    assert.ok(direct.some((room) => room.kind === "direct"), "the new conversation is listed");
    const room = await call(app, ada, "POST", "/api/rooms", {
      name: "Quiet corner",
      private: true,
    });
    const invited = await pollWhile(() =>
      call(app, ada, "POST", `/api/rooms/${room.json.slug}/invite`, { memberId: bob.member.id })
    );
    assert.ok(invited.some((r) => r.slug === room.json.slug), "the private room is listed");
  },
);

roomTest("member search leaves out myself and a room's members, accounts first", async (app) => {
  const me = await registered(app, "kimsearch");
  const other = await registered(app, "kimbo");
  // Guests named to sort before every account by name.
  const guestA = await app.store.createMember("Aaa Kim One");
  const guestB = await app.store.createMember("Aaa Kim Two");
  const ids = async (path: string) => {
    const answer = await call(app, me, "GET", path);
    assert.equal(answer.status, 200);
    return answer.json.members.map((m: { id: number }) => m.id);
  };
  const all = await ids("/api/members?q=kim");
  assert.ok(!all.includes(me.member.id), "never myself");
  assert.deepEqual(all, [other.member.id, guestA.id, guestB.id], "accounts before guests");

  const made = await call(app, me, "POST", "/api/rooms", { name: "Kim room", private: true });
  assert.equal(made.status, 201);
  await app.store.addRoomMember(made.json.id, guestA.id);
  assert.deepEqual(
    await ids(`/api/members?q=kim&notIn=${made.json.slug}`),
    [other.member.id, guestB.id],
    "not the room's members",
  );
  const hidden = await call(app, other, "GET", `/api/members?q=kim&notIn=${made.json.slug}`);
  assert.equal(hidden.status, 404, "a private room it cannot see does not exist");
});

roomTest(
  "topics: members with an account set them; guests, outsiders and direct rooms cannot",
  async (app) => {
    await registered(app, "first_admin");
    const ada = await registered(app, "ada");
    const guest = await newGuest(app);
    const set = (who: Guest, room: string, topic: unknown) =>
      call(app, who, "PUT", `/api/rooms/${room}/topic`, { topic });
    const changed = await set(ada, "general", "  Release   on Thursday ");
    assert.equal(changed.status, 200);
    assert.equal(changed.json.topic, "Release on Thursday");
    const page = await (await app.request("/", { headers: { cookie: guest.cookie } })).text();
    assert.match(page, /Release on Thursday/);
    const byGuest = await set(guest, "general", "hijacked");
    assert.equal(byGuest.status, 403);
    assert.equal(byGuest.json.error.code, "account_required");
    assert.equal((await set(ada, "general", "x".repeat(201))).status, 400);
    assert.equal((await set(ada, "general", "a\u202eb")).json.error.code, "invalid_topic");
    assert.equal((await set(ada, "general", 42)).status, 400);
    const secret = await call(app, ada, "POST", "/api/rooms", { name: "Secret", private: true });
    const bob = await registered(app, "bob");
    const outsider = await set(bob, secret.json.slug, "peek");
    assert.equal(outsider.status, 404);
    assert.equal(outsider.json.error.code, "room_not_found");
    const dm = await call(app, ada, "POST", "/api/direct", { memberId: bob.member.id });
    assert.equal((await set(ada, dm.json.slug, "just us")).json.error.code, "no_topic");
    assert.equal((await app.store.getRoom("general"))?.topic, "Release on Thursday");
  },
);
