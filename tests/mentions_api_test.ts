// Mentions through the API (and the pure helpers of mentions and notifications): who counts as mentioned, @room's rules, edits, mention counts in the
// room list, and the room's accounts for the composer's autocomplete (with their privacy rules).
import assert from "node:assert/strict";
import { appTest, callApi, newGuest, type TestApp } from "./helpers.ts";
import { parseMentions, ROOM_MENTIONS_PER_HOUR } from "../chat/mentions.ts";
import { insertMention, mentionQuery } from "../components/mention_picker.tsx";
import { type NotifyLevel, roomsToNotify } from "../components/notifications.tsx";
import type { MyRoom } from "../db/store.ts";

const mentionTest = appTest("mentions");
const PASSWORD = "correct horse battery";

interface Person {
  id: number;
  cookie: string;
}

async function account(app: TestApp, username: string): Promise<Person> {
  const guest = await newGuest(app);
  const made = await callApi(app, "POST", "/api/auth/register", {
    body: { username, password: PASSWORD },
    cookie: guest.cookie,
  });
  assert.equal(made.status, 201, JSON.stringify(made.json));
  return { id: made.json.id, cookie: made.cookie! };
}

function call(app: TestApp, who: Person, method: string, path: string, body?: unknown) {
  return callApi(app, method, path, { body, cookie: who.cookie });
}

function say(app: TestApp, who: Person, body: string, room = "general") {
  return call(app, who, "POST", `/api/rooms/${room}/messages`, { body });
}

mentionTest("@username mentions accounts; messages carry the ids for every reader", async (app) => {
  const [ada, bob, cat] = [
    await account(app, "ada"),
    await account(app, "Bob_1"),
    await account(app, "cat"),
  ];
  const sent = await say(app, ada, "hi @bob_1 and @CAT, not me@ada.com, @ada, @nobody or @bo");
  assert.equal(sent.status, 201);
  assert.deepEqual(sent.json.mentions, [bob.id, cat.id], "case-blind; never the author");
  const plain = await say(app, ada, "no one");
  assert.deepEqual(plain.json.mentions, []);
  for (const reader of [ada, bob, cat]) {
    const page = await call(app, reader, "GET", "/api/rooms/general/messages");
    assert.deepEqual(page.json.messages.map((m: { mentions: number[] }) => m.mentions), [
      [bob.id, cat.id],
      [],
    ]);
  }
});

mentionTest("in a private room only its members can be mentioned", async (app) => {
  const [ada, bob, cat] = [
    await account(app, "ada"),
    await account(app, "bob"),
    await account(app, "cat"),
  ];
  const room = await call(app, ada, "POST", "/api/rooms", { name: "Secret", private: true });
  await call(app, ada, "POST", `/api/rooms/${room.json.slug}/invite`, { memberId: bob.id });
  const sent = await say(app, ada, "@bob @cat", room.json.slug);
  assert.deepEqual(sent.json.mentions, [bob.id], "cat is not in the room: not mentioned");
  assert.ok(!sent.json.mentions.includes(cat.id));
  const everyone = await say(app, ada, "@room", room.json.slug);
  assert.deepEqual(everyone.json.mentions, [bob.id], "@room: the room's members but the author");
});

mentionTest("edits work mentions out again; the room list counts unread mentions", async (app) => {
  const [ada, bob] = [await account(app, "ada"), await account(app, "bob")];
  await call(app, bob, "GET", "/api/rooms/general/messages");
  const counts = async () => {
    const list = await call(app, bob, "GET", "/api/rooms");
    const general = list.json.rooms.find((r: { slug: string }) => r.slug === "general");
    return [general.unread, general.mentions];
  };
  const base = await counts();
  const sent = await say(app, ada, "hello @bob");
  assert.deepEqual(await counts(), [base[0] + 1, base[1] + 1]);
  const edited = await call(app, ada, "PATCH", `/api/rooms/general/messages/${sent.json.id}`, {
    body: "hello everyone",
  });
  assert.equal(edited.status, 200);
  assert.deepEqual(edited.json.mentions, []);
  assert.deepEqual(await counts(), [base[0] + 1, base[1]]);
  const back = await call(app, ada, "PATCH", `/api/rooms/general/messages/${sent.json.id}`, {
    body: "hello @bob",
  });
  assert.deepEqual(back.json.mentions, [bob.id]);
  await call(app, bob, "PUT", "/api/rooms/general/read", { messageId: sent.json.id });
  assert.deepEqual(await counts(), [0, 0], "read: neither unread nor mentioned");
});

mentionTest(
  "@room is for accounts, a few times an hour; edits keeping it cost nothing",
  async (app) => {
    const [ada, bob] = [await account(app, "ada"), await account(app, "bob")];
    const guest = await newGuest(app);
    const refused = await callApi(app, "POST", "/api/rooms/general/messages", {
      body: { body: "hey @room" },
      cookie: guest.cookie,
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.json.error.code, "room_mention_not_allowed");
    const first = await say(app, ada, "@room lunch?");
    assert.equal(first.status, 201);
    assert.ok(first.json.mentions.includes(bob.id));
    assert.ok(first.json.mentions.includes(guest.member.id), "guests in the room are told too");
    assert.ok(!first.json.mentions.includes(ada.id));
    const clientId = crypto.randomUUID();
    for (let i = 1; i < ROOM_MENTIONS_PER_HOUR; i++) {
      const body = { body: `@room ${i}`, clientId: i === 1 ? clientId : undefined };
      assert.equal((await call(app, ada, "POST", "/api/rooms/general/messages", body)).status, 201);
    }
    const retry = await call(app, ada, "POST", "/api/rooms/general/messages", {
      body: "@room 1",
      clientId,
    });
    assert.equal(retry.status, 200, "a retry gets the stored message back, budget or not");
    assert.equal(retry.json.body, "@room 1");
    const over = await say(app, ada, "@room again");
    assert.equal(over.status, 429);
    const edit = await call(app, ada, "PATCH", `/api/rooms/general/messages/${first.json.id}`, {
      body: "@room lunch at noon?",
    });
    assert.equal(edit.status, 200, "keeping @room in an edit costs nothing");
    const plain = await say(app, bob, "@room is a word here");
    assert.equal(plain.status, 201, "each member has a budget of their own");
  },
);

mentionTest("a room's accounts for autocomplete, within what the asker may see", async (app) => {
  const [ada, bob] = [await account(app, "ada"), await account(app, "bob")];
  const quiet = await account(app, "quiet");
  for (const who of [ada, bob, quiet]) await call(app, who, "POST", "/api/rooms/general/join");
  await say(app, bob, "hello");
  const names = async (cookie: string, path: string) => {
    const found = await callApi(app, "GET", path, { cookie });
    assert.equal(found.status, 200, JSON.stringify(found.json));
    return found.json.members.map((m: { username: string }) => m.username).sort();
  };
  assert.deepEqual(await names(ada.cookie, "/api/rooms/general/members?q=BOB"), ["bob"]);
  assert.deepEqual(await names(ada.cookie, "/api/rooms/general/members"), ["ada", "bob", "quiet"]);
  const guest = await newGuest(app);
  assert.deepEqual(
    await names(guest.cookie, "/api/rooms/general/members"),
    ["bob"],
    "a guest finds only those who wrote in a public room",
  );
  const room = await call(app, ada, "POST", "/api/rooms", { name: "Secret", private: true });
  const outsider = await callApi(app, "GET", `/api/rooms/${room.json.slug}/members`, {
    cookie: bob.cookie,
  });
  assert.equal(outsider.status, 404, "a private room's members are not for outsiders");
  assert.deepEqual(await names(ada.cookie, `/api/rooms/${room.json.slug}/members`), ["ada"]);
});

Deno.test("mentions: what counts as a mention in text", () => {
  assert.deepEqual(parseMentions("hi @Ada, @bob_1 and @ada; (@cat-2) @room!"), {
    usernames: ["ada", "bob_1", "cat-2"],
    room: true,
  });
  assert.deepEqual(parseMentions("me@ada.com x@room @ab @a.b"), { usernames: [], room: false });
  assert.deepEqual(parseMentions("@" + "a".repeat(33)), { usernames: [], room: false });
});

Deno.test("mention autocomplete: the query before the caret, and inserting the username", () => {
  assert.deepEqual(mentionQuery("hi @ro", 6), { start: 3, query: "ro" });
  assert.deepEqual(mentionQuery("@", 1), { start: 0, query: "" });
  assert.deepEqual(mentionQuery("hi @Zoë", 7), { start: 3, query: "Zoë" });
  assert.equal(mentionQuery("me@ada", 6), null, "not in an e-mail address");
  assert.equal(mentionQuery("@ro x", 5), null, "the caret is past it");
  assert.deepEqual(insertMention("hi @ro there", 3, 6, "robert"), {
    text: "hi @robert there",
    caret: 11,
  });
});

Deno.test("notifications: which rooms deserve one, per level", () => {
  const room = (slug: string, kind: MyRoom["kind"], unread: number, mentions: number): MyRoom => ({
    id: slug.length,
    slug,
    name: slug,
    topic: "",
    kind,
    ownerId: null,
    unread,
    mentions,
    lastReadId: 0,
    seq: 0,
  });
  const before = [room("a", "public", 1, 0), room("b", "public", 0, 0), room("dm", "direct", 0, 0)];
  const after = [
    room("a", "public", 2, 0),
    room("b", "public", 1, 1),
    room("dm", "direct", 1, 0),
    room("new-dm", "direct", 1, 0),
  ];
  const slugs = (level: (slug: string) => NotifyLevel) =>
    roomsToNotify(before, after, level).map((r) => `${r.room.slug}${r.mention ? "@" : ""}`);
  assert.deepEqual(slugs(() => "mentions"), ["b@", "dm", "new-dm"]);
  assert.deepEqual(slugs(() => "all"), ["a", "b@", "dm", "new-dm"]);
  assert.deepEqual(slugs(() => "none"), []);
  assert.deepEqual(slugs((s) => s === "dm" ? "none" : "mentions"), ["b@", "new-dm"]);
  assert.deepEqual(roomsToNotify(after, after, () => "all"), [], "nothing new");
});
