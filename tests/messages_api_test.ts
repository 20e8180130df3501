// API tests of the messages endpoints through app.request(): every rule of the contract.
import assert from "node:assert/strict";
import {
  appTest,
  createTestApp,
  type Guest,
  jsonInit,
  newGuest,
  postMessage,
  type TestApp,
} from "./helpers.ts";

const ORIGIN = "http://localhost";
const MESSAGES = "/api/rooms/general/messages";

const apiTest = appTest("api");

async function expectError(response: Response, status: number, code?: string) {
  const body = await response.json();
  assert.equal(response.status, status, JSON.stringify(body));
  assert.equal(typeof body.error?.code, "string");
  assert.equal(typeof body.error?.message, "string");
  assert.ok(body.error.message.length > 0);
  if (code) assert.equal(body.error.code, code);
  return body.error as { code: string; message: string };
}

async function history(app: TestApp, query = ""): Promise<{ id: number; body: string }[]> {
  const response = await app.request(`${MESSAGES}${query}`);
  assert.equal(response.status, 200);
  return (await response.json()).messages;
}

async function fill(app: TestApp, guest: Guest, count: number): Promise<number[]> {
  const room = await app.chat.room("general");
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const { message } = await app.store.addMessage({
      room,
      authorId: guest.member.id,
      body: `m${i}`,
      clientId: `fill-${i}`,
    });
    ids.push(message.id);
  }
  return ids;
}

apiTest("POST stores a message and answers 201 with it", async (app) => {
  const ada = await newGuest(app);
  const response = await postMessage(app, ada, "hello\nworld", { clientId: "c-1" });
  assert.equal(response.status, 201);
  const message = await response.json();
  assert.deepEqual(Object.keys(message).sort(), [
    "attachments",
    "author",
    "body",
    "clientId",
    "createdAt",
    "deleted",
    "editedAt",
    "id",
    "mentions",
    "reactions",
    "replyTo",
    "room",
    "seq",
  ]);
  assert.deepEqual(message.mentions, []);
  assert.deepEqual(message.attachments, []);
  assert.equal(message.deleted, false);
  assert.equal(message.editedAt, null);
  assert.deepEqual(message.reactions, []);
  assert.equal(message.replyTo, null);
  assert.equal(message.seq, 1, "the first change in the room");
  assert.equal(message.body, "hello\nworld");
  assert.equal(message.room, "general");
  assert.equal(message.clientId, "c-1");
  assert.deepEqual(message.author, { ...ada.member, username: null });
  assert.equal(new Date(message.createdAt).toISOString(), message.createdAt);
  assert.deepEqual((await history(app)).map((m) => m.id), [message.id]);
});

apiTest("a repeated clientId returns the stored message, never a duplicate", async (app) => {
  const ada = await newGuest(app);
  const first = await (await postMessage(app, ada, "once", { clientId: "retry-me" })).json();
  const again = await postMessage(app, ada, "once", { clientId: "retry-me" });
  assert.equal(again.status, 200);
  assert.deepEqual(await again.json(), first);
  assert.equal((await history(app)).length, 1);
  const bob = await newGuest(app);
  const other = await postMessage(app, bob, "mine", { clientId: "retry-me" });
  assert.equal(other.status, 201, "client ids are per member");
});

apiTest(
  "a retry of a stored message gets it back even when the send limit is reached",
  async (app) => {
    const ada = await newGuest(app);
    const first = await (await postMessage(app, ada, "first", { clientId: "lost-answer" })).json();
    let limited = false;
    for (let i = 0; i < 20 && !limited; i++) {
      limited = (await postMessage(app, ada, `more ${i}`)).status === 429;
    }
    assert.ok(limited, "the burst limit was reached");
    const retry = await postMessage(app, ada, "first", { clientId: "lost-answer" });
    assert.equal(retry.status, 200, "the stored message, not 429");
    assert.deepEqual(await retry.json(), first);
  },
);

apiTest("a clientId already used in another room is a conflict", async (app) => {
  app.store.db.prepare("INSERT INTO rooms (slug, name, created_at) VALUES (?, ?, ?)")
    .run("random", "random", Date.now());
  const ada = await newGuest(app);
  assert.equal((await postMessage(app, ada, "a", { clientId: "x" })).status, 201);
  await expectError(
    await postMessage(app, ada, "b", { clientId: "x", room: "random" }),
    409,
    "client_id_reused",
  );
  assert.deepEqual(await (await app.request("/api/rooms/random/messages")).json(), {
    messages: [],
    cursor: 0,
    hasOlder: false,
  });
});

apiTest("blank and too long bodies are refused and nothing is stored", async (app) => {
  const ada = await newGuest(app);
  for (const blank of ["", "   ", "\n\n\t  \r\n"]) {
    await expectError(await postMessage(app, ada, blank), 400, "empty_message");
  }
  await expectError(await postMessage(app, ada, "x".repeat(4001)), 400, "message_too_long");
  await expectError(await postMessage(app, ada, "😀".repeat(4001)), 400, "message_too_long");
  assert.deepEqual(await history(app), []);
  assert.equal((await postMessage(app, ada, "x".repeat(4000))).status, 201);
  assert.equal((await postMessage(app, ada, "😀".repeat(4000))).status, 201, "code points");
  assert.equal((await history(app)).length, 2);
});

apiTest("the message limit is configurable", async (app) => {
  const ada = await newGuest(app);
  await expectError(await postMessage(app, ada, "123456"), 400, "message_too_long");
  assert.equal((await postMessage(app, ada, "12345")).status, 201);
}, { PARLEY_MAX_MESSAGE_CHARS: "5" });

apiTest("malformed JSON, wrong types and non-JSON bodies are refused", async (app) => {
  const ada = await newGuest(app);
  const send = (body: string, type = "application/json") =>
    app.request(MESSAGES, {
      method: "POST",
      headers: { cookie: ada.cookie, origin: ORIGIN, "content-type": type },
      body,
    });
  await expectError(await send("{not json"), 400, "invalid_json");
  await expectError(await send(""), 400, "invalid_json");
  await expectError(await send('{"body": 42}'), 400, "invalid_request");
  await expectError(await send('{"clientId": "a"}'), 400, "invalid_request");
  await expectError(await send('["hello"]'), 400, "invalid_request");
  await expectError(await send('"hello"'), 400, "invalid_request");
  await expectError(await send('{"body": "hi", "clientId": 7}'), 400, "invalid_request");
  await expectError(await send('{"body": "hi", "clientId": "<bad id>"}'), 400);
  await expectError(await send('{"body":"hi"}', "text/plain"), 415);
  await expectError(await send("body=hi", "application/x-www-form-urlencoded"), 415);
  await expectError(
    await app.request(MESSAGES, {
      method: "POST",
      headers: { cookie: ada.cookie, origin: ORIGIN },
      body: '{"body":"hi"}',
    }),
    415,
  );
  assert.deepEqual(await history(app), []);
});

apiTest("a request over 64 KiB is refused with 413", async (app) => {
  const ada = await newGuest(app);
  const big = JSON.stringify({ body: "x".repeat(70 * 1024) });
  await expectError(
    await app.request(MESSAGES, jsonInit("POST", big, { cookie: ada.cookie, origin: ORIGIN })),
    413,
    "too_large",
  );
  // Without a Content-Length (streamed), the limit holds too.
  const stream = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(big));
      controller.close();
    },
  });
  await expectError(
    await app.request(MESSAGES, {
      method: "POST",
      headers: { cookie: ada.cookie, origin: ORIGIN, "content-type": "application/json" },
      body: stream,
    }),
    413,
  );
  assert.deepEqual(await history(app), []);
});

apiTest("posting needs a valid session cookie", async (app) => {
  const ada = await newGuest(app);
  const post = (cookie?: string) =>
    app.request(MESSAGES, jsonInit("POST", { body: "hi" }, { cookie, origin: ORIGIN }));
  await expectError(await post(), 401, "no_session");
  const [name, value] = ada.cookie.split("=");
  const decoded = decodeURIComponent(value);
  const [token, signature] = [
    decoded.slice(0, decoded.lastIndexOf(".")),
    decoded.slice(decoded.lastIndexOf(".") + 1),
  ];
  const flip = (s: string) => (s[0] === "A" ? "B" : "A") + s.slice(1);
  await expectError(
    await post(`${name}=${encodeURIComponent(`${flip(token)}.${signature}`)}`),
    401,
  );
  await expectError(
    await post(`${name}=${encodeURIComponent(`${token}.${flip(signature)}`)}`),
    401,
  );
  await expectError(await post(`${name}=${token}`), 401, "invalid_session");
  await expectError(await post(`${name}=1`), 401);
  // A cookie signed with another secret (another Parley) is not accepted either.
  const other = await createTestApp({ env: { PARLEY_SECRET: "another-secret-0123456789" } });
  try {
    const stranger = await newGuest(other);
    await expectError(await post(stranger.cookie), 401, "invalid_session");
  } finally {
    await other.close();
  }
  assert.deepEqual(await history(app), []);
  assert.equal((await post(ada.cookie)).status, 201);
});

apiTest("requests from other sites are refused (CSRF)", async (app) => {
  const ada = await newGuest(app);
  const post = (headers: Record<string, string>) =>
    app.request(MESSAGES, {
      method: "POST",
      headers: { cookie: ada.cookie, "content-type": "application/json", ...headers },
      body: JSON.stringify({ body: "hi" }),
    });
  await expectError(await post({ origin: "https://evil.example" }), 403, "cross_origin");
  await expectError(await post({ origin: "http://localhost:9999" }), 403);
  await expectError(await post({ origin: "null" }), 403);
  await expectError(await post({ "sec-fetch-site": "cross-site" }), 403);
  await expectError(
    await app.request(
      "/api/me",
      jsonInit("PATCH", { name: "Evil" }, {
        cookie: ada.cookie,
        origin: "https://evil.example",
      }),
    ),
    403,
  );
  assert.deepEqual(await history(app), []);
  assert.equal((await post({ origin: ORIGIN, "sec-fetch-site": "same-origin" })).status, 201);
  assert.equal((await post({})).status, 201, "non-browser clients send no Origin");
});

apiTest(
  "trusted origins from PARLEY_ORIGINS may post; they are then the only hosts",
  async (app) => {
    // A TLS proxy passes the Host on, over plain HTTP.
    const visit = await app.fetch(new Request("http://chat.example/"));
    assert.equal(visit.status, 200);
    await visit.body?.cancel();
    const cookie = visit.headers.get("set-cookie")!.split(";")[0];
    const post = (url: string, origin: string) =>
      app.fetch(new Request(url, jsonInit("POST", { body: "hi" }, { cookie, origin })));
    assert.equal(
      (await post(`http://chat.example${MESSAGES}`, "https://chat.example")).status,
      201,
    );
    await expectError(await post(`http://chat.example${MESSAGES}`, "http://localhost"), 403);
    await expectError(
      await post(`http://localhost${MESSAGES}`, "http://localhost"),
      421,
      "misdirected_request",
    );
  },
  { PARLEY_ORIGINS: "https://chat.example" },
);

apiTest("an unknown room is a 404 for reading and posting", async (app) => {
  const ada = await newGuest(app);
  await expectError(await app.request("/api/rooms/nope/messages"), 404, "room_not_found");
  await expectError(await postMessage(app, ada, "hi", { room: "nope" }), 404, "room_not_found");
  const page = await app.request("/rooms/nope");
  assert.equal(page.status, 404);
  assert.match(await page.text(), /Nothing here/);
  assert.equal((await app.request("/rooms/general")).status, 200);
});

apiTest("bad cursors, limits and waits are refused", async (app) => {
  for (
    const query of [
      "?after=abc",
      "?after=-1",
      "?after=1.5",
      "?after=",
      "?after=1e3",
      "?before=0",
      "?before=x",
      "?limit=0",
      "?limit=201",
      "?limit=-5",
      "?wait=61",
      "?wait=abc",
      "?after=1&after=2",
      "?after=1&before=5",
      "?wait=5",
      "?after=99999999999999999999",
    ]
  ) {
    await expectError(await app.request(`${MESSAGES}${query}`), 400, undefined);
  }
});

apiTest("history: the latest 50 by default, older pages by before, newer by after", async (app) => {
  const ada = await newGuest(app);
  const ids = await fill(app, ada, 130);
  const latest = await history(app);
  assert.deepEqual(latest.map((m) => m.id), ids.slice(80));
  const older = await history(app, `?before=${ids[80]}`);
  assert.deepEqual(older.map((m) => m.id), ids.slice(30, 80));
  const oldest = await history(app, `?before=${ids[30]}&limit=50`);
  assert.deepEqual(oldest.map((m) => m.id), ids.slice(0, 30));
  assert.deepEqual(await history(app, `?before=${ids[0]}`), []);
  const newer = await history(app, `?after=${ids[9]}&limit=5`);
  assert.deepEqual(newer.map((m) => m.id), ids.slice(10, 15));
  const big = await history(app, `?after=0&limit=200`);
  assert.deepEqual(big.map((m) => m.id), ids);
});

apiTest("a long poll answers as soon as a message arrives", async (app) => {
  const ada = await newGuest(app);
  const bob = await newGuest(app);
  const [last] = await fill(app, ada, 1);
  const started = performance.now();
  const poll = app.request(`${MESSAGES}?after=${last}&wait=5`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const posted = await (await postMessage(app, bob, "wake up")).json();
  const response = await poll;
  const elapsed = performance.now() - started;
  assert.equal(response.status, 200);
  assert.deepEqual((await response.json()).messages, [posted]);
  assert.ok(elapsed < 2500, `answered by the message, not the 5 s wait (${elapsed} ms)`);
});

apiTest("a long poll with nothing new ends empty after the wait", async (app) => {
  const started = performance.now();
  const response = await app.request(`${MESSAGES}?after=0&wait=1`);
  assert.deepEqual(await response.json(), { messages: [], cursor: 0 });
  assert.ok(performance.now() - started >= 900, "it waited");
});

apiTest("a long poll returns at once when messages are already there", async (app) => {
  const ada = await newGuest(app);
  const ids = await fill(app, ada, 3);
  const response = await app.request(`${MESSAGES}?after=${ids[0]}&wait=30`);
  assert.deepEqual((await response.json()).messages.map((m: { id: number }) => m.id), ids.slice(1));
});

apiTest("shutting down ends waiting long polls at once", async (app) => {
  const started = performance.now();
  const poll = app.request(`${MESSAGES}?after=0&wait=30`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  app.shutdown();
  const response = await poll;
  assert.deepEqual(await response.json(), { messages: [], cursor: 0 });
  assert.ok(performance.now() - started < 5000);
});

apiTest(
  "the 11th message in 10 s is rate limited with Retry-After; others unaffected",
  async (app) => {
    const ada = await newGuest(app);
    const bob = await newGuest(app);
    for (let i = 0; i < 10; i++) {
      assert.equal((await postMessage(app, ada, `m${i}`)).status, 201);
    }
    const limited = await postMessage(app, ada, "one too many");
    const retryAfter = Number(limited.headers.get("retry-after"));
    await expectError(limited, 429, "rate_limited");
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 10, `${retryAfter}`);
    assert.equal((await history(app)).length, 10);
    assert.ok(!(await history(app)).some((m) => m.body === "one too many"));
    assert.equal((await postMessage(app, bob, "I can still talk")).status, 201);
  },
);

apiTest("the burst is configurable and frees up after the window", async (app) => {
  const ada = await newGuest(app);
  assert.equal((await postMessage(app, ada, "1")).status, 201);
  assert.equal((await postMessage(app, ada, "2")).status, 201);
  await expectError(await postMessage(app, ada, "3"), 429);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  assert.equal((await postMessage(app, ada, "3")).status, 201);
}, { PARLEY_BURST_MESSAGES: "2", PARLEY_BURST_SECONDS: "1" });

apiTest("unknown API paths are 404 and wrong methods 405, as JSON", async (app) => {
  await expectError(await app.request("/api/nothing"), 404, "not_found");
  const wrong = await app.request(MESSAGES, { method: "DELETE", headers: { origin: ORIGIN } });
  assert.equal(wrong.headers.get("allow"), "GET, HEAD, POST");
  await expectError(wrong, 405, "method_not_allowed");
});

apiTest("API answers are not cached; pages carry a strict CSP", async (app) => {
  const api = await app.request(MESSAGES);
  assert.equal(api.headers.get("cache-control"), "no-store");
  assert.match(api.headers.get("content-type")!, /^application\/json/);
  assert.equal(api.headers.get("x-content-type-options"), "nosniff");
  assert.equal(
    api.headers.get("content-security-policy"),
    "default-src 'none'; frame-ancestors 'none'",
  );
  await api.body?.cancel();
  const page = await app.request("/");
  const csp = page.headers.get("content-security-policy")!;
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.equal(page.headers.get("x-content-type-options"), "nosniff");
  await page.body?.cancel();
});

apiTest("the OpenAPI document describes the API; the docs page serves Swagger UI", async (app) => {
  const response = await app.request("/api/openapi.json");
  assert.equal(response.status, 200);
  const doc = await response.json();
  assert.equal(doc.openapi, "3.1.0");
  const messages = doc.paths["/api/rooms/{room}/messages"];
  assert.ok(messages.get && messages.post);
  assert.ok(doc.paths["/api/me"].get && doc.paths["/api/me"].patch);
  const params = messages.get.parameters.map((p: { name: string }) => p.name).sort();
  assert.deepEqual(params, ["after", "around", "before", "limit", "room", "since", "wait"]);
  const body = messages.post.requestBody.content["application/json"].schema;
  assert.deepEqual(Object.keys(body.properties).sort(), [
    "attachments",
    "body",
    "clientId",
    "replyTo",
  ]);
  assert.deepEqual(body.required, ["body"]);
  assert.ok(messages.post.responses["201"] && messages.post.responses["429"]);
  const docs = await app.request("/api/docs");
  assert.match(await docs.text(), /swagger-ui-bundle\.js/);
  const script = await app.request("/api/docs/swagger-ui-bundle.js");
  assert.equal(script.status, 200);
  assert.match(script.headers.get("content-type")!, /javascript/);
  await script.body?.cancel();
  await expectError(await app.request("/api/docs/package.json"), 404);
});

apiTest("docs files named like Object's own properties are 404, not 500", async (app) => {
  for (const name of ["constructor", "toString", "valueOf", "__proto__", "hasOwnProperty"]) {
    await expectError(await app.request(`/api/docs/${name}`), 404, "not_found");
  }
});

apiTest(
  "query keys and methods named like Object's own properties are not looked up",
  async (app) => {
    const history = await app.request(`${MESSAGES}?constructor=1&__proto__=2&toString=3`);
    assert.equal(history.status, 200, await history.clone().text());
    await history.body?.cancel();
    for (const method of ["toString", "constructor", "valueOf"]) {
      const response = await app.request(MESSAGES, { method });
      assert.equal(response.status, 405, `${method}: ${await response.clone().text()}`);
      await response.body?.cancel();
    }
  },
);

apiTest(
  "NUL and other controls are refused, not truncated; invisible-only is blank",
  async (app) => {
    const ada = await newGuest(app);
    for (const body of ["before\u0000after", "\u0000hidden", "\u0085", "bell\u0007"]) {
      const error = await expectError(await postMessage(app, ada, body), 400, "invalid_message");
      assert.match(error.message, /control characters/, JSON.stringify(body));
    }
    for (const body of ["\u200b", "\u202e", "\u3164\u3164", "\u2800", "\ufe0f\u200b \n"]) {
      await expectError(await postMessage(app, ada, body), 400, "empty_message");
    }
    const zalgo = "a" + "\u0301".repeat(2_000);
    await expectError(await postMessage(app, ada, zalgo), 400, "invalid_message");
    assert.deepEqual(await history(app), [], "nothing was stored");
    const fine = await postMessage(app, ada, "tab\there\r\nand e\u0301\u0302 😀");
    assert.equal(fine.status, 201);
    assert.equal((await fine.json()).body, "tab\there\nand e\u0301\u0302 😀");
  },
);

apiTest("names that look blank or explode are refused by PATCH /api/me", async (app) => {
  const ada = await newGuest(app);
  const rename = (name: string) =>
    app.request("/api/me", jsonInit("PATCH", { name }, { cookie: ada.cookie, origin: ORIGIN }));
  for (const name of ["\ufe0f\ufe0f", "\u3164", "\u2800", "\u0301\u0301", "a\u0000b", "x\u0085"]) {
    await expectError(await rename(name), 400, "invalid_name");
  }
  await expectError(await rename("a" + "\u0301".repeat(20_000)), 400, "invalid_name");
  await expectError(await rename("😀".repeat(41)), 400, "invalid_name");
  const ok = await rename("Zoë 🦊");
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).name, "Zoë 🦊");
});
