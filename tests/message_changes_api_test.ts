// The change feed through the API: since and cursors, edits, deletions, reactions, replies,
// pages around a message, who may do what, and long polls woken by every kind of change.
import assert from "node:assert/strict";
import { appTest, callApi, type Guest, newGuest, type TestApp } from "./helpers.ts";

const feedTest = appTest("feed");
const MESSAGES = "/api/rooms/general/messages";
const PASSWORD = "correct horse battery";

/** Sends `body` (optionally a reply) as `guest`; returns the stored message. */
async function send(app: TestApp, guest: Guest, body: string, replyTo?: number) {
  const answer = await callApi(app, "POST", MESSAGES, {
    cookie: guest.cookie,
    body: { body, clientId: crypto.randomUUID(), replyTo },
  });
  assert.equal(answer.status, 201, JSON.stringify(answer.json));
  return answer.json;
}

function edit(app: TestApp, guest: Guest, id: number, body: unknown, room = "general") {
  return callApi(app, "PATCH", `/api/rooms/${room}/messages/${id}`, { cookie: guest.cookie, body });
}

function remove(app: TestApp, guest: Guest, id: number, room = "general") {
  return callApi(app, "DELETE", `/api/rooms/${room}/messages/${id}`, { cookie: guest.cookie });
}

function react(app: TestApp, guest: Guest, id: number, emoji: string, method = "PUT") {
  return callApi(
    app,
    method,
    `${MESSAGES}/${id}/reactions/${encodeURIComponent(emoji)}`,
    { cookie: guest.cookie },
  );
}

/** Registers `guest` as `username`; returns the guest with its new session cookie. */
async function register(app: TestApp, guest: Guest, username: string): Promise<Guest> {
  const answer = await callApi(app, "POST", "/api/auth/register", {
    cookie: guest.cookie,
    body: { username, password: PASSWORD },
  });
  assert.equal(answer.status, 201, JSON.stringify(answer.json));
  return { cookie: answer.cookie!, member: guest.member };
}

async function since(app: TestApp, cursor: number, extra = "") {
  const response = await app.request(`${MESSAGES}?since=${cursor}${extra}`);
  assert.equal(response.status, 200);
  return await response.json();
}

feedTest(
  "since gives every created or changed message once, current, with the cursor",
  async (app) => {
    const ada = await newGuest(app);
    const bob = await newGuest(app);
    const one = await send(app, ada, "one");
    const two = await send(app, ada, "two");
    const start = await since(app, 0);
    assert.deepEqual(start.messages.map((m: { id: number }) => m.id), [one.id, two.id]);
    assert.equal(start.cursor, two.seq);
    const edited = await edit(app, ada, one.id, { body: "one, better" });
    assert.equal(edited.status, 200);
    assert.ok(edited.json.seq > two.seq, "an edit takes the next change number");
    assert.ok(edited.json.editedAt);
    const reacted = await react(app, bob, two.id, "👍");
    assert.equal(reacted.status, 200);
    const changes = await since(app, start.cursor);
    assert.deepEqual(
      changes.messages.map((m: { id: number; body: string }) => [m.id, m.body]),
      [[one.id, "one, better"], [two.id, "two"]],
    );
    assert.deepEqual(changes.messages[1].reactions, [
      { emoji: "👍", count: 1, memberIds: [bob.member.id] },
    ]);
    assert.equal(changes.cursor, reacted.json.seq);
    assert.deepEqual(await since(app, changes.cursor), { messages: [], cursor: changes.cursor });
    // Every list answer carries the cursor.
    const latest = await (await app.request(MESSAGES)).json();
    assert.equal(latest.cursor, changes.cursor);
    assert.equal(latest.hasOlder, false);
  },
);

feedTest("a long poll with since wakes on an edit, a reaction and a deletion", async (app) => {
  const ada = await newGuest(app);
  const message = await send(app, ada, "watch me");
  const changes: [string, () => Promise<unknown>][] = [
    ["edit", () => edit(app, ada, message.id, { body: "edited" })],
    ["reaction", () => react(app, ada, message.id, "🎉")],
    ["deletion", () => remove(app, ada, message.id)],
  ];
  for (const [what, change] of changes) {
    const { cursor } = await since(app, 0);
    const started = performance.now();
    const poll = app.request(`${MESSAGES}?since=${cursor}&wait=10`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await change();
    const answer = await (await poll).json();
    assert.equal(answer.messages.length, 1, what);
    assert.equal(answer.messages[0].id, message.id);
    assert.ok(answer.cursor > cursor);
    assert.ok(performance.now() - started < 2000, `woken by the ${what}, not the wait`);
  }
});

feedTest("a long poll for new messages (after) is not ended by an edit", async (app) => {
  const ada = await newGuest(app);
  const old = await send(app, ada, "old");
  const poll = app.request(`${MESSAGES}?after=${old.id}&wait=5`);
  let answered = false;
  poll.then(() => answered = true);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await edit(app, ada, old.id, { body: "old, edited" });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(answered, false, "still waiting for a new message");
  const fresh = await send(app, ada, "new");
  const answer = await (await poll).json();
  assert.deepEqual(answer.messages.map((m: { id: number }) => m.id), [fresh.id]);
});

feedTest("edits: only the author, the same rules as sending, not once deleted", async (app) => {
  const ada = await newGuest(app);
  const bob = await newGuest(app);
  const message = await send(app, ada, "mine");
  const byBob = await edit(app, bob, message.id, { body: "hijacked" });
  assert.equal(byBob.status, 403);
  assert.equal(byBob.json.error.code, "not_author");
  assert.equal(
    (await edit(app, ada, message.id, { body: "   " })).json.error.code,
    "empty_message",
  );
  assert.equal((await edit(app, ada, message.id, { body: "x".repeat(4001) })).status, 400);
  assert.equal((await edit(app, ada, message.id, { body: "a\u0000b" })).status, 400);
  assert.equal((await edit(app, ada, message.id, {})).status, 400);
  assert.equal((await edit(app, ada, message.id + 100, { body: "x" })).status, 404);
  assert.equal((await edit(app, ada, 0, { body: "x" })).status, 400);
  const anonymous = await callApi(app, "PATCH", `${MESSAGES}/${message.id}`, {
    body: { body: "x" },
  });
  assert.equal(anonymous.status, 401);
  const stored = await (await app.request(MESSAGES)).json();
  assert.equal(stored.messages[0].body, "mine", "nothing refused changed it");
  assert.equal((await remove(app, ada, message.id)).status, 200);
  const late = await edit(app, ada, message.id, { body: "back" });
  assert.equal(late.status, 409);
  assert.equal(late.json.error.code, "message_deleted");
});

feedTest(
  "deletion: author, admin or room owner; text and reactions erased from storage",
  async (app) => {
    const admin = await register(app, await newGuest(app), "admin");
    const ada = await newGuest(app);
    const bob = await newGuest(app);
    const secret = await send(app, ada, "the launch code is 1234");
    await react(app, bob, secret.id, "😮");
    const reply = await send(app, bob, "really?", secret.id);
    assert.deepEqual(reply.replyTo, {
      id: secret.id,
      authorName: ada.member.name,
      excerpt: "the launch code is 1234",
    });
    const byBob = await remove(app, bob, secret.id);
    assert.equal(byBob.status, 403);
    assert.equal(byBob.json.error.code, "not_allowed");
    const tombstone = await remove(app, ada, secret.id);
    assert.equal(tombstone.status, 200);
    assert.equal(tombstone.json.deleted, true);
    assert.equal(tombstone.json.body, "");
    assert.deepEqual(tombstone.json.reactions, []);
    const rows = app.store.db.prepare("SELECT body FROM messages WHERE id = ?").all(secret.id);
    assert.deepEqual(rows.map((r) => r.body), [""], "the text is gone from the table");
    const dump = app.store.db.prepare(
      "SELECT count(*) AS n FROM messages WHERE body LIKE '%launch code%'",
    ).get();
    assert.equal(Number(dump?.n), 0);
    const reactions = app.store.db.prepare(
      "SELECT count(*) AS n FROM reactions WHERE message_id = ?",
    )
      .get(secret.id);
    assert.equal(Number(reactions?.n), 0);
    const page = await (await app.request(MESSAGES)).json();
    assert.deepEqual(page.messages.map((m: { id: number }) => m.id), [secret.id, reply.id]);
    assert.deepEqual(page.messages[1].replyTo, {
      id: secret.id,
      authorName: ada.member.name,
      deleted: true,
    });
    // Again: nothing changes.
    const again = await remove(app, ada, secret.id);
    assert.equal(again.status, 200);
    assert.equal(again.json.seq, tombstone.json.seq);
    // An admin deletes anyone's message.
    const bobs = await send(app, bob, "spam");
    assert.equal((await remove(app, admin, bobs.id)).status, 200);
  },
);

feedTest("the owner of a room deletes any message in it; elsewhere they cannot", async (app) => {
  await register(app, await newGuest(app), "first_admin");
  const owner = await register(app, await newGuest(app), "owner");
  const created = await callApi(app, "POST", "/api/rooms", {
    cookie: owner.cookie,
    body: { name: "Owned" },
  });
  assert.equal(created.status, 201);
  assert.equal(created.json.ownerId, owner.member.id);
  const bob = await newGuest(app);
  const said = await callApi(app, "POST", `/api/rooms/${created.json.slug}/messages`, {
    cookie: bob.cookie,
    body: { body: "in the owner's room" },
  });
  assert.equal(said.status, 201);
  assert.equal((await remove(app, owner, said.json.id, created.json.slug)).status, 200);
  const inGeneral = await send(app, bob, "in general");
  assert.equal((await remove(app, owner, inGeneral.id)).status, 403, "general has no owner");
});

feedTest(
  "reactions: one emoji, idempotent, at most 20 kinds, not on deleted messages",
  async (app) => {
    const ada = await newGuest(app);
    const bob = await newGuest(app);
    const message = await send(app, ada, "react!");
    const first = await react(app, bob, message.id, "👍");
    assert.equal(first.status, 200);
    const twice = await react(app, bob, message.id, "👍");
    assert.equal(twice.status, 200);
    assert.equal(twice.json.seq, first.json.seq, "idempotent: no new change");
    assert.deepEqual(twice.json.reactions, [{ emoji: "👍", count: 1, memberIds: [bob.member.id] }]);
    const heart = await react(app, ada, message.id, "❤");
    assert.equal(heart.status, 200);
    assert.equal(heart.json.reactions[1].emoji, "❤️", "the emoji form of a text-style symbol");
    for (const bad of ["a", "👍👍", ":)", "", " "]) {
      const answer = await react(app, bob, message.id, bad);
      assert.ok(
        [400, 404, 405].includes(answer.status),
        `${JSON.stringify(bad)}: ${answer.status}`,
      );
      if (answer.status === 400) assert.equal(answer.json.error.code, "invalid_emoji");
    }
    assert.equal((await react(app, bob, message.id, "x")).json.error.code, "invalid_emoji");
    const removed = await react(app, bob, message.id, "👍", "DELETE");
    assert.equal(removed.status, 200);
    assert.deepEqual(removed.json.reactions.map((r: { emoji: string }) => r.emoji), ["❤️"]);
    const many = [..."😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙🙂🤗"];
    for (const emoji of many) assert.equal((await react(app, bob, message.id, emoji)).status, 200);
    const tooMany = await react(app, bob, message.id, "🤩");
    assert.equal(tooMany.status, 409);
    assert.equal(tooMany.json.error.code, "too_many_emoji");
    await remove(app, ada, message.id);
    const late = await react(app, bob, message.id, "👍");
    assert.equal(late.status, 409);
    assert.equal(late.json.error.code, "message_deleted");
  },
);

feedTest("private rooms: changes to their messages are 404 for outsiders", async (app) => {
  await register(app, await newGuest(app), "first_admin");
  const ada = await register(app, await newGuest(app), "ada");
  const created = await callApi(app, "POST", "/api/rooms", {
    cookie: ada.cookie,
    body: { name: "Secret", private: true },
  });
  const slug = created.json.slug;
  const said = await callApi(app, "POST", `/api/rooms/${slug}/messages`, {
    cookie: ada.cookie,
    body: { body: "hush" },
  });
  const outsider = await newGuest(app);
  const base = `/api/rooms/${slug}/messages/${said.json.id}`;
  for (
    const [method, path, body] of [
      ["PATCH", base, { body: "x" }],
      ["DELETE", base, undefined],
      ["PUT", `${base}/reactions/${encodeURIComponent("👍")}`, undefined],
      ["GET", `/api/rooms/${slug}/messages?since=0`, undefined],
      ["GET", `/api/rooms/${slug}/messages?around=${said.json.id}`, undefined],
    ] as const
  ) {
    const answer = await callApi(app, method, path, { cookie: outsider.cookie, body });
    assert.equal(answer.status, 404, `${method} ${path}`);
    assert.equal(answer.json.error.code, "room_not_found");
  }
  // A message id of this room used under another room's name is not found there either.
  assert.equal((await edit(app, ada, said.json.id, { body: "moved?" })).status, 404);
});

feedTest("replies: only to a message of the same room", async (app) => {
  const ada = await newGuest(app);
  const original = await send(app, ada, "question");
  const reply = await send(app, ada, "answer", original.id);
  assert.equal(reply.replyTo.id, original.id);
  const wrong = await callApi(app, "POST", MESSAGES, {
    cookie: ada.cookie,
    body: { body: "to nothing", replyTo: original.id + 999 },
  });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.json.error.code, "invalid_reply");
});

feedTest("around: the page centred on a message, with hasOlder and hasNewer", async (app) => {
  const ada = await newGuest(app);
  const ids: number[] = [];
  for (let i = 0; i < 9; i++) ids.push((await send(app, ada, `m${i}`)).id);
  const page = await (await app.request(`${MESSAGES}?around=${ids[4]}&limit=3`)).json();
  assert.deepEqual(page.messages.map((m: { id: number }) => m.id), ids.slice(3, 6));
  assert.equal(page.hasOlder, true);
  assert.equal(page.hasNewer, true);
  assert.equal(typeof page.cursor, "number");
  const both = await app.request(`${MESSAGES}?around=${ids[4]}&since=0`);
  assert.equal(both.status, 400);
  const waitAround = await app.request(`${MESSAGES}?around=${ids[4]}&wait=5`);
  assert.equal(waitAround.status, 400);
});

feedTest("edits and reactions have their own rate limit", async (app) => {
  const ada = await newGuest(app);
  const message = await send(app, ada, "busy");
  let limited;
  for (let i = 0; i < 40 && !limited; i++) {
    const answer = await edit(app, ada, message.id, { body: `edit ${i}` });
    if (answer.status === 429) limited = answer;
    else assert.equal(answer.status, 200);
  }
  assert.ok(limited, "40 edits in a moment are limited");
  assert.equal(limited.json.error.code, "rate_limited");
  const response = await app.request(`${MESSAGES}/${message.id}`, {
    method: "PATCH",
    headers: { cookie: ada.cookie, "content-type": "application/json", origin: "http://localhost" },
    body: JSON.stringify({ body: "one more" }),
  });
  assert.equal(response.status, 429);
  assert.ok(Number(response.headers.get("retry-after")) > 0);
  // Sending has its own budget.
  assert.equal((await send(app, ada, "still allowed")).body, "still allowed");
});

feedTest("the room page embeds the cursor of the history it renders", async (app) => {
  const ada = await newGuest(app);
  const one = await send(app, ada, "one");
  await edit(app, ada, one.id, { body: "one, edited" });
  const html = await (await app.request("/", { headers: { cookie: ada.cookie } })).text();
  const props = html.match(
    /<island-root data-island="chat_room#ChatRoom"><script type="application\/json">(.*?)<\/script>/,
  );
  assert.ok(props);
  const data = JSON.parse(props[1]);
  const latest = await (await app.request(MESSAGES)).json();
  assert.equal(data.cursor, latest.cursor);
  assert.equal(data.messages[0].body, "one, edited");
  assert.ok(data.messages[0].editedAt);
});
