// API tests of GET /api/search: every status, who sees what, deleted and edited text, paging, highlights.
import assert from "node:assert/strict";
import { appTest, callApi, type Guest, newGuest, type TestApp } from "./helpers.ts";
import type { Room } from "../db/store.ts";

const searchTest = appTest("search");

/** Searches as `guest` with these query parameters. */
function search(app: TestApp, guest: Guest | null, params: Record<string, string>) {
  return callApi(app, "GET", `/api/search?${new URLSearchParams(params)}`, {
    cookie: guest?.cookie,
  });
}

/** Stores a message straight away (no send rate limit); returns its id. */
async function say(app: TestApp, guest: Guest, room: Room, body: string): Promise<number> {
  const { message } = await app.store.addMessage({
    room,
    authorId: guest.member.id,
    body,
    clientId: crypto.randomUUID(),
  });
  return message.id;
}

/** The ids of a search's results, in order. */
function ids(json: { results: { message: { id: number } }[] }): number[] {
  return json.results.map((result) => result.message.id);
}

/** Makes a guest a registered member with this username. */
async function register(app: TestApp, guest: Guest, username: string): Promise<void> {
  const registration = await app.store.registerAccount({
    memberId: guest.member.id,
    name: guest.member.name,
    username,
    usernameKey: username.toLowerCase(),
    passwordHash: "not-a-real-hash",
  });
  assert.ok(registration.ok);
}

async function privateRoom(app: TestApp, slug: string, members: Guest[]): Promise<Room> {
  const room = await app.store.createRoom({
    slug,
    name: slug,
    topic: "",
    kind: "private",
    createdBy: members[0].member.id,
  });
  assert.ok(room);
  for (const guest of members) await app.store.addRoomMember(room.id, guest.member.id);
  return room;
}

searchTest(
  "words are found as word starts, newest first, with the message and highlights",
  async (app) => {
    const ada = await newGuest(app);
    const general = await app.chat.room("general");
    const first = await say(app, ada, general, "We deploy on Friday");
    await say(app, ada, general, "Nothing to see");
    const second = await say(app, ada, general, "Deploying now, redeploy later");
    const answer = await search(app, ada, { q: "deplo" });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.deepEqual(Object.keys(answer.json).sort(), ["next", "results"]);
    assert.deepEqual(ids(answer.json), [second, first], "newest first; redeploy is no word start");
    assert.equal(answer.json.next, null);
    const [hit] = answer.json.results;
    assert.deepEqual(Object.keys(hit).sort(), ["highlights", "message"]);
    assert.equal(hit.message.body, "Deploying now, redeploy later");
    assert.equal(hit.message.room, "general");
    assert.deepEqual(hit.message.author, { ...ada.member, username: null });
    assert.deepEqual(hit.highlights, [[0, 5]]);
    assert.deepEqual(answer.json.results[1].highlights, [[3, 8]]);
    const both = await search(app, ada, { q: "deploy friday" });
    assert.deepEqual(ids(both.json), [first], "every word must match");
    assert.deepEqual(both.json.results[0].highlights, [[3, 9], [13, 19]]);
  },
);

searchTest("highlights are exact for accents, phrases and Japanese", async (app) => {
  const ada = await newGuest(app);
  const general = await app.chat.room("general");
  const cafe = await say(app, ada, general, "Meet at the Café, not the cafeteria");
  const notes = await say(app, ada, general, "The release  notes are out");
  const tokyo = await say(app, ada, general, "明日は東京でデプロイします");
  const accents = await search(app, ada, { q: "CAFE" });
  assert.deepEqual(ids(accents.json), [cafe]);
  assert.deepEqual(accents.json.results[0].highlights, [[12, 16], [26, 30]]);
  const phrase = await search(app, ada, { q: '"release notes"' });
  assert.deepEqual(ids(phrase.json), [notes]);
  assert.deepEqual(phrase.json.results[0].highlights, [[4, 18]]);
  const japanese = await search(app, ada, { q: "東京" });
  assert.deepEqual(ids(japanese.json), [tokyo]);
  assert.deepEqual(japanese.json.results[0].highlights, [[3, 5]]);
  const katakana = await search(app, ada, { q: "デプロイ" });
  assert.deepEqual(ids(katakana.json), [tokyo]);
  assert.deepEqual(katakana.json.results[0].highlights, [[6, 10]]);
  assert.deepEqual(ids((await search(app, ada, { q: '"notes release"' })).json), []);
});

searchTest("private rooms and direct messages are searched only by their members", async (app) => {
  const [ada, bob, cat] = [await newGuest(app), await newGuest(app), await newGuest(app)];
  const general = await app.chat.room("general");
  const secret = await privateRoom(app, "secret-x1y2z3", [ada, bob]);
  const direct = await app.store.createRoom({
    slug: "dm-ada-cat",
    name: "dm",
    topic: "",
    kind: "direct",
    createdBy: ada.member.id,
    directKey: `${ada.member.id}:${cat.member.id}`,
  });
  assert.ok(direct);
  await app.store.addRoomMember(direct.id, cat.member.id);
  const open = await say(app, ada, general, "launch plan public");
  const hidden = await say(app, ada, secret, "launch plan private");
  const whisper = await say(app, ada, direct, "launch plan direct");
  assert.deepEqual(ids((await search(app, ada, { q: "launch" })).json), [whisper, hidden, open]);
  assert.deepEqual(ids((await search(app, bob, { q: "launch" })).json), [hidden, open]);
  assert.deepEqual(ids((await search(app, cat, { q: "launch" })).json), [whisper, open]);
  const dave = await newGuest(app);
  assert.deepEqual(ids((await search(app, dave, { q: "launch" })).json), [open]);
  // Naming a room one may not see is a 404, exactly like the room's own API.
  const namings: Record<string, string>[] = [
    { q: "launch", room: secret.slug },
    { q: `launch in:${secret.slug}` },
  ];
  for (const params of namings) {
    const refused = await search(app, dave, params);
    assert.equal(refused.status, 404);
    assert.equal(refused.json.error.code, "room_not_found");
    const roomApi = await callApi(app, "GET", `/api/rooms/${secret.slug}/messages`, {
      cookie: dave.cookie,
    });
    assert.equal(roomApi.status, 404);
    assert.deepEqual(refused.json.error.code, roomApi.json.error.code);
  }
  assert.equal((await search(app, cat, { q: "launch", room: secret.slug })).status, 404);
  assert.equal((await search(app, dave, { q: "launch", room: "no-such-room" })).status, 404);
  assert.deepEqual(
    ids((await search(app, bob, { q: "launch", room: secret.slug })).json),
    [hidden],
  );
  // Someone who leaves a private room no longer finds its messages.
  await app.store.removeRoomMember(secret.id, bob.member.id);
  assert.deepEqual(ids((await search(app, bob, { q: "launch" })).json), [open]);
});

searchTest("deleted messages are never found, and edits find the new text only", async (app) => {
  const ada = await newGuest(app);
  const general = await app.chat.room("general");
  const gone = await say(app, ada, general, "the password is hunter2");
  const kept = await say(app, ada, general, "hunter season");
  const edited = await say(app, ada, general, "old wording");
  const deleted = await callApi(app, "DELETE", `/api/rooms/general/messages/${gone}`, {
    cookie: ada.cookie,
  });
  assert.equal(deleted.status, 200);
  assert.deepEqual(ids((await search(app, ada, { q: "hunter" })).json), [kept]);
  assert.deepEqual(ids((await search(app, ada, { q: "password" })).json), []);
  const edit = await callApi(app, "PATCH", `/api/rooms/general/messages/${edited}`, {
    cookie: ada.cookie,
    body: { body: "new phrasing" },
  });
  assert.equal(edit.status, 200);
  assert.deepEqual(ids((await search(app, ada, { q: "wording" })).json), []);
  const found = await search(app, ada, { q: "phrasing" });
  assert.deepEqual(ids(found.json), [edited]);
  assert.deepEqual(found.json.results[0].highlights, [[4, 12]]);
});

searchTest("pages follow next until it is null, without gaps or repeats", async (app) => {
  const ada = await newGuest(app);
  const general = await app.chat.room("general");
  const all: number[] = [];
  for (let i = 0; i < 25; i++) {
    all.push(await say(app, ada, general, `status report ${i}`));
    await say(app, ada, general, `filler ${i}`);
  }
  const seen: number[] = [];
  let before: number | null = null;
  const sizes: number[] = [];
  for (let page = 0; page < 5; page++) {
    const params: Record<string, string> = { q: "report", limit: "10" };
    if (before !== null) params.before = String(before);
    const answer = await search(app, ada, params);
    assert.equal(answer.status, 200);
    sizes.push(answer.json.results.length);
    seen.push(...ids(answer.json));
    before = answer.json.next;
    if (before === null) break;
    assert.equal(before, seen.at(-1), "next is the last result's id");
  }
  assert.deepEqual(sizes, [10, 10, 5]);
  assert.deepEqual(seen, all.toReversed());
  const defaults = await search(app, ada, { q: "report" });
  assert.equal(defaults.json.results.length, 20, "20 by default");
  assert.equal(defaults.json.next, all[5]);
  const most = await search(app, ada, { q: "report", limit: "50" });
  assert.equal(most.json.results.length, 25);
  assert.equal(most.json.next, null);
});

searchTest("from: and in: filter whether typed in the box or given as parameters", async (app) => {
  const [ada, bob] = [await newGuest(app), await newGuest(app)];
  await register(app, ada, "ada");
  await register(app, bob, "Bob_1");
  const general = await app.chat.room("general");
  const ops = await app.store.createRoom({
    slug: "ops",
    name: "ops",
    topic: "",
    kind: "public",
    createdBy: ada.member.id,
  });
  assert.ok(ops);
  const adaGeneral = await say(app, ada, general, "coffee time");
  const bobGeneral = await say(app, bob, general, "coffee please");
  const adaOps = await say(app, ada, ops, "coffee machine broken");
  const found = async (params: Record<string, string>) => {
    const answer = await search(app, bob, params);
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    return ids(answer.json);
  };
  assert.deepEqual(await found({ q: "coffee" }), [adaOps, bobGeneral, adaGeneral]);
  assert.deepEqual(await found({ q: "coffee from:ada" }), [adaOps, adaGeneral]);
  assert.deepEqual(await found({ q: "from:@ADA coffee" }), [adaOps, adaGeneral], "any case");
  assert.deepEqual(await found({ q: "coffee", from: "ada" }), [adaOps, adaGeneral]);
  assert.deepEqual(await found({ q: "coffee from:bob_1" }), [bobGeneral]);
  assert.deepEqual(await found({ q: "coffee in:ops" }), [adaOps]);
  assert.deepEqual(await found({ q: "coffee in:#general" }), [bobGeneral, adaGeneral]);
  assert.deepEqual(await found({ q: "coffee", room: "ops" }), [adaOps]);
  assert.deepEqual(await found({ q: "coffee in:general from:ada" }), [adaGeneral]);
  assert.deepEqual(await found({ q: "coffee from:nobody" }), [], "unknown author: nothing");
  assert.deepEqual(await found({ q: "coffee", from: "nobody" }), []);
  assert.deepEqual(await found({ q: "coffee from:ada", from: "Bob_1" }), [], "both must hold");
  assert.deepEqual(await found({ q: "coffee in:ops", room: "general" }), []);
  // The filters are not words: they are not highlighted, and the rest is.
  const answer = await search(app, bob, { q: "from:ada in:ops coff" });
  assert.deepEqual(answer.json.results[0].highlights, [[0, 4]]);
});

searchTest("every refusal has its status and code", async (app) => {
  const ada = await newGuest(app);
  const noSession = await search(app, null, { q: "hello" });
  assert.equal(noSession.status, 401);
  for (const q of ["", "   ", "from:ada", "in:general", '""', "!!! ..."]) {
    const answer = await search(app, ada, { q });
    assert.equal(answer.status, 400, q);
    assert.equal(answer.json.error.code, "invalid_query", q);
  }
  const tooMany = await search(app, ada, {
    q: Array.from({ length: 17 }, (_, i) => `w${i}`).join(" "),
  });
  assert.equal(tooMany.status, 400);
  assert.equal(tooMany.json.error.code, "invalid_query");
  for (
    const query of [
      "",
      "q=a&limit=0",
      "q=a&limit=51",
      "q=a&limit=x",
      "q=a&before=0",
      "q=a&before=-1",
      "q=a&q=b",
      `q=${"a".repeat(501)}`,
    ]
  ) {
    const answer = await callApi(app, "GET", `/api/search?${query}`, { cookie: ada.cookie });
    assert.equal(answer.status, 400, query);
    assert.equal(answer.json.error.code, "invalid_request", query);
  }
  const post = await callApi(app, "POST", "/api/search?q=a", { cookie: ada.cookie, body: {} });
  assert.equal(post.status, 405);
});

searchTest(
  "searching is rate limited per member: 60 a minute, then 429 with Retry-After",
  async (app) => {
    const [ada, bob] = [await newGuest(app), await newGuest(app)];
    for (let i = 0; i < 60; i++) {
      assert.equal((await search(app, ada, { q: `word${i}` })).status, 200);
    }
    const response = await app.request("/api/search?q=more", { headers: { cookie: ada.cookie } });
    assert.equal(response.status, 429);
    const retryAfter = Number(response.headers.get("retry-after"));
    assert.ok(retryAfter > 0 && retryAfter <= 60, String(retryAfter));
    assert.equal((await response.json()).error.code, "rate_limited");
    assert.equal((await search(app, bob, { q: "more" })).status, 200, "others still search");
    // A query with nothing to search for is told so first, rate limited or not.
    assert.equal((await search(app, ada, { q: "" })).json.error.code, "invalid_query");
  },
);

searchTest("the search is documented in the OpenAPI document", async (app) => {
  const doc = await (await app.request("/api/openapi.json")).json();
  const operation = doc.paths["/api/search"].get;
  assert.deepEqual(
    operation.parameters.map((p: { name: string; required: boolean }) => [p.name, p.required]),
    [["q", true], ["room", false], ["from", false], ["before", false], ["limit", false]],
  );
  for (const status of ["200", "400", "401", "404", "429"]) {
    assert.ok(operation.responses[status], status);
  }
  const results = operation.responses["200"].content["application/json"].schema;
  assert.deepEqual(Object.keys(results.properties).sort(), ["next", "results"]);
});
