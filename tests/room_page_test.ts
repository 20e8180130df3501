// The room page and the member endpoints: first visit, server-rendered history, escaping, names.
import assert from "node:assert/strict";
import { appTest, createTestApp, jsonInit, newGuest, postMessage } from "./helpers.ts";
import { timeFormatter } from "../components/timeline.ts";

const ORIGIN = "http://localhost";

const pageTest = appTest("page");

/** The `<li class="message …">` elements of a page, with their classes and text. */
function messagesIn(html: string) {
  const conversation = html.match(
    /<div class="conversation"[^>]*>([\s\S]*?)<\/ol>(?:<p class="history-edge">[\s\S]*?<\/p>)?<\/div>/,
  );
  assert.ok(conversation, "the page has a .conversation");
  return [...conversation[1].matchAll(/<li class="([^"]+)" data-id="(\d+)"[^>]*>([\s\S]*?)<\/li>/g)]
    .map(([, classes, id, inner]) => ({ classes: classes.split(" "), id: Number(id), inner }));
}

function islandProps(html: string) {
  const match = html.match(
    /<island-root data-island="chat_room#ChatRoom"><script type="application\/json">(.*?)<\/script>/,
  );
  assert.ok(match);
  return { raw: match[1], props: JSON.parse(match[1]) };
}

pageTest(
  "a first visit creates a guest with a signed, HttpOnly, SameSite=Lax cookie",
  async (app) => {
    const response = await app.request("/");
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("cache-control"), "no-store");
    const cookie = response.headers.get("set-cookie")!;
    assert.match(cookie, /^parley_session=[^;]+\.[^;]+;/, "value.signature");
    assert.match(cookie, /; HttpOnly/i);
    assert.match(cookie, /; SameSite=Lax/i);
    assert.match(cookie, /; Path=\//i);
    assert.match(cookie, /; Max-Age=\d+/i);
    const { props } = islandProps(await response.text());
    assert.match(props.me.name, /^[A-Z][a-z]+ [A-Z][a-z]+$/, "a friendly generated name");
    const again = await app.request("/", { headers: { cookie: cookie.split(";")[0] } });
    assert.equal(again.headers.get("set-cookie"), null, "a known session is kept");
    assert.deepEqual(islandProps(await again.text()).props.me, props.me);
  },
);

pageTest("a forged cookie on a page visit gets a fresh guest, not someone else", async (app) => {
  const ada = await newGuest(app);
  const forged = ada.cookie.replace(/.$/, (c) => c === "A" ? "B" : "A");
  const response = await app.request("/", { headers: { cookie: forged } });
  assert.ok(response.headers.get("set-cookie"));
  assert.notEqual(islandProps(await response.text()).props.me.id, ada.member.id);
});

pageTest(
  "the first response holds the latest 50 messages, oldest first, mine marked sent",
  async (app) => {
    const ada = await newGuest(app);
    const bob = await newGuest(app);
    const room = await app.chat.room("general");
    for (let i = 0; i < 60; i++) {
      const author = i % 2 === 0 ? ada : bob;
      await app.store.addMessage({
        room,
        authorId: author.member.id,
        body: `message ${i}`,
        clientId: `c${i}`,
      });
    }
    const html = await (await app.request("/", { headers: { cookie: ada.cookie } })).text();
    const items = messagesIn(html);
    assert.equal(items.length, 50);
    assert.ok(items.every((m, i) => i === 0 || m.id > items[i - 1].id), "oldest at the top");
    assert.match(items[0].inner, /message 10</);
    assert.match(items[49].inner, /message 59</);
    for (const [i, item] of items.entries()) {
      const mine = (i + 10) % 2 === 0;
      assert.ok(item.classes.includes("message"));
      assert.ok(item.classes.includes(mine ? "sent" : "received"), item.classes.join(" "));
      assert.match(item.inner, /<time class="sent-at" datetime="\d{4}-\d\d-\d\dT[\d:.]+Z"/);
      assert.ok(item.inner.includes(mine ? ada.member.name : bob.member.name));
    }
    assert.match(html, /Load earlier messages/);
    assert.equal(islandProps(html).props.hasOlder, true);
  },
);

pageTest("message text is escaped, keeps newlines and links web addresses safely", async (app) => {
  const ada = await newGuest(app);
  const evil = '<script>alert("x")</script><img src=x onerror=alert(1)>\nline two ' +
    "https://example.com/?a=1&b=2 javascript:alert(1)";
  assert.equal((await postMessage(app, ada, evil)).status, 201);
  // Control characters are refused now; one stored before that is shown as its symbol.
  await app.store.addMessage({
    room: await app.chat.room("general"),
    authorId: ada.member.id,
    body: "stored long ago \u0007",
    clientId: "old-bell",
  });
  const html = await (await app.request("/", { headers: { cookie: ada.cookie } })).text();
  const [item, old] = messagesIn(html);
  assert.ok(!item.inner.includes("<script>"));
  assert.ok(!item.inner.includes("<img"));
  assert.ok(item.inner.includes("&lt;script>alert(&quot;x&quot;)&lt;/script>"));
  assert.ok(item.inner.includes("<br/>line two"), "a newline is a line break");
  assert.match(
    item.inner,
    /<a href="https:\/\/example\.com\/\?a=1&amp;b=2" rel="noopener noreferrer nofollow ugc" target="_blank">/,
  );
  assert.ok(!/href="javascript:/i.test(html));
  assert.ok(old.inner.includes("\u2407"), "a control character is shown as its symbol");
  const { raw, props } = islandProps(html);
  assert.ok(!raw.includes("<"), "island props cannot close their <script>");
  assert.equal(props.messages[0].body, evil.replace(/\s+$/, ""));
});

pageTest(
  "formatting is rendered on the server, links only to web and mail addresses",
  async (app) => {
    const ada = await newGuest(app);
    const body = "**bold** _it_ ~~gone~~ `x<y`\n> quoted\n\n- one\n- two\n\n```js\nlet a;\n```\n" +
      "[docs](https://example.com/d) [x](javascript:alert(1)) ![i](http://e.com/i.png) :tada:";
    assert.equal((await postMessage(app, ada, body)).status, 201);
    const html = await (await app.request("/", { headers: { cookie: ada.cookie } })).text();
    // The page holds this one message (its list items end messagesIn's match early).
    const item = html.slice(html.indexOf('<div class="body">'), html.indexOf("</ol></div>"));
    for (
      const part of [
        "<strong>bold</strong>",
        "<em>it</em>",
        "<del>gone</del>",
        "<code>x&lt;y</code>",
        "<blockquote><p>quoted</p></blockquote>",
        "<ul><li>one</li><li>two</li></ul>",
        '<span class="code-lang">js</span><pre tabindex="0"><code>let a;</code></pre>',
        '<a href="https://example.com/d" rel="noopener noreferrer nofollow ugc" target="_blank">docs</a>',
        "[x](javascript:alert(1))",
        "![i](http://e.com/i.png)",
        "🎉",
      ]
    ) assert.ok(item.includes(part), part);
    assert.ok(!/<img|href="javascript/i.test(item));
    assert.equal(
      islandProps(html).props.messages[0].body,
      body.replace(":tada:", "🎉"),
      "the source",
    );
  },
);

pageTest("a name is changed with PATCH /api/me and shows on my messages", async (app) => {
  const ada = await newGuest(app);
  await postMessage(app, ada, "before renaming");
  const me = await app.request("/api/me", { headers: { cookie: ada.cookie } });
  assert.deepEqual(await me.json(), { ...ada.member, account: null });
  const renamed = await app.request(
    "/api/me",
    jsonInit("PATCH", { name: "  Ada   <b>Lovelace</b> " }, { cookie: ada.cookie, origin: ORIGIN }),
  );
  assert.equal(renamed.status, 200);
  assert.deepEqual(await renamed.json(), { id: ada.member.id, name: "Ada <b>Lovelace</b>" });
  const html = await (await app.request("/", { headers: { cookie: ada.cookie } })).text();
  assert.ok(html.includes("Ada &lt;b>Lovelace&lt;/b>"));
  assert.ok(!html.includes("<b>Lovelace"));
  const [item] = messagesIn(html);
  assert.ok(item.inner.includes("Ada &lt;b>Lovelace&lt;/b>"));
});

pageTest("names must have 1 to 40 visible characters and no control characters", async (app) => {
  const ada = await newGuest(app);
  const rename = (name: unknown) =>
    app.request("/api/me", jsonInit("PATCH", { name }, { cookie: ada.cookie, origin: ORIGIN }));
  const tooLong = ["a".repeat(41), "🙂".repeat(41), "👍🏽".repeat(21)]; // 👍🏽: 8 bytes
  for (const bad of ["", "   ", ...tooLong, "bell\u0007", "nul\u0000"]) {
    const response = await rename(bad);
    assert.equal(response.status, 400, JSON.stringify(bad));
    assert.equal((await response.json()).error.code, "invalid_name");
  }
  const wrongType = await rename(42);
  assert.equal(wrongType.status, 400);
  await wrongType.body?.cancel();
  assert.equal((await app.store.getMember(ada.member.id))?.name, ada.member.name, "unchanged");
  const folded = await rename("tab\tand\nnewline");
  assert.equal((await folded.json()).name, "tab and newline", "white space is folded");
  for (const good of ["a".repeat(40), "👍🏽".repeat(20), "Zoë", "李小龍"]) {
    const response = await rename(good);
    assert.equal(response.status, 200, good);
    assert.equal((await response.json()).name, good);
  }
});

pageTest("renaming needs a session", async (app) => {
  const response = await app.request(
    "/api/me",
    jsonInit("PATCH", { name: "Nobody" }, { origin: ORIGIN }),
  );
  assert.equal(response.status, 401);
  assert.equal((await response.json()).error.code, "no_session");
  const me = await app.request("/api/me");
  assert.equal(me.status, 401);
  await me.body?.cancel();
});

pageTest("the cookie secret is generated once and kept with the data", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await createTestApp({ sqlitePath: `${dir}/p.db`, env: { PARLEY_SECRET: "" } });
    const ada = await newGuest(first);
    const secret = await first.store.getSetting("cookie_secret");
    assert.ok(secret && secret.length >= 32);
    await first.close();
    const second = await createTestApp({ sqlitePath: `${dir}/p.db`, env: { PARLEY_SECRET: "" } });
    try {
      assert.equal(await second.store.getSetting("cookie_secret"), secret);
      const me = await second.request("/api/me", { headers: { cookie: ada.cookie } });
      assert.deepEqual(
        await me.json(),
        { ...ada.member, account: null },
        "the session survives the restart",
      );
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

pageTest("static files and bundles are served with the right caching", async (app) => {
  const html = await (await app.request("/")).text();
  const css = html.match(/href="(\/styles\.css\?v=[0-9a-f]+)"/)![1];
  const response = await app.request(css);
  assert.equal(response.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assert.match(await response.text(), /prefers-color-scheme: dark/);
  const boot = html.match(/<script type="module" src="([^"]+)"/)![1];
  const script = await app.request(boot);
  assert.equal(script.status, 200);
  assert.equal(script.headers.get("cache-control"), "public, max-age=31536000, immutable");
  await script.body?.cancel();
});

pageTest("new guests are limited per address (bots cannot fill the members table)", async (app) => {
  const visit = (address: string) => app.request("/", { headers: { "x-forwarded-for": address } });
  for (let i = 0; i < 5; i++) {
    const response = await visit("203.0.113.9");
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  const refused = await visit("203.0.113.9");
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get("set-cookie"), null);
  assert.match(await refused.text(), /Too many new visitors/);
  const other = await visit("198.51.100.3");
  assert.equal(other.status, 200);
  await other.body?.cancel();
}, { PARLEY_TRUST_PROXY: "1", PARLEY_NEW_GUESTS_PER_MINUTE: "5" });

pageTest(
  "members only: public, private and missing rooms all send a visitor to log in",
  async (app) => {
    const owner = await app.store.createMember("Owner");
    for (const [slug, kind] of [["lobby", "public"], ["hideout", "private"]] as const) {
      await app.store.createRoom({ slug, name: slug, topic: "", kind, createdBy: owner.id });
    }
    for (const slug of ["lobby", "hideout", "nowhere"]) {
      const response = await app.request(`/rooms/${slug}`);
      assert.equal(response.status, 303, slug);
      assert.equal(response.headers.get("location"), `/login?next=%2Frooms%2F${slug}`);
      assert.equal(await response.text(), "", slug);
    }
  },
  { PARLEY_GUESTS: "off" },
);

pageTest(
  "too many new guests: a 429 page that says what happened and when to retry",
  async (app) => {
    const first = await app.request("/");
    assert.equal(first.status, 200);
    await first.body?.cancel();
    const refused = await app.request("/");
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After: ${retryAfter}`);
    assert.match(refused.headers.get("content-type") ?? "", /text\/html/);
    const html = await refused.text();
    assert.doesNotMatch(html, /Something went wrong/);
    assert.match(html, /<h1>Too many requests<\/h1>/);
    assert.match(html, /Too many new visitors from your address/);
    assert.match(html, /try again<\/a> in \d+ seconds?/);
  },
  { PARLEY_NEW_GUESTS_PER_MINUTE: "1" },
);

pageTest(
  "forms with a password are posted, never sent in the address (before scripts load)",
  async (app) => {
    for (const path of ["/login", "/account"]) {
      const guest = path === "/account" ? await newGuest(app) : undefined;
      const html = await (await app.request(path, {
        headers: guest ? { cookie: guest.cookie } : {},
      })).text();
      const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)]
        .filter(([, , inner]) => inner.includes('type="password"'));
      if (path === "/login") assert.ok(forms.length >= 2, "login and registration");
      for (const [, attributes] of forms) assert.match(attributes, /method="post"/);
    }
  },
);

pageTest(
  "the timeline on the server: day separator, grouped follow-ups, times in the reader's locale and zone",
  async (app) => {
    const ada = await newGuest(app);
    const bob = await newGuest(app);
    for (const [who, body] of [[ada, "one"], [ada, "two"], [bob, "three"]] as const) {
      assert.equal((await postMessage(app, who, body)).status, 201);
    }
    const response = await app.request("/", {
      headers: {
        cookie: `${ada.cookie}; tz=America/New_York`,
        "accept-language": "en-US,en;q=0.9",
      },
    });
    const html = await response.text();
    const { props } = islandProps(html);
    assert.deepEqual(
      { ...props.time, now: 0 },
      { locale: "en-US", timeZone: "America/New_York", zoneKnown: true, now: 0 },
    );
    const format = timeFormatter(props.time);
    const today = format.dayKey(new Date(props.time.now));
    assert.ok(
      html.includes(
        `<li class="day-separator"><h2><time datetime="${today}">Today</time></h2></li>`,
      ),
      "a day separator before today's messages",
    );
    const shown = messagesIn(html);
    assert.deepEqual(shown.map((m) => m.classes.includes("grouped")), [false, true, false]);
    for (const [i, m] of props.messages.entries()) {
      const date = new Date(m.createdAt);
      // Exactly what the island renders with the same props: 12-hour clock for en-US.
      assert.ok(
        shown[i].inner.includes(
          `<span class="clock" aria-hidden="true">${format.clock(date)}</span>`,
        ),
      );
      assert.ok(shown[i].inner.includes(`<span class="time-full">${format.full(date)}</span>`));
      assert.match(format.clock(date), /^\d{1,2}:\d\d [AP]M$/);
    }
    // A first visit (no zone cookie yet) shows UTC and says so, in the locale it asked for.
    const first = await app.request("/", {
      headers: { cookie: ada.cookie, "accept-language": "de-DE" },
    });
    const firstHtml = await first.text();
    const firstProps = islandProps(firstHtml).props;
    assert.equal(firstProps.time.timeZone, "UTC");
    assert.match(
      messagesIn(firstHtml)[0].inner,
      /<span class="clock" aria-hidden="true">\d\d:\d\d UTC<\/span>/,
    );
    assert.ok(firstHtml.includes(">Heute</time>"));
  },
);

pageTest(
  "?at={id} renders the history around that message, says which, and that newer ones exist",
  async (app) => {
    const ada = await newGuest(app);
    const room = await app.chat.room("general");
    const ids: number[] = [];
    for (let i = 0; i < 120; i++) {
      const { message } = await app.store.addMessage({
        room,
        authorId: ada.member.id,
        body: `message ${i}`,
        clientId: `c${i}`,
      });
      ids.push(message.id);
    }
    const html = await (await app.request(`/rooms/general?at=${ids[30]}`, {
      headers: { cookie: ada.cookie },
    })).text();
    const items = messagesIn(html);
    const { props } = islandProps(html);
    assert.equal(props.at, ids[30]);
    assert.equal(props.hasOlder, true);
    assert.equal(props.hasNewer, true);
    assert.equal(items.length, 50);
    assert.deepEqual(items.map((m) => m.id), props.messages.map((m: { id: number }) => m.id));
    const at = items.findIndex((m) => m.id === ids[30]);
    assert.ok(at > 0 && at < 49, `the message is inside the page, not at an end (${at})`);
    assert.deepEqual(items.map((m) => m.id), ids.slice(30 - at, 30 - at + 50), "consecutive");
    assert.match(items[at].inner, /message 30</);
    // Near the end: nothing newer to load; the latest page (no `at`) says neither.
    const late = islandProps(
      await (await app.request(`/rooms/general?at=${ids[115]}`, {
        headers: { cookie: ada.cookie },
      })).text(),
    ).props;
    assert.equal(late.at, ids[115]);
    assert.equal(late.hasNewer, false);
    assert.equal(late.messages.at(-1).id, ids[119]);
    const latest = islandProps(
      await (await app.request("/rooms/general", { headers: { cookie: ada.cookie } })).text(),
    ).props;
    assert.equal(latest.at, undefined);
    assert.equal(latest.hasNewer, false);
    assert.equal(latest.messages.at(-1).id, ids[119]);
  },
);

pageTest("?at= anything but a message of this room opens the latest page", async (app) => {
  const ada = await newGuest(app);
  const general = await app.chat.room("general");
  const other = await app.store.createRoom({
    slug: "other",
    name: "other",
    topic: "",
    kind: "public",
    createdBy: ada.member.id,
  });
  assert.ok(other);
  const ids: number[] = [];
  for (let i = 0; i < 60; i++) {
    const room = i === 0 ? other : general;
    const { message } = await app.store.addMessage({
      room,
      authorId: ada.member.id,
      body: `message ${i}`,
      clientId: `c${i}`,
    });
    ids.push(message.id);
  }
  for (const at of [String(ids[0]), "999999", "abc", "0", "-3", "1e3", String(2 ** 60)]) {
    const response = await app.request(`/rooms/general?at=${encodeURIComponent(at)}`, {
      headers: { cookie: ada.cookie },
    });
    assert.equal(response.status, 200, at);
    const { props } = islandProps(await response.text());
    assert.equal(props.at, undefined, at);
    assert.equal(props.hasNewer, false, at);
    assert.equal(props.messages.length, 50, at);
    assert.equal(props.messages.at(-1).id, ids[59], at);
  }
});

pageTest("members only: logging in from a link to a message comes back to it", async (app) => {
  const response = await app.request("/rooms/general?at=42");
  assert.equal(response.status, 303);
  assert.equal(response.headers.get("location"), "/login?next=%2Frooms%2Fgeneral%3Fat%3D42");
  await response.body?.cancel();
}, { PARLEY_GUESTS: "off" });
