// Browser tests: two people chat in Chromium (Playwright), autoscroll, older pages, restarts.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import {
  act,
  axeViolations,
  browserTest,
  idsAreUnique,
  item,
  memberId,
  messages,
  registerIn,
  scrollState,
  send,
} from "./browser_world.ts";
import { startTestServer } from "./helpers.ts";

browserTest("two people chat: sent and received, live, newlines and HTML as text", async (w) => {
  const ada = await w.open();
  const bob = await w.open();
  let dialogs = 0;
  for (const page of [ada, bob]) page.on("dialog", (d) => (dialogs++, d.dismiss()));

  await send(ada, "Hello Bob");
  await ada.locator(".message.sent:not(.pending) .body", { hasText: "Hello Bob" }).waitFor();
  await bob.locator(".message.received .body", { hasText: "Hello Bob" }).waitFor();
  assert.equal(await bob.locator(".message.sent").count(), 0);

  await bob.fill(".composer textarea", "Hi Ada");
  await bob.press(".composer textarea", "Shift+Enter");
  await bob.keyboard.type("<img src=x onerror=alert(1)>");
  await bob.press(".composer textarea", "Enter");
  const reply = ada.locator(".message.received .body", { hasText: "Hi Ada" });
  await reply.waitFor();
  assert.equal(await reply.innerText(), "Hi Ada\n<img src=x onerror=alert(1)>");
  assert.equal(await ada.locator(".message img").count(), 0);
  assert.equal(await bob.locator(".composer textarea").inputValue(), "", "composer cleared");

  // Delivery latency from Enter in one page to the message showing in the other.
  await bob.evaluate(() => {
    const seen: Record<string, number> = {};
    (globalThis as unknown as { seen: Record<string, number> }).seen = seen;
    new MutationObserver(() => {
      for (const el of document.querySelectorAll(".message.received .body")) {
        const text = el.textContent ?? "";
        if (text.startsWith("ping ") && !(text in seen)) seen[text] = Date.now();
      }
    }).observe(document.body, { childList: true, subtree: true });
  });
  const latencies: number[] = [];
  for (let i = 0; i < 10; i++) {
    const text = `ping ${i}`;
    await ada.fill(".composer textarea", text);
    const sentAt = Date.now();
    await ada.press(".composer textarea", "Enter");
    await messages(bob, text).waitFor({ timeout: 5000 });
    const seenAt = await bob.evaluate(
      (t) => (globalThis as unknown as { seen: Record<string, number> }).seen[t],
      text,
    );
    latencies.push(seenAt - sentAt);
    await ada.waitForTimeout(1100); // stay under the burst limit of 10 per 10 s
  }
  latencies.sort((a, b) => a - b);
  console.log(
    `delivery latency (Enter → shown in the other browser): median ${latencies[5]} ms, max ${
      latencies[9]
    } ms over 10 messages`,
  );
  assert.equal(dialogs, 0, "no script from a message ran");
  await idsAreUnique(ada);
  await idsAreUnique(bob);
});

browserTest(
  "autoscroll follows at the bottom, stays put when scrolled up, pill returns",
  async (w) => {
    const other = await w.server.app.store.createMember("Other Person");
    for (let i = 0; i < 120; i++) await w.post(other.id, `history ${i}`);
    const page = await w.open();
    let state = await scrollState(page);
    assert.ok(state.max > 0 && state.max - state.top <= 2, "starts at the bottom");

    await w.post(other.id, "live one");
    await messages(page, "live one").waitFor();
    await page.waitForFunction(() => {
      const el = document.querySelector(".conversation")!;
      return el.scrollHeight - el.clientHeight - el.scrollTop <= 2;
    });

    await page.$eval(
      ".conversation",
      (el) => el.scrollTop = (el.scrollHeight - el.clientHeight) / 2,
    );
    await page.waitForTimeout(100);
    const before = await scrollState(page);
    for (const text of ["unseen 1", "unseen 2", "unseen 3"]) {
      await w.post(other.id, text);
    }
    await messages(page, "unseen 3").waitFor();
    const pill = page.locator(".new-messages-pill");
    await pill.waitFor();
    assert.equal((await pill.innerText()).trim(), "3 new messages ↓");
    const after = await scrollState(page);
    assert.ok(Math.abs(after.top - before.top) <= 1, `stayed put: ${before.top} → ${after.top}`);

    await pill.click();
    await page.waitForFunction(() => {
      const el = document.querySelector(".conversation")!;
      return el.scrollHeight - el.clientHeight - el.scrollTop <= 2;
    });
    assert.equal(await pill.count(), 0, "the pill is gone in live mode");

    // Scrolling back down by hand also returns to live mode.
    await page.$eval(".conversation", (el) => el.scrollTop = 400);
    await page.waitForTimeout(100);
    await w.post(other.id, "while away");
    await pill.waitFor();
    await page.$eval(".conversation", (el) => el.scrollTop = el.scrollHeight);
    await page.waitForFunction(() => !document.querySelector(".new-messages-pill"));
    await w.post(other.id, "back live");
    await messages(page, "back live").waitFor();
    await page.waitForFunction(() => {
      const el = document.querySelector(".conversation")!;
      return el.scrollHeight - el.clientHeight - el.scrollTop <= 2;
    });
    state = await scrollState(page);
    assert.ok(state.max - state.top <= 2);
    await idsAreUnique(page);
  },
);

browserTest("my own message scrolls into view even when I had scrolled up", async (w) => {
  const other = await w.server.app.store.createMember("Other Person");
  for (let i = 0; i < 80; i++) await w.post(other.id, `history ${i}`);
  const page = await w.open();
  await page.$eval(".conversation", (el) => el.scrollTop = 100);
  await send(page, "my reply");
  await page.locator(".message.sent:not(.pending) .body", { hasText: "my reply" }).waitFor();
  await page.waitForFunction(() => {
    const el = document.querySelector(".conversation")!;
    return el.scrollHeight - el.clientHeight - el.scrollTop <= 2;
  });
});

browserTest("scrolling to the top loads older pages and keeps the view in place", async (w) => {
  const other = await w.server.app.store.createMember("Other Person");
  for (let i = 0; i < 120; i++) await w.post(other.id, `history ${i}`);
  const page = await w.open();
  assert.equal(await page.locator(".message").count(), 50);
  assert.match(await page.locator(".message .body").first().innerText(), /^history 70$/);

  // Hold the older page back until the view at the top has been measured.
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  await page.route("**/messages?before=*", async (route) => {
    await released;
    await route.continue();
  });
  const anchor = page.locator(".message .body", { hasText: /^history 70$/ });
  await page.$eval(".conversation", (el) => el.scrollTop = 0);
  await page.locator(".history-edge", { hasText: "Loading earlier messages…" }).waitFor();
  const topBefore = (await anchor.boundingBox())!.y;
  release();
  await page.waitForFunction(() => document.querySelectorAll(".message").length === 100);
  await page.waitForTimeout(50);
  const topAfter = (await anchor.boundingBox())!.y;
  assert.ok(Math.abs(topAfter - topBefore) <= 4, `kept in place: ${topBefore} → ${topAfter}`);
  assert.match(await page.locator(".message .body").first().innerText(), /^history 20$/);

  await page.$eval(".conversation", (el) => el.scrollTop = 0);
  await page.waitForFunction(() => document.querySelectorAll(".message").length === 120);
  await page.locator(".history-edge", { hasText: "This is the beginning of #general." })
    .waitFor();
  assert.equal(await idsAreUnique(page), 120);
  const texts = await page.$$eval(".message .body", (els) => els.map((e) => e.textContent));
  assert.deepEqual(texts, Array.from({ length: 120 }, (_, i) => `history ${i}`));
});

browserTest(
  "after a server restart the chat reconnects, with no gap and no duplicate",
  async (w) => {
    const ada = await w.open();
    const bob = await w.open();
    await send(ada, "before the restart");
    await messages(bob, "before the restart").waitFor();

    const port = w.server.port;
    await w.server.stop();
    await ada.locator(".connection", { hasText: "Reconnecting…" }).waitFor({ timeout: 10_000 });
    await send(ada, "sent while down");
    await ada.locator(".message.pending .body", { hasText: "sent while down" }).waitFor();

    w.server = await startTestServer({ sqlitePath: `${w.dir}/parley.db`, port });
    await ada.locator(".connection").waitFor({ state: "hidden", timeout: 15_000 });
    await ada.locator(".message.sent:not(.pending) .body", { hasText: "sent while down" })
      .waitFor({ timeout: 15_000 });
    await messages(bob, "sent while down").waitFor({ timeout: 15_000 });
    await send(bob, "after the restart");
    await messages(ada, "after the restart").waitFor({ timeout: 15_000 });

    for (const page of [ada, bob]) {
      await idsAreUnique(page);
      for (const text of ["before the restart", "sent while down", "after the restart"]) {
        assert.equal(await messages(page, text).count(), 1, `${text} shown once`);
      }
      assert.equal(await page.locator(".message.pending").count(), 0);
    }
    const { messages: stored } = await w.server.app.store.listMessages(
      await w.server.app.chat.room("general"),
      { latest: true, limit: 50 },
    );
    assert.deepEqual(stored.map((m) => m.body), [
      "before the restart",
      "sent while down",
      "after the restart",
    ]);
  },
);

browserTest(
  "refused messages say why; retry and discard work; 429 retries by itself",
  async (w) => {
    const page = await w.open();
    await page.fill(".composer textarea", "x".repeat(3999) + "\n\n" + "y".repeat(10));
    await page.press(".composer textarea", "Enter");
    // Over the limit: the composer says so and does not send.
    await page.locator(".composer-hint.error").waitFor();
    assert.ok(await page.locator(".composer button[type=submit]").isDisabled());
    assert.equal(await page.locator(".message").count(), 0);
    await page.fill(".composer textarea", "");

    // A message the server refuses stays visible with the reason, a Retry and a Discard.
    let refuse = true;
    await page.route("**/api/rooms/general/messages", async (route) => {
      if (route.request().method() !== "POST" || !refuse) return await route.continue();
      await route.fulfill({
        status: 400,
        contentType: "application/json",
        body: JSON.stringify({
          error: { code: "invalid_request", message: "Refused for a test." },
        }),
      });
    });
    await send(page, "refused one");
    await send(page, "refused two");
    const failed = page.locator(".message.failed");
    await page.waitForFunction(() => document.querySelectorAll(".message.failed").length === 2);
    assert.match(await failed.first().innerText(), /Not sent: Refused for a test\./);
    await failed.first().getByRole("button", { name: "Discard" }).click();
    await page.waitForFunction(() => document.querySelectorAll(".message.failed").length === 1);
    refuse = false;
    await failed.first().getByRole("button", { name: "Retry" }).click();
    await page.locator(".message.sent:not(.pending):not(.failed) .body", { hasText: "refused two" })
      .waitFor();
    assert.equal(await messages(page, "refused one").count(), 0, "discarded for good");

    // Rate limited (the 11th in 10 s): it waits for Retry-After and then goes through.
    for (let i = 0; i < 10; i++) await send(page, `burst ${i}`);
    await page.locator(".message.pending .delivery", { hasText: "Retrying in" }).waitFor();
    await page.locator(".message.sent:not(.pending) .body", { hasText: "burst 9" })
      .waitFor({ timeout: 15_000 });
    await idsAreUnique(page);
    const { messages: stored } = await w.server.app.store.listMessages(
      await w.server.app.chat.room("general"),
      { latest: true, limit: 50 },
    );
    assert.equal(stored.length, 11, "refused two and ten bursts, each once");
  },
);

browserTest("the name can be changed in the page", async (w) => {
  const page = await w.open();
  await send(page, "signed by me");
  await page.locator(".message.sent:not(.pending)").waitFor();
  await page.getByRole("button", { name: "Change name" }).click();
  await page.fill(".me input", "   ");
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator(".me .error", { hasText: "blank" }).waitFor();
  await page.fill(".me input", "Grace Hopper");
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator(".my-name", { hasText: "Grace Hopper" }).waitFor();
  assert.equal(await page.locator(".message.sent .author").first().innerText(), "Grace Hopper");
  await page.reload();
  await page.locator(".my-name", { hasText: "Grace Hopper" }).waitFor();
});

browserTest("dark theme, and a phone-sized screen without sideways scrolling", async (w) => {
  const context = await w.browser.newContext({
    colorScheme: "dark",
    viewport: { width: 390, height: 844 },
  });
  const page = await context.newPage();
  await page.goto(w.server.url);
  await page.waitForSelector(".chat[data-hydrated]");
  const background = await page.$eval(".chat", (el) => getComputedStyle(el).backgroundColor);
  const [r, g, b] = background.match(/\d+/g)!.map(Number);
  assert.ok(0.2126 * r + 0.7152 * g + 0.0722 * b < 60, `dark background: ${background}`);
  await send(page, "a long line ".repeat(40) + "https://example.com/" + "x".repeat(120));
  await page.locator(".message.sent:not(.pending)").waitFor();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no sideways scrolling (${width}px)`);
  assert.ok(await page.locator(".composer textarea").isVisible());
  const box = (await page.locator(".message").last().boundingBox())!;
  assert.ok(box.x >= 0 && box.x + box.width <= 390);
  await page.screenshot({ path: `${w.dir}/phone.png` });
});

browserTest("keyboard only: focus reaches the conversation and the composer", async (w) => {
  const page = await w.open();
  const focused: string[] = [];
  for (let i = 0; i < 14; i++) {
    await page.keyboard.press("Tab");
    focused.push(await page.evaluate(() => document.activeElement?.className ?? ""));
  }
  assert.ok(focused.includes("conversation"), focused.join(","));
  await page.focus(".composer textarea");
  await page.keyboard.type("typed with keys");
  await page.keyboard.press("Enter");
  await page.locator(".message.sent:not(.pending) .body", { hasText: "typed with keys" }).waitFor();
  const live = await page.locator("[aria-live=polite]").count();
  assert.ok(live >= 1, "new messages are announced politely");
});

browserTest("register from the page, log out to a fresh guest, log back in", async (w) => {
  const page = await w.open();
  const guestName = await page.locator(".my-name").innerText();
  await send(page, "said as a guest");
  await page.locator(".message.sent:not(.pending)").waitFor();
  await page.getByRole("link", { name: "Log in or register" }).click();
  await page.waitForSelector(".account-page");
  await page.fill("input[name=new-username]", "grace");
  await page.fill("input[name=new-password]", "short");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.locator(".account-form .error", { hasText: "at least 10 characters" }).waitFor();
  await page.fill("input[name=new-password]", "a long enough password");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForSelector(".chat[data-hydrated]");
  await page.locator(".account-links .username", { hasText: "@grace" }).waitFor();
  assert.equal(await page.locator(".my-name").innerText(), guestName, "the name is kept");
  assert.equal(await page.locator(".message.sent").count(), 1, "and the history");

  await Promise.all([
    page.waitForURL(`${w.server.url}/`, { waitUntil: "load" }),
    page.getByRole("button", { name: "Log out" }).click(),
  ]);
  await page.locator(".account-links a", { hasText: "Log in or register" }).waitFor();
  await page.waitForSelector(".chat[data-hydrated]");
  assert.notEqual(await page.locator(".my-name").innerText(), guestName, "a fresh guest");
  assert.equal(await page.locator(".message.sent").count(), 0);

  await page.goto(`${w.server.url}/login`);
  await page.waitForSelector("island-root .account-page[data-hydrated]");
  await page.fill("input[name=username]", "grace");
  await page.fill("input[name=password]", "not the password");
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await page.locator(".account-form .error", { hasText: "do not match" }).waitFor();
  await page.fill("input[name=password]", "a long enough password");
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await page.locator(".account-links .username", { hasText: "@grace" }).waitFor();
  assert.equal(await page.locator(".message.sent").count(), 1);
  await page.screenshot({ path: "/tmp/shot/account.png" });
});

browserTest("rooms: create, join, chat, unread counts; a direct room stays private", async (w) => {
  const ada = await w.open();
  const bob = await w.open();
  const eve = await w.open();
  await registerIn(ada, w.server.url, "ada");
  await registerIn(bob, w.server.url, "bob");

  await ada.fill(".new-room input[name=room-name]", "Launch Plans");
  await ada.getByRole("button", { name: "Create" }).click();
  await ada.waitForURL(`${w.server.url}/rooms/launch-plans`);
  await ada.waitForSelector(".chat[data-hydrated]");
  assert.equal(await ada.locator(".room-title h1").innerText(), "#Launch Plans");

  await bob.reload();
  await bob.locator(".sidebar .joinable", { hasText: "#Launch Plans" }).getByRole("button", {
    name: "Join",
  }).click();
  await bob.waitForURL(`${w.server.url}/rooms/launch-plans`);
  await bob.waitForSelector(".chat[data-hydrated]");
  await send(bob, "Bob has joined the plans");
  await messages(ada, "Bob has joined the plans").waitFor();
  await ada.waitForTimeout(1200); // the read cursor is sent after a short pause at the bottom

  // Ada goes back to #general; Bob's messages in the other room count as unread there.
  await ada.goto(w.server.url);
  await ada.waitForSelector(".chat[data-hydrated]");
  await send(bob, "one more");
  await send(bob, "and another");
  await bob.locator(".message.sent:not(.pending) .body", { hasText: "and another" }).waitFor();
  const badge = ada.locator(".sidebar a", { hasText: "Launch Plans" }).locator(".unread");
  // Live: no reload, no focus; the count and the tab title follow within a couple of seconds.
  await ada.waitForFunction(
    () => document.querySelector(".sidebar a.has-unread .unread")?.textContent === "2",
    undefined,
    { timeout: 3000 },
  );
  assert.equal(await badge.innerText(), "2");
  assert.match(await ada.title(), /^\(2\) #general/);
  await ada.locator(".sidebar a", { hasText: "Launch Plans" }).click();
  await ada.waitForSelector(".chat[data-hydrated]");
  await messages(ada, "and another").waitFor();
  await ada.waitForTimeout(1200); // the read cursor is sent after a short pause at the bottom
  await ada.goto(w.server.url);
  await ada.waitForSelector(".chat[data-hydrated]");
  assert.equal(await badge.count(), 0, "read: no badge any more");

  // A direct conversation, started from a name.
  await ada.goto(`${w.server.url}/rooms/launch-plans`);
  await ada.waitForSelector(".chat[data-hydrated]");
  await ada.locator("button.author", { hasText: await bob.locator(".my-name").innerText() })
    .first().click();
  await ada.waitForURL(/\/rooms\/dm-\d+-\d+$/);
  await ada.waitForSelector(".chat[data-hydrated]");
  const dmUrl = ada.url();
  await send(ada, "just between us");
  await ada.locator(".message.sent:not(.pending) .body", { hasText: "just between us" })
    .waitFor();
  await bob.goto(dmUrl);
  await messages(bob, "just between us").waitFor();

  const response = await eve.goto(dmUrl);
  assert.equal(response?.status(), 404, "a third person cannot open it by its URL");
  assert.equal(await eve.locator(".message").count(), 0);
  const slug = new URL(dmUrl).pathname.split("/").pop();
  const api = await eve.evaluate(async (s) => {
    const r = await fetch(`/api/rooms/${s}/messages`);
    return { status: r.status, text: await r.text() };
  }, slug);
  assert.equal(api.status, 404);
  assert.doesNotMatch(api.text, /between us/);
  await ada.screenshot({ path: "/tmp/shot/rooms.png" });
});

browserTest("account page: invitation links, password change ends other sessions", async (w) => {
  const admin = await w.open();
  await registerIn(admin, w.server.url, "boss");
  const otherDevice = await w.browser.newContext();
  const second = await otherDevice.newPage();
  await second.goto(`${w.server.url}/login`);
  await second.waitForSelector("island-root .account-page[data-hydrated]");
  await second.fill("input[name=username]", "boss");
  await second.fill("input[name=password]", "a long enough password");
  await second.getByRole("button", { name: "Log in", exact: true }).click();
  await second.locator(".account-links .username", { hasText: "@boss" }).waitFor();

  await admin.getByRole("link", { name: "Account" }).click();
  await admin.waitForSelector("island-root .account-page[data-hydrated]");
  await admin.getByRole("button", { name: "Create an invitation link" }).click();
  const link = await admin.locator(".invite-link").inputValue();
  assert.match(link, /\/login\?invite=/);
  // Its expiry in the chat's date style; Copy puts the link on the clipboard.
  await admin.locator(".status", { hasText: "Valid once, until" }).waitFor();
  assert.match(
    await admin.locator(".status", { hasText: "Valid once, until" }).innerText(),
    new RegExp(String(new Date().getFullYear())),
  );
  await admin.context().grantPermissions(["clipboard-read", "clipboard-write"], {
    origin: w.server.url,
  });
  await admin.getByRole("button", { name: "Copy" }).click();
  await admin.locator(".status", { hasText: "Copied to the clipboard." }).waitFor();
  assert.equal(await admin.evaluate(() => navigator.clipboard.readText()), link);

  const friend = await (await w.browser.newContext()).newPage();
  await friend.goto(link);
  await friend.waitForSelector("island-root .account-page[data-hydrated]");
  await friend.fill("input[name=new-username]", "friend");
  await friend.fill("input[name=new-password]", "another long password");
  await friend.getByRole("button", { name: "Create account" }).click();
  await friend.locator(".account-links .username", { hasText: "@friend" }).waitFor();

  await admin.fill("input[name=current-password]", "a long enough password");
  await admin.fill("input[name=new-password]", "an even longer password");
  await admin.getByRole("button", { name: "Change password" }).click();
  await admin.locator(".status", { hasText: "1 other session ended" }).waitFor();
  await second.reload();
  await second.locator(".account-links a", { hasText: "Log in or register" }).waitFor();
}, { PARLEY_REGISTRATION: "invite" });

browserTest(
  "log out everywhere from the account page ends the other browser's session",
  async (w) => {
    const laptop = await w.open();
    await registerIn(laptop, w.server.url, "ada");
    const phone = await (await w.browser.newContext()).newPage();
    await phone.goto(`${w.server.url}/login`);
    await phone.waitForSelector("island-root .account-page[data-hydrated]");
    await phone.fill("input[name=username]", "ada");
    await phone.fill("input[name=password]", "a long enough password");
    await phone.getByRole("button", { name: "Log in", exact: true }).click();
    await phone.locator(".account-links .username", { hasText: "@ada" }).waitFor();

    await laptop.getByRole("link", { name: "Account" }).click();
    await laptop.waitForSelector("island-root .account-page[data-hydrated]");
    // It asks first; Cancel changes nothing.
    await laptop.getByRole("button", { name: "Log out everywhere" }).click();
    const dialog = laptop.getByRole("dialog", { name: "Log out everywhere?" });
    await dialog.waitFor();
    assert.equal(
      await dialog.getByRole("button", { name: "Cancel" }).evaluate((b) =>
        b === document.activeElement
      ),
      true,
      "focus starts on Cancel",
    );
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    assert.equal(await phone.evaluate(async () => (await fetch("/api/me")).status), 200);
    assert.equal(laptop.url(), `${w.server.url}/account`);
    // Confirmed, it sends DELETE /api/auth/sessions with no body and no Content-Length.
    await laptop.getByRole("button", { name: "Log out everywhere" }).click();
    await Promise.all([
      laptop.waitForURL(`${w.server.url}/login`),
      laptop.getByRole("dialog").getByRole("button", { name: "Log out everywhere" }).click(),
    ]);
    const me = await phone.evaluate(async () => (await fetch("/api/me")).status);
    assert.equal(me, 401, "the other browser's session has ended");
    await phone.reload();
    await phone.locator(".account-links a", { hasText: "Log in or register" }).waitFor();
  },
);

browserTest("a private room: add people from its header; others cannot see it", async (w) => {
  const ada = await w.open();
  const bob = await w.open();
  const bobName = await bob.locator(".my-name").innerText();
  // Members create rooms (guests may not by default) and find anyone to add.
  await registerIn(ada, w.server.url, "ada");
  await ada.fill(".new-room input[name=room-name]", "Inner Circle");
  await ada.locator(".new-room input[type=checkbox]").check();
  await ada.getByRole("button", { name: "Create" }).click();
  // A private room's address ends in random characters: nobody can guess it.
  await ada.waitForURL(/\/rooms\/inner-circle-[a-z0-9]{6}$/);
  const privateUrl = ada.url();
  await ada.waitForSelector(".chat[data-hydrated]");
  assert.match(await ada.locator(".room-title h1").innerText(), /🔒\s*Inner Circle/);
  await send(ada, "only for us");
  await ada.locator(".message.sent:not(.pending)").waitFor();

  const before = await bob.goto(privateUrl);
  assert.equal(before?.status(), 404, "not before being added");

  await ada.getByRole("button", { name: "Add people" }).click();
  await ada.fill("input[name=member-search]", bobName.split(" ")[1]);
  await ada.locator(".add-people-panel li", { hasText: bobName }).getByRole("button", {
    name: "Add",
  }).click();
  await ada.locator(".add-people-panel [role=status]", { hasText: "can now read and write" })
    .waitFor();
  const after = await bob.goto(privateUrl);
  assert.equal(after?.status(), 200);
  await messages(bob, "only for us").waitFor();
  assert.equal(await bob.locator(".sidebar a", { hasText: "Inner Circle" }).count(), 1);

  await Promise.all([
    bob.waitForURL(`${w.server.url}/`),
    bob.getByRole("button", { name: "Leave room" }).click(),
  ]);
  await bob.waitForSelector(".chat[data-hydrated]");
  assert.equal(await bob.locator(".sidebar a", { hasText: "Inner Circle" }).count(), 0);
  const gone = await bob.goto(privateUrl);
  assert.equal(gone?.status(), 404, "after leaving, a private room is hidden again");
});

browserTest(
  "a message stored while my poll was away is not skipped when my send gets through first",
  async (w) => {
    // After a restart my outbox retry can get through before my poll loop is back; the message
    // someone else stored in between must still reach me, in its place.
    const ada = await w.open();
    const bob = await w.open();
    await send(bob, "first");
    await messages(ada, "first").waitFor();

    const isPoll = (url: URL) => url.searchParams.has("since");
    await ada.route(isPoll, (route) => route.abort("connectionrefused"));
    const port = w.server.port;
    await w.server.stop(); // ends the current long poll; the next one fails
    w.server = await startTestServer({ sqlitePath: `${w.dir}/parley.db`, port });
    await ada.locator(".connection", { hasText: "Reconnecting…" }).waitFor();

    await send(bob, "from Bob while Ada's poll is away");
    await bob.locator(".message.sent:not(.pending) .body", {
      hasText: "from Bob while Ada's poll is away",
    }).waitFor({ timeout: 15_000 });
    await send(ada, "from Ada, sent fine");
    await ada.locator(".message.sent:not(.pending) .body", { hasText: "from Ada, sent fine" })
      .waitFor({ timeout: 15_000 });

    await ada.unroute(isPoll);
    await ada.locator(".connection").waitFor({ state: "hidden", timeout: 15_000 });
    await send(bob, "later from Bob");
    await messages(ada, "later from Bob").waitFor({ timeout: 15_000 });
    assert.deepEqual(await ada.locator(".message .body").allInnerTexts(), [
      "first",
      "from Bob while Ada's poll is away",
      "from Ada, sent fine",
      "later from Bob",
    ]);
    await idsAreUnique(ada);
  },
);

// Messages that live: edits, deletions, reactions and replies.

/** What the conversation shows, message by message (to compare before and after a reload). */
async function shown(page: Page) {
  return await page.$$eval(".message[data-id]", (els) =>
    els.map((e) => ({
      id: e.getAttribute("data-id"),
      text: (e as HTMLElement).innerText.replace(/\s+/g, " ").trim(),
      pressed: [...e.querySelectorAll(".chip[aria-pressed=true]")].map((c) => c.textContent),
    })));
}

browserTest(
  "A edits, deletes, reacts and replies; B sees each within 2 s; a reload shows the same",
  async (w) => {
    const ada = await w.open();
    const bob = await w.open();
    await registerIn(ada, w.server.url, "ada"); // the first account: an admin
    const adaName = await ada.locator(".my-name").innerText();
    const bobName = await bob.locator(".my-name").innerText();

    await send(bob, "Bob asks: lunch at noon?");
    await send(ada, "first draft");
    await send(ada, "a regrettable message");
    await messages(bob, "a regrettable message").waitFor();
    await ada.locator(".message.sent:not(.pending) .body", { hasText: "a regrettable" }).waitFor();

    // Bob may reply to and react on Ada's messages, but neither edit nor delete them.
    const adas = item(bob, "first draft");
    await adas.hover();
    assert.equal(await adas.locator(".action.reply").count(), 1);
    assert.equal(await adas.locator(".action.edit").count(), 0);
    assert.equal(await adas.locator(".action.delete").count(), 0);

    // Edit: inline, Enter saves.
    await act(ada, "first draft", "edit");
    const editor = ada.locator(".editor textarea");
    await editor.fill("final text");
    await editor.press("Enter");
    await messages(ada, "final text").waitFor();
    await messages(bob, "final text").waitFor({ timeout: 2000 });
    assert.equal(await messages(bob, "first draft").count(), 0);
    assert.equal(await item(bob, "final text").locator(".edited").innerText(), "(edited)");
    assert.match(
      (await item(bob, "final text").locator(".edited").getAttribute("title"))!,
      /^Edited /,
    );

    // Delete: asks first, in a dialog; Cancel keeps it.
    await act(ada, "a regrettable message", "delete");
    const dialog = ada.getByRole("dialog", { name: "Delete your message?" });
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    assert.equal(await messages(ada, "a regrettable message").count(), 1);
    await act(ada, "a regrettable message", "delete");
    await dialog.getByRole("button", { name: "Delete" }).click();
    const tombstone = (page: Page) => page.locator(".message .tombstone", { hasText: "deleted" });
    await tombstone(ada).waitFor();
    await tombstone(bob).waitFor({ timeout: 2000 });
    assert.equal(await messages(bob, "a regrettable message").count(), 0);

    // React: from the picker; Bob's chip counts it, not pressed for him; his click adds his.
    await act(ada, "lunch at noon", "react");
    await ada.getByRole("button", { name: "React with 🎉" }).click();
    const chip = (page: Page) => item(page, "lunch at noon").locator(".chip", { hasText: "🎉" });
    await chip(bob).locator(".chip-count", { hasText: "1" }).waitFor({ timeout: 2000 });
    assert.equal(await chip(bob).getAttribute("aria-pressed"), "false");
    assert.equal(await chip(ada).getAttribute("aria-pressed"), "true");
    await chip(bob).click();
    await chip(ada).locator(".chip-count", { hasText: "2" }).waitFor({ timeout: 2000 });
    assert.equal(await chip(bob).getAttribute("aria-pressed"), "true");
    await chip(bob).hover();
    assert.equal(await chip(bob).locator(".who").innerText(), `You and ${adaName}`);
    assert.match((await chip(ada).getAttribute("aria-label"))!, new RegExp(bobName));
    // Free entry in the picker (the system emoji keyboard types into it too).
    await act(bob, "final text", "react");
    await bob.fill(".picker input[name=emoji]", "not one");
    await bob.locator(".picker button[type=submit]").click();
    await bob.locator(".picker .error", { hasText: "one emoji" }).waitFor();
    await bob.fill(".picker input[name=emoji]", "🦊");
    await bob.locator(".picker button[type=submit]").click();
    await item(ada, "final text").locator(".chip", { hasText: "🦊" }).waitFor({ timeout: 2000 });

    // Reply: the composer says to whom; the sent message quotes the original.
    await act(ada, "lunch at noon", "reply");
    await ada.locator(".replying", { hasText: `Replying to ${bobName}` }).waitFor();
    await ada.keyboard.type("Noon works");
    await ada.keyboard.press("Enter");
    assert.equal(await ada.locator(".replying").count(), 0);
    const reply = item(bob, "Noon works").locator(".quote");
    await reply.waitFor({ timeout: 2000 });
    assert.equal(await reply.innerText(), `${bobName} Bob asks: lunch at noon?`);

    // Moderation: Ada is an admin and may delete Bob's message; Bob's reply quote follows.
    await send(bob, "spam from Bob");
    await messages(ada, "spam from Bob").waitFor();
    await act(ada, "spam from Bob", "delete");
    await ada.getByRole("dialog", { name: `Delete ${bobName}'s message?` })
      .getByRole("button", { name: "Delete" }).click();
    await bob.waitForFunction(() => document.querySelectorAll(".tombstone").length === 2);

    // A deleted original turns the quote into "message deleted", live and after a reload.
    await bob.evaluate(async () => {
      const li = [...document.querySelectorAll(".message[data-id]")]
        .find((e) => e.textContent?.includes("lunch at noon"))!;
      await fetch(`/api/rooms/general/messages/${li.getAttribute("data-id")}`, {
        method: "DELETE",
      });
    });
    await item(ada, "Noon works").locator(".quote-text", { hasText: "message deleted" })
      .waitFor({ timeout: 2000 });

    await ada.waitForTimeout(300);
    for (const page of [ada, bob]) {
      const before = await shown(page);
      await page.reload();
      await page.waitForSelector(".chat[data-hydrated]");
      assert.deepEqual(await shown(page), before, "the same after a reload");
      await idsAreUnique(page);
    }
  },
);

browserTest("an edit or a reaction never moves a reader who scrolled up", async (w) => {
  const ada = await w.open();
  const adaId = await memberId(ada);
  const ids: number[] = [];
  for (let i = 0; i < 80; i++) ids.push(await w.post(adaId, `line ${i}`));
  const bob = await w.open();
  await bob.$eval(".conversation", (el) => el.scrollTop = (el.scrollHeight - el.clientHeight) / 2);
  await bob.waitForTimeout(150);
  // The first message fully in view, and where it is.
  const anchorId = await bob.$eval(".conversation", (el) => {
    const top = el.getBoundingClientRect().top;
    return [...el.querySelectorAll<HTMLElement>(".message[data-id]")]
      .find((li) => li.getBoundingClientRect().top >= top)!.dataset.id!;
  });
  const anchor = bob.locator(`.message[data-id="${anchorId}"]`);
  const y = async () => (await anchor.boundingBox())!.y;
  const before = await y();
  const index = ids.indexOf(Number(anchorId));
  const above = ids.slice(index - 5, index);

  // Above the view: a much longer text and new reaction rows change heights there.
  const api = (method: string, path: string, body?: unknown) =>
    ada.evaluate(async ([method, path, body]) => {
      const r = await fetch(`/api/rooms/general/messages/${path}`, {
        method: method as string,
        headers: body ? { "content-type": "application/json" } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
      return r.status;
    }, [method, path, body] as const);
  assert.equal(await api("PATCH", String(above[0]), { body: "grown\n".repeat(8) + "tall" }), 200);
  for (const id of above.slice(1)) {
    assert.equal(await api("PUT", `${id}/reactions/${encodeURIComponent("👍")}`), 200);
  }
  assert.equal(await api("PATCH", anchorId, { body: "the anchor, edited" }), 200);
  await messages(bob, "the anchor, edited").waitFor({ timeout: 2000 });
  await bob.waitForFunction(
    (n) => document.querySelectorAll(".chip").length === n,
    above.length - 1,
  );
  await bob.waitForTimeout(100);
  const after = await y();
  assert.ok(Math.abs(after - before) <= 2, `stayed put: ${before} → ${after}`);
  assert.equal(await bob.locator(".new-messages-pill").count(), 0, "changes are not news");

  // At the bottom, a reaction on the last message keeps the reader at the bottom.
  await bob.$eval(".conversation", (el) => el.scrollTop = el.scrollHeight);
  await bob.waitForTimeout(100);
  assert.equal(await api("PUT", `${ids.at(-1)}/reactions/${encodeURIComponent("🎉")}`), 200);
  await item(bob, "line 79").locator(".chip").waitFor({ timeout: 2000 });
  await bob.waitForFunction(() => {
    const el = document.querySelector(".conversation")!;
    return el.scrollHeight - el.clientHeight - el.scrollTop <= 2;
  });
});

browserTest("Up arrow in an empty composer edits my last message", async (w) => {
  const page = await w.open();
  await send(page, "one");
  await send(page, "two");
  await page.locator(".message.sent:not(.pending) .body", { hasText: "two" }).waitFor();
  const composer = page.locator(".composer textarea");

  await composer.fill("not empty");
  await composer.press("ArrowUp");
  assert.equal(await page.locator(".editor").count(), 0, "only from an empty composer");
  await composer.fill("");
  await composer.press("ArrowUp");
  const editor = page.locator(".editor textarea");
  await editor.waitFor();
  assert.equal(await editor.inputValue(), "two");
  assert.ok(await editor.evaluate((el) => el === document.activeElement), "focus in the editor");
  await editor.press("Escape");
  await page.locator(".editor").waitFor({ state: "detached" });
  assert.ok(await composer.evaluate((el) => el === document.activeElement), "back to composing");
  assert.equal(await page.locator(".message .edited").count(), 0, "cancel changes nothing");

  await composer.press("ArrowUp");
  // The editor takes focus (and puts the caret at the end) once mounted: select after that.
  await page.waitForFunction(() => document.activeElement?.matches(".editor textarea"));
  await editor.press("ControlOrMeta+a");
  await editor.pressSequentially("two, edited");
  await editor.press("Shift+Enter");
  await editor.pressSequentially("second line");
  await editor.press("Enter");
  await page.locator(".editor").waitFor({ state: "detached" });
  const edited = item(page, "two, edited");
  assert.equal(await edited.locator(".body").innerText(), "two, edited\nsecond line");
  await edited.locator(".edited").waitFor();
  assert.equal(await page.locator(".message[data-id]").count(), 2);

  // Actions are reachable from the keyboard and shown when focused.
  await page.focus(`.message[data-id] .action.reply`);
  const opacity = await page.$eval(
    ".message[data-id]:focus-within .action-buttons",
    (el) => getComputedStyle(el).opacity,
  );
  assert.equal(opacity, "1");
  await page.keyboard.press("Enter");
  await page.locator(".replying", { hasText: "Replying to" }).waitFor();
  await page.keyboard.press("Escape");
  await page.locator(".replying").waitFor({ state: "detached" });
});

browserTest(
  "a reply's original that is not loaded is loaded around it, highlighted, paged both ways",
  async (w) => {
    const other = await w.server.app.store.createMember("Other Person");
    const original = await w.post(other.id, "the original");
    for (let i = 0; i < 119; i++) await w.post(other.id, `history ${i}`);
    await w.post(other.id, "the reply", original);
    const page = await w.open();
    assert.equal(await messages(page, "the original").count(), 0, "not loaded at first");

    await item(page, "the reply").locator("button.quote").click();
    const target = page.locator(`.message[data-id="${original}"]`);
    await target.waitFor();
    await page.locator(".message.highlight").waitFor();
    assert.ok(await target.evaluate((el) => el === document.activeElement), "focus moved to it");
    const box = (await target.boundingBox())!;
    const view = (await page.locator(".conversation").boundingBox())!;
    assert.ok(box.y >= view.y && box.y + box.height <= view.y + view.height, "in view");
    assert.equal(await messages(page, "the reply").count(), 0, "a page around it");
    await page.locator(".new-messages-pill", { hasText: "Jump to latest" }).waitFor();

    // Page down to the live end, then up to the beginning: every message once, in order.
    for (let i = 0; i < 10 && await messages(page, "the reply").count() === 0; i++) {
      await page.$eval(".conversation", (el) => el.scrollTop = el.scrollHeight);
      await page.waitForTimeout(300);
    }
    await messages(page, "the reply").waitFor();
    // New messages follow at the bottom again now that the window reaches the live end.
    await w.post(other.id, "live after the jump");
    await messages(page, "live after the jump").waitFor({ timeout: 2000 });
    await page.locator(".history-edge", { hasText: "Load newer" }).waitFor({ state: "detached" });
    for (let i = 0; i < 10 && await page.locator(".history-edge button").count() > 0; i++) {
      await page.$eval(".conversation", (el) => el.scrollTop = 0);
      await page.waitForTimeout(300);
    }
    const texts = await page.$$eval(".message .body", (els) => els.map((e) => e.textContent));
    assert.deepEqual(texts, [
      "the original",
      ...Array.from({ length: 119 }, (_, i) => `history ${i}`),
      "the reply",
      "live after the jump",
    ]);
    await idsAreUnique(page);
  },
);

browserTest("screenshots: replies, reactions, an edited and a deleted message", async (w) => {
  const dir = "/tmp/shots8";
  await Deno.mkdir(dir, { recursive: true });
  const ada = await w.open();
  await registerIn(ada, w.server.url, "ada");
  const adaId = await memberId(ada);
  const bea = await w.server.app.store.createMember("Bea Chen");
  const cal = await w.server.app.store.createMember("Cal Osei");
  const q = await w.post(bea.id, "Is the release still planned for Thursday?");
  await w.post(cal.id, "I think so, QA signed off this morning.");
  const draft = await w.post(adaId, "Yes — Thursday 10:00, I will send the notes");
  const gone = await w.post(bea.id, "oops, wrong room");
  await w.post(adaId, "Thursday it is. Notes are in the usual folder.", q);
  await w.post(
    cal.id,
    "Great! Could someone check the migration on staging before then? It took a long time last week and I would like to know why.",
  );
  const room = await w.server.app.chat.room("general");
  const store = w.server.app.store;
  await store.editMessage({
    room,
    id: draft,
    body: "Yes — Thursday 10:00. I will send the notes tonight.",
    now: Date.now(),
  });
  await store.deleteMessage({ room, id: gone, now: Date.now() });
  for (const [member, emoji] of [[bea.id, "🎉"], [cal.id, "🎉"], [adaId, "🎉"], [cal.id, "👍"]]) {
    await store.react({
      room,
      id: draft,
      memberId: member as number,
      emoji: emoji as string,
      add: true,
      maxEmoji: 20,
    });
  }
  await store.react({ room, id: q, memberId: adaId, emoji: "👀", add: true, maxEmoji: 20 });

  for (const colorScheme of ["light", "dark"] as const) {
    for (
      const [kind, viewport] of [
        ["desktop", { width: 1280, height: 800 }],
        ["phone", { width: 390, height: 844 }],
      ] as const
    ) {
      const context = await w.browser.newContext({
        colorScheme,
        viewport,
        storageState: await ada.context().storageState(),
        hasTouch: kind === "phone",
        isMobile: kind === "phone",
      });
      const page = await context.newPage();
      await page.goto(w.server.url);
      await page.waitForSelector(".chat[data-hydrated]");
      await page.locator(".composer textarea").fill("Sounds good");
      await act(page, "Could someone check", "reply");
      const name = `${dir}/${kind}-${colorScheme}`;
      await page.screenshot({ path: `${name}.png` });
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= viewport.width, `no sideways scrolling (${width}px)`);
      // Who reacted, on hover.
      if (kind === "desktop") {
        await item(page, "I will send the notes").locator(".chip").first().hover();
        await page.screenshot({ path: `${name}-who.png` });
      }
      // The actions and the picker of one message, and the delete confirmation.
      await act(page, "Thursday it is", "react");
      await page.screenshot({ path: `${name}-picker.png` });
      await page.keyboard.press("Escape");
      await act(page, "Thursday it is", "delete");
      await page.getByRole("dialog").waitFor();
      await page.screenshot({ path: `${name}-confirm.png` });
      await page.keyboard.press("Escape");
      await context.close();
    }
  }
});

browserTest("axe-core: no violations on room, login, account and 404 pages", async (w) => {
  const shots = "/tmp/shots9/phones-a11y";
  await Deno.mkdir(shots, { recursive: true });
  const other = await w.server.app.store.createMember("Other Person");
  await w.post(other.id, "Hello there, see https://example.com and *this*");
  let n = 0;
  const found: string[] = [];
  for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
    for (const colorScheme of ["light", "dark"] as const) {
      const size = `${viewport.width}x${viewport.height}-${colorScheme}`;
      // bypassCSP: the page allows only its own scripts; axe is injected by the test.
      const context = await w.browser.newContext({ viewport, colorScheme, bypassCSP: true });
      const page = await context.newPage();
      page.on("pageerror", (error) => console.error("page error:", error.message));
      await page.goto(w.server.url);
      await page.waitForSelector(".chat[data-hydrated]");
      found.push(...await axeViolations(page, `room (guest) ${size}`));
      await page.goto(`${w.server.url}/login`);
      await page.waitForSelector("island-root .account-page[data-hydrated]");
      found.push(...await axeViolations(page, `login ${size}`));
      await page.screenshot({ path: `${shots}/login-${size}.png` });
      await page.goto(`${w.server.url}/no-such-page`);
      found.push(...await axeViolations(page, `404 ${size}`));
      await registerIn(page, w.server.url, `axe${n++}`);
      found.push(...await axeViolations(page, `room (account) ${size}`));
      await page.screenshot({ path: `${shots}/room-${size}.png` });
      if (viewport.width < 700) {
        await page.locator(".menu-toggle").click();
        found.push(...await axeViolations(page, `room, menu open ${size}`));
        await page.screenshot({ path: `${shots}/menu-${size}.png` });
      }
      await page.goto(`${w.server.url}/account`);
      await page.waitForSelector("island-root .account-page[data-hydrated]");
      found.push(...await axeViolations(page, `account ${size}`));
      await page.screenshot({ path: `${shots}/account-${size}.png` });
      await context.close();
    }
  }
  assert.deepEqual(found, [], "axe-core violations");
});

browserTest(
  "new direct message from the sidebar: keyboard search, opens the room, live for the other",
  async (w) => {
    const shots = "/tmp/shots9/new-dm";
    await Deno.mkdir(shots, { recursive: true });
    const bob = await w.open();
    await registerIn(bob, w.server.url, "bob");
    const context = await w.browser.newContext({
      viewport: { width: 1280, height: 800 },
      bypassCSP: true,
    });
    const ada = await context.newPage();
    await ada.goto(w.server.url);
    await ada.waitForSelector(".chat[data-hydrated]");
    await registerIn(ada, w.server.url, "ada");
    await ada.waitForSelector(".chat[data-hydrated]");

    const button = ada.getByRole("button", { name: "New direct message" });
    assert.equal(await button.getAttribute("aria-expanded"), "false");
    await button.click();
    const box = ada.getByRole("searchbox", { name: "Find someone to message" });
    assert.ok(await box.evaluate((el) => el === document.activeElement), "the search has focus");
    // Escape closes and gives focus back to the button.
    await ada.keyboard.press("Escape");
    assert.equal(await box.count(), 0);
    assert.ok(await button.evaluate((el) => el === document.activeElement), "focus returns");
    assert.equal(await button.getAttribute("aria-expanded"), "false");

    await ada.keyboard.press("Enter");
    await ada.keyboard.type("zzq");
    await ada.locator(".new-dm-panel .hint", { hasText: "Nobody found." }).waitFor();
    await box.fill("bo");
    await ada.locator(".dm-result", { hasText: "@bob" }).waitFor();
    assert.equal(await ada.locator(".dm-result", { hasText: "@ada" }).count(), 0, "never myself");
    found(await axeViolations(ada, "new DM search open"));
    await ada.screenshot({ path: `${shots}/search-1280x800.png` });
    await ada.keyboard.press("ArrowDown");
    assert.ok(
      await ada.locator(".dm-result").first().evaluate((el) => el === document.activeElement),
    );
    await ada.keyboard.press("ArrowUp");
    assert.ok(await box.evaluate((el) => el === document.activeElement), "back up to the box");
    await ada.keyboard.press("ArrowDown");
    await Promise.all([ada.waitForURL(/\/rooms\/dm-/), ada.keyboard.press("Enter")]);
    await ada.waitForSelector(".chat[data-hydrated]");
    const dmUrl = ada.url();
    // Bob's room list shows the conversation at once (the long poll is woken), before a word.
    await bob.locator(".sidebar a[href^='/rooms/dm-']").waitFor({
      state: "attached",
      timeout: 3000,
    });

    // On a phone, from the drawer, it opens the same conversation again.
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(w.server.url);
    await phone.waitForSelector(".chat[data-hydrated]");
    await phone.locator(".sidebar-toggle").click();
    await phone.getByRole("button", { name: "New direct message" }).click();
    await phone.waitForFunction(() => document.activeElement?.getAttribute("name") === "dm-search");
    await phone.keyboard.type("bob");
    await phone.locator(".dm-result", { hasText: "@bob" }).waitFor();
    found(await axeViolations(phone, "new DM search open, phone"));
    await phone.screenshot({ path: `${shots}/search-390x844.png` });
    await phone.emulateMedia({ colorScheme: "dark" });
    found(await axeViolations(phone, "new DM search open, phone, dark"));
    await phone.screenshot({ path: `${shots}/search-390x844-dark.png` });
    await Promise.all([phone.waitForURL(dmUrl), phone.locator(".dm-result").first().click()]);
    await context.close();

    function found(violations: string[]) {
      assert.deepEqual(violations, [], "axe-core violations");
    }
  },
);

/** The composer's box lies inside the viewport and the page does not scroll. */
async function assertComposerInView(page: Page, label: string) {
  const { height } = page.viewportSize()!;
  const box = (await page.locator("form.composer").boundingBox())!;
  assert.ok(
    box.y >= 0 && box.y + box.height <= height + 0.5,
    `${label}: composer ${box.y}–${box.y + box.height} inside 0–${height}`,
  );
  const pageHeight = await page.evaluate(() => document.documentElement.scrollHeight);
  assert.ok(pageHeight <= height, `${label}: page ${pageHeight}px fits ${height}px`);
}

browserTest("phones: composer in view, drawer over the chat, compact header menu", async (w) => {
  const other = await w.server.app.store.createMember("Other Person");
  for (let i = 0; i < 40; i++) await w.post(other.id, `history ${i}`);
  for (const viewport of [{ width: 390, height: 844 }, { width: 360, height: 640 }]) {
    const label = `${viewport.width}×${viewport.height}`;
    const page = await w.open({ viewport });
    await assertComposerInView(page, label);
    // Focused, with the on-screen keyboard taking the lower part of the screen.
    await page.focus(".composer textarea");
    await page.setViewportSize({ width: viewport.width, height: viewport.height - 300 });
    await page.waitForTimeout(100);
    await assertComposerInView(page, `${label} with the keyboard`);
    assert.ok(await page.$eval(".composer textarea", (el) => el === document.activeElement));
    await page.setViewportSize(viewport);

    // The header is one compact row; its actions are in a menu.
    const header = (await page.locator(".room-header").boundingBox())!;
    assert.ok(header.height <= 64, `${label}: header ${header.height}px tall`);
    const menu = page.locator(".menu-toggle");
    assert.equal(await menu.getAttribute("aria-expanded"), "false");
    assert.equal(await page.locator(".header-side").isVisible(), false);
    await menu.click();
    assert.equal(await menu.getAttribute("aria-expanded"), "true");
    await page.getByRole("button", { name: "Change name" }).waitFor();
    await page.keyboard.press("Escape");
    assert.equal(await menu.getAttribute("aria-expanded"), "false");

    // The room list opens over the chat: nothing under it moves.
    const toggle = page.locator(".sidebar-toggle");
    const before = (await page.locator(".conversation").boundingBox())!;
    assert.equal(await toggle.getAttribute("aria-expanded"), "false");
    await toggle.click();
    assert.equal(await toggle.getAttribute("aria-expanded"), "true");
    const drawer = (await page.locator(".sidebar-body").boundingBox())!;
    const after = (await page.locator(".conversation").boundingBox())!;
    assert.deepEqual(after, before, `${label}: the chat stays where it was`);
    assert.ok(drawer.x < before.x + before.width && drawer.y < before.y + before.height);
    await page.screenshot({ path: `/tmp/shots9/phones-a11y/drawer-${label}.png` });
    await toggle.click();
    assert.equal(await toggle.getAttribute("aria-expanded"), "false");
    assert.equal(await page.locator(".sidebar-body").isVisible(), false);

    // The composer grows with wrapped text, keeps the conversation at the bottom, up to a limit.
    const textarea = page.locator(".composer textarea");
    const low = (await textarea.boundingBox())!.height;
    await textarea.fill("word ".repeat(40));
    await page.waitForTimeout(100);
    const grown = (await textarea.boundingBox())!.height;
    assert.ok(grown > low + 20, `${label}: grew from ${low} to ${grown}px`);
    const gap = await page.$eval(
      ".conversation",
      (el) => el.scrollHeight - el.clientHeight - el.scrollTop,
    );
    assert.ok(gap <= 2, `${label}: still at the bottom (${gap}px away)`);
    await textarea.fill("word ".repeat(900));
    const max = (await textarea.boundingBox())!.height;
    assert.ok(max <= viewport.height * 0.4 + 1, `${label}: at most ${max}px`);
    await assertComposerInView(page, `${label} with a long draft`);
    // Too long: the counter shows on phones too.
    assert.ok(await page.locator(".composer-hint.error").isVisible(), "too-long counter");
    await page.screenshot({ path: `/tmp/shots9/phones-a11y/too-long-${label}.png` });
    await page.context().close();
  }
});

/** The texts of the timeline a reader sees (day separators, headers and times, bodies). */
function timelineTexts(root: ParentNode): string[] {
  return [...root.querySelectorAll(".messages .day-separator, .messages .meta, .messages .body")]
    .map((e) => (e.textContent ?? "").replace(/\s+/g, " ").trim());
}

browserTest("timeline: day separators, grouping, times that hydration never changes", async (w) => {
  const context = await w.browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: "en-GB",
    timezoneId: "Europe/Berlin",
  });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error("page error:", error.message));
  await page.goto(`${w.server.url}/`);
  await page.waitForSelector(".chat[data-hydrated]");
  const ada = await memberId(page);
  const ids = [];
  for (const body of ["late night", "after midnight", "first today", "second today"]) {
    ids.push(await w.post(ada, body));
  }
  // 23:59 and 00:01 in Berlin (the same day in UTC).
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(`${w.dir}/parley.db`);
  db.prepare("UPDATE messages SET created_at = ? WHERE id = ?")
    .run(Date.parse("2025-03-10T22:59:00Z"), ids[0]);
  db.prepare("UPDATE messages SET created_at = ? WHERE id = ?")
    .run(Date.parse("2025-03-10T23:01:00Z"), ids[1]);
  db.close();

  /** Loads the page; the server's HTML and the hydrated list must read the same. */
  async function load() {
    const html = await (await page.goto(`${w.server.url}/`))!.text();
    await page.waitForSelector(".chat[data-hydrated]");
    await page.locator(".message .body", { hasText: "second today" }).waitFor();
    const server = await page.evaluate((source) => {
      const doc = new DOMParser().parseFromString(source, "text/html");
      return [...doc.querySelectorAll(
        ".messages .day-separator, .messages .meta, .messages .body",
      )].map((e) => (e.textContent ?? "").replace(/\s+/g, " ").trim());
    }, html);
    const hydrated = await page.evaluate(`(${timelineTexts})(document)`) as string[];
    assert.deepEqual(hydrated, server, "hydration changes no text");
    return hydrated;
  }

  // First visit: no zone known yet, UTC, said so: both night messages on 10 March, grouped.
  await context.clearCookies({ name: "tz" });
  let texts = await load();
  assert.equal(texts.filter((t) => /^Monday,? 10 March 2025$/.test(t)).length, 1, texts.join("|"));
  assert.ok(texts.some((t) => /\d UTC/.test(t)), "UTC is named");
  assert.ok(await page.locator(".message.grouped .body", { hasText: "after midnight" }).count());

  // The island told the server the zone: 23:59 and 00:01 in Berlin are on two days.
  texts = await load();
  const days = await page.locator(".day-separator").allInnerTexts();
  assert.deepEqual(days.map((d) => d.replace(",", "")), [
    "Monday 10 March 2025",
    "Tuesday 11 March 2025",
    "Today",
  ]);
  assert.ok(!texts.some((t) => /\d UTC/.test(t)), "local times");
  assert.ok(texts.some((t) => t.includes("23:59")), "24-hour clock for en-GB");
  assert.equal(await page.locator(".message.grouped").count(), 1, "only the follow-up today");
  const header = (await page.locator(".message", { hasText: "first today" }).boundingBox())!;
  const follow = (await page.locator(".message", { hasText: "second today" }).boundingBox())!;
  console.log(`one-line message: ${header.height} px, grouped follow-up: ${follow.height} px`);
  assert.ok(follow.height <= 36, `a grouped follow-up takes one line (${follow.height} px)`);
  assert.ok(follow.y - (header.y + header.height) <= 6, "close under its group's header");

  // The full date shows on hover and on keyboard focus.
  const time = page.locator(".message", { hasText: "first today" }).locator(".time-full");
  assert.equal((await time.boundingBox())!.width <= 1, true, "hidden at rest");
  await page.locator(".message", { hasText: "first today" }).locator(".sent-at").hover();
  assert.ok((await time.boundingBox())!.width > 100, "shown on hover");
  await page.mouse.move(0, 0);
  await page.locator(".message", { hasText: "first today" }).focus();
  assert.ok((await time.boundingBox())!.width > 100, "shown on focus");
  for (
    const [name, size] of [["desktop", { width: 1280, height: 800 }], ["phone", {
      width: 390,
      height: 844,
    }]] as const
  ) {
    await page.setViewportSize(size);
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: `/tmp/shots9/timeline/${name}-${scheme}.png` });
    }
  }

  await context.close();
});

browserTest(
  "timeline: links in my own messages meet WCAG AA contrast, light and dark",
  async (w) => {
    const page = await w.open();
    await send(page, "see the link");
    await page.locator(".message.sent:not(.pending) .body", { hasText: "see the link" }).waitFor();
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const ratio = await page.evaluate(() => {
        const body = [...document.querySelectorAll(".message.sent .body")].at(-1)!;
        const a = document.createElement("a");
        a.href = "https://example.com/";
        a.textContent = "example.com";
        body.append(a);
        const rgb = (text: string) => text.match(/[\d.]+/g)!.slice(0, 3).map(Number);
        const lum = (c: number[]) => {
          const [r, g, b] = c.map((v) => {
            v /= 255;
            return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
          });
          return 0.2126 * r + 0.7152 * g + 0.0722 * b;
        };
        const fg = lum(rgb(getComputedStyle(a).color));
        const bg = lum(rgb(getComputedStyle(body.closest(".message")!).backgroundColor));
        a.remove();
        return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      });
      assert.ok(ratio >= 4.5, `${scheme}: link contrast ${ratio.toFixed(2)}:1`);
    }
  },
);

browserTest(
  "mentions: @ autocomplete by username or name, highlight, a stronger badge",
  async (w) => {
    const ada = await w.open({ viewport: { width: 1280, height: 800 } });
    const bob = await w.open({ viewport: { width: 1280, height: 800 } });
    await registerIn(ada, w.server.url, "ada");
    await registerIn(bob, w.server.url, "bobby");
    await w.server.app.store.renameMember(await memberId(bob), "Roberta Smith");
    await bob.fill(".new-room input[name=room-name]", "Elsewhere");
    await bob.getByRole("button", { name: "Create" }).click();
    await bob.waitForURL(`${w.server.url}/rooms/elsewhere`);
    await bob.waitForSelector(".chat[data-hydrated]");
    await ada.goto(w.server.url);
    await ada.waitForSelector(".chat[data-hydrated]");

    const box = ada.locator(".composer textarea");
    const list = ada.getByRole("listbox", { name: "People to mention" });
    // By display name: "@rob" offers Roberta Smith (and @room); the first is active.
    await box.pressSequentially("hi @rob");
    await list.waitFor();
    const options = list.getByRole("option");
    const optionTexts = async () =>
      (await options.allTextContents()).map((t) => t.replace(/\s+/g, " ").trim());
    assert.deepEqual(await optionTexts(), ["Roberta Smith @bobby"]);
    assert.equal(
      await box.getAttribute("aria-activedescendant"),
      await options.first().getAttribute("id"),
    );
    assert.equal(await options.first().getAttribute("aria-selected"), "true");
    await ada.screenshot({ path: "/tmp/shots9/mentions/autocomplete-1280-light.png" });
    await box.press("Enter");
    assert.equal(await box.inputValue(), "hi @bobby ", "Enter picks and inserts the username");
    assert.equal(await list.count(), 0);
    // Arrow keys move through the options; Escape closes without changing the text.
    await box.pressSequentially("and @");
    await list.waitFor();
    await ada.waitForFunction(() => document.querySelectorAll("[role=option]").length === 2);
    assert.deepEqual(await optionTexts(), [
      "Roberta Smith @bobby",
      "@room Notify everyone in this room",
    ]);
    await box.press("ArrowDown");
    assert.equal(await options.nth(1).getAttribute("aria-selected"), "true");
    await box.press("ArrowUp");
    await box.press("ArrowUp");
    assert.equal(await options.last().getAttribute("aria-selected"), "true", "wraps around");
    await box.press("Escape");
    assert.equal(await list.count(), 0);
    assert.equal(await box.inputValue(), "hi @bobby and @");
    // Tab picks too (by username).
    await box.press("Backspace");
    await box.pressSequentially("@BOB");
    await list.waitFor();
    await box.press("Tab");
    assert.equal(await box.inputValue(), "hi @bobby and @bobby ");
    await box.pressSequentially("lunch?");
    await box.press("Enter");
    await ada.locator(".message.sent:not(.pending) .body", { hasText: "lunch?" }).waitFor();

    // Bob, in another room: a stronger badge on general; there, the message is highlighted.
    const badge = bob.locator(".sidebar a", { hasText: "general" }).locator(".unread.urgent");
    await badge.waitFor({ timeout: 5000 });
    assert.equal(await badge.innerText(), "@1");
    assert.equal(await badge.getAttribute("aria-label"), "1 unread, 1 mentioning you");
    await bob.screenshot({ path: "/tmp/shots9/mentions/badge-1280-light.png" });
    await bob.locator(".sidebar a", { hasText: "general" }).click();
    await bob.waitForSelector(".chat[data-hydrated]");
    const mentioned = bob.locator(".message.mentions-me", { hasText: "lunch?" });
    await mentioned.waitFor();
    assert.equal(
      await mentioned.locator(".visually-hidden", { hasText: "Mentions you" }).count(),
      1,
    );
    assert.equal(await ada.locator(".message.mentions-me").count(), 0, "not for the author");
    await bob.screenshot({ path: "/tmp/shots9/mentions/highlight-1280-light.png" });
    await bob.emulateMedia({ colorScheme: "dark" });
    await bob.screenshot({ path: "/tmp/shots9/mentions/highlight-1280-dark.png" });
    await ada.emulateMedia({ colorScheme: "dark" });
    await ada.setViewportSize({ width: 390, height: 844 });
    await box.pressSequentially("@rob");
    await list.waitFor();
    await ada.screenshot({ path: "/tmp/shots9/mentions/autocomplete-390-dark.png" });
  },
);

browserTest("touch targets of 24×24 px; focus returns after rename and Add people", async (w) => {
  for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
    const page = await w.open({ viewport });
    await registerIn(page, w.server.url, `t${viewport.width}`);
    const phone = viewport.width < 700;
    const small = async () =>
      await page.$$eval(
        ".sidebar-toggle, .menu-toggle, .sidebar a, .sidebar button, .sidebar input, " +
          ".header-side button, .header-side a, .header-side input, .composer button, " +
          ".composer textarea",
        (els) =>
          els.filter((el) => el.getClientRects().length > 0).map((el) => {
            const box = el.getBoundingClientRect();
            return { el: el.outerHTML.slice(0, 60), w: box.width, h: box.height };
          }).filter((b) => b.w < 24 || b.h < 24),
      );
    if (phone) await page.locator(".sidebar-toggle").click();
    assert.deepEqual(await small(), [], "sidebar and composer");
    if (phone) await page.locator(".sidebar-toggle").click();
    if (phone) await page.locator(".menu-toggle").click();
    assert.deepEqual(await small(), [], "header");

    await page.getByRole("button", { name: "Change name" }).click();
    const save = await page.locator(".me.editing button[type=submit]").evaluate((el) => {
      const style = getComputedStyle(el);
      return { bg: style.backgroundColor, h: el.getBoundingClientRect().height };
    });
    const create = await page.locator(".composer button[type=submit]").evaluate((el) =>
      getComputedStyle(el).backgroundColor
    );
    assert.equal(save.bg, create, "Save looks like the other buttons");
    assert.ok(save.h >= 24);
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => document.activeElement?.textContent === "Change name");
    await page.context().close();
  }
  // A private room: "Add people" closes back to its button.
  const page = await w.open();
  await registerIn(page, w.server.url, "owner");
  await page.fill(".new-room input[name=room-name]", "Back room");
  await page.locator(".new-room input[type=checkbox]").check();
  await page.getByRole("button", { name: "Create" }).click();
  await page.waitForURL(/\/rooms\/back-room-/);
  await page.waitForSelector(".chat[data-hydrated]");
  await page.getByRole("button", { name: "Add people" }).click();
  await page.getByRole("button", { name: "Done" }).click();
  await page.waitForFunction(() => document.activeElement?.textContent?.trim() === "Add people");
  await page.getByRole("button", { name: "Add people" }).click();
  await page.press("input[name=member-search]", "Escape");
  await page.waitForFunction(() => document.activeElement?.textContent?.trim() === "Add people");
});

/** What the notification test's stub records in the page. */
interface NoteWindow {
  shownNotes: { title: string; body?: string }[];
  permissionAsked: number;
  lastNote: { onclick: () => void };
}

browserTest(
  "notifications: asked from the bell, shown while hidden, per-room level, click opens",
  async (w) => {
    const ada = await w.open();
    await registerIn(ada, w.server.url, "ada");
    const context = await w.browser.newContext({ viewport: { width: 1280, height: 800 } });
    // Observe Notification: a stub that records what would be shown, over the real permission.
    await context.addInitScript(() => {
      const Real = globalThis.Notification;
      const win = globalThis as unknown as Record<string, unknown>;
      const shown: { title: string; body?: string }[] = [];
      win.shownNotes = shown;
      win.permissionAsked = 0;
      class Stub {
        onclick: (() => void) | null = null;
        constructor(title: string, options: NotificationOptions = {}) {
          shown.push({ title, body: options.body });
          win.lastNote = this;
        }
        close() {}
        static get permission() {
          return Real.permission;
        }
        static requestPermission() {
          win.permissionAsked = Number(win.permissionAsked) + 1;
          return Real.requestPermission();
        }
      }
      globalThis.Notification = Stub as unknown as typeof Notification;
    });
    const bob = await context.newPage();
    await bob.goto(w.server.url);
    await bob.waitForSelector(".chat[data-hydrated]");
    await registerIn(bob, w.server.url, "bobby");
    await bob.fill(".new-room input[name=room-name]", "Elsewhere");
    await bob.getByRole("button", { name: "Create" }).click();
    await bob.waitForURL(`${w.server.url}/rooms/elsewhere`);
    // A direct room with ada (in the list the sidebar watches).
    const dmSlug = await ada.evaluate(async (id) => {
      const room = await (await fetch("/api/direct", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ memberId: id }),
      })).json();
      return room.slug as string;
    }, await memberId(bob));
    await bob.reload();
    await bob.waitForSelector(".chat[data-hydrated]");
    const bell = bob.getByRole("button", { name: "Turn on notifications" });
    await bell.waitFor();
    assert.equal(await bob.evaluate(() => Notification.permission), "default");
    assert.equal(
      await bob.evaluate(() => (globalThis as unknown as NoteWindow).permissionAsked),
      0,
      "never on load",
    );
    await bob.screenshot({ path: "/tmp/shots9/mentions/bell-1280-light.png" });
    await context.grantPermissions(["notifications"], { origin: w.server.url });
    await bell.click();
    const level = bob.getByLabel("Notify me in Elsewhere about");
    await level.waitFor();
    assert.equal(
      await bob.evaluate(() => (globalThis as unknown as NoteWindow).permissionAsked),
      1,
    );
    assert.equal(await level.inputValue(), "mentions");
    await bob.emulateMedia({ colorScheme: "dark" });
    await bob.screenshot({ path: "/tmp/shots9/mentions/bell-granted-1280-dark.png" });

    // The tab is hidden: a mention in general notifies; a plain message there does not.
    await bob.evaluate(() => {
      Object.defineProperty(document, "visibilityState", {
        configurable: true,
        get: () => "hidden",
      });
    });
    const notes = () =>
      bob.evaluate(() => (globalThis as unknown as NoteWindow).shownNotes as { title: string }[]);
    const adaName = await ada.locator(".my-name").innerText();
    await send(ada, "just chatting");
    await ada.locator(".message.sent:not(.pending) .body", { hasText: "just chatting" }).waitFor();
    await bob.waitForTimeout(1500);
    assert.deepEqual(await notes(), [], "mentions only: a plain message is quiet");
    await send(ada, "@bobby are you there?");
    await bob.waitForFunction(
      () => (globalThis as unknown as NoteWindow).shownNotes.length === 1,
      undefined,
      {
        timeout: 5000,
      },
    );
    assert.deepEqual(await notes(), [{
      title: `${adaName} mentioned you in #general`,
      body: "@bobby are you there?",
    }]);
    // Someone else writes right after a mention: the notification still names who mentioned.
    const app = w.server.app;
    const general = await app.chat.room("general");
    const adaMember = (await app.store.findCredentials("ada"))!.member;
    const eve = await app.store.createMember("Eve Later");
    await app.chat.send(adaMember, general, { body: "@bobby one more thing" }, true);
    await app.chat.send(eve, general, { body: "unrelated chatter" });
    await bob.waitForFunction(
      () => (globalThis as unknown as NoteWindow).shownNotes.length === 2,
      undefined,
      { timeout: 5000 },
    );
    assert.deepEqual((await notes())[1], {
      title: `${adaName} mentioned you in #general`,
      body: "@bobby one more thing",
    });
    // A direct message notifies too, under its author's name.
    await ada.evaluate(async (slug) => {
      await fetch(`/api/rooms/${slug}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ body: "psst" }),
      });
    }, dmSlug);
    await bob.waitForFunction(
      () => (globalThis as unknown as NoteWindow).shownNotes.length === 3,
      undefined,
      {
        timeout: 5000,
      },
    );
    assert.deepEqual((await notes())[2], { title: adaName, body: "psst" });
    // "Nothing" for this room (Elsewhere): ada's messages there stay quiet; then "All messages".
    await level.selectOption("none");
    await ada.goto(`${w.server.url}/rooms/elsewhere`);
    await ada.waitForSelector(".chat[data-hydrated]");
    await send(ada, "@bobby quiet please");
    await ada.locator(".message.sent:not(.pending) .body", { hasText: "quiet please" }).waitFor();
    await bob.waitForTimeout(1500);
    assert.equal((await notes()).length, 3, "nothing: no notification");
    await level.selectOption("all");
    await send(ada, "every word");
    await bob.waitForFunction(
      () => (globalThis as unknown as NoteWindow).shownNotes.length === 4,
      undefined,
      {
        timeout: 5000,
      },
    );
    assert.deepEqual((await notes())[3], { title: `${adaName} in #Elsewhere`, body: "every word" });
    assert.equal(
      await bob.evaluate(() => localStorage.getItem("parley:notify:elsewhere")),
      "all",
      "kept per room in this browser",
    );
    // Clicking the notification focuses the tab and opens its room.
    await bob.evaluate(() => {
      const notes = (globalThis as unknown as NoteWindow).shownNotes;
      notes.length = 0;
    });
    await send(ada, "@bobby click me");
    await bob.waitForFunction(() => (globalThis as unknown as NoteWindow).shownNotes.length === 1);
    await ada.goto(w.server.url);
    await send(ada, "@bobby back in general");
    await bob.waitForFunction(() => (globalThis as unknown as NoteWindow).shownNotes.length === 2);
    await bob.evaluate(() => (globalThis as unknown as NoteWindow).lastNote.onclick());
    await bob.waitForURL(`${w.server.url}/`);
    await bob.waitForSelector(".chat[data-hydrated]");
    await context.close();
  },
);

browserTest(
  "formatting: sent by one, formatted for the other; unsafe links stay text",
  async (w) => {
    const ada = await w.open({ viewport: { width: 1280, height: 800 } });
    const bob = await w.open({ viewport: { width: 1280, height: 800 } });
    let dialogs = 0;
    for (const page of [ada, bob]) page.on("dialog", (d) => (dialogs++, d.dismiss()));
    const source = "**Release** is _ready_ ~~maybe~~ :tada: see `deno task build`\n" +
      "> quoted line\n\n- one\n- two\n\n```ts\nconst longLine = " + '"' + "x".repeat(150) +
      '";\n```\n' +
      "[the docs](https://example.com/docs) [evil](javascript:alert(1)) ![img](http://example.com/i.png)";
    await send(ada, source);
    const body = bob.locator(".message.received .body", { hasText: "Release" });
    await body.waitFor();
    assert.equal(await body.locator("strong").innerText(), "Release");
    assert.equal(await body.locator("em").innerText(), "ready");
    assert.equal(await body.locator("del").innerText(), "maybe");
    assert.equal(await body.locator("p code").innerText(), "deno task build");
    assert.equal(await body.locator("blockquote").innerText(), "quoted line");
    assert.equal(await body.locator("ul li").count(), 2);
    assert.equal(await body.locator(".code-lang").innerText(), "ts");
    assert.match(await body.innerText(), /🎉/, "the shortcode became an emoji");
    const pre = body.locator("pre");
    assert.equal(
      await pre.evaluate((el) => getComputedStyle(el).fontFamily.includes("monospace")),
      true,
    );
    assert.ok(
      await pre.evaluate((el) => el.scrollWidth > el.clientWidth),
      "a long line scrolls sideways",
    );
    const links = body.locator("a");
    assert.equal(await links.count(), 1);
    assert.equal(await links.getAttribute("href"), "https://example.com/docs");
    assert.equal(await links.getAttribute("rel"), "noopener noreferrer nofollow ugc");
    assert.match(await body.innerText(), /\[evil\]\(javascript:alert\(1\)\)/);
    assert.match(await body.innerText(), /!\[img\]\(http:\/\/example\.com\/i\.png\)/);
    assert.equal(await bob.locator(".message img").count(), 0);

    // An edit shows the source, as stored (with the emoji it was sent with).
    await ada.locator(".message.sent:not(.pending) .body", { hasText: "Release" }).waitFor();
    await ada.locator(".composer textarea").press("ArrowUp");
    const editor = ada.locator(".editor textarea");
    await editor.waitFor();
    assert.equal(await editor.inputValue(), source.replace(":tada:", "🎉"));
    await editor.press("Escape");

    await Deno.mkdir("/tmp/shots9/formatting", { recursive: true });
    for (const scheme of ["light", "dark"] as const) {
      for (const [width, height] of [[1280, 800], [390, 844]]) {
        await bob.setViewportSize({ width, height });
        await bob.emulateMedia({ colorScheme: scheme });
        await bob.waitForTimeout(100);
        await bob.screenshot({ path: `/tmp/shots9/formatting/${scheme}-${width}.png` });
      }
    }
    assert.equal(dialogs, 0, "no script from a message ran");
  },
);

browserTest("typing indicator: shown to the other person, gone once sent", async (w) => {
  const ada = await w.open({ viewport: { width: 1280, height: 800 } });
  const bea = await w.open({ viewport: { width: 1280, height: 800 } });
  const adaName = await ada.locator(".my-name").innerText();
  await send(bea, "Anyone around?");
  await ada.locator(".message.received .body", { hasText: "Anyone around?" }).waitFor();
  const indicator = bea.locator(".typing-indicator");
  assert.equal(await indicator.getAttribute("aria-live"), "polite");
  assert.equal(await indicator.innerText(), "");

  const started = Date.now();
  await ada.locator(".composer textarea").pressSequentially("I am here");
  await bea.locator(".typing-indicator", { hasText: `${adaName} is typing…` }).waitFor({
    timeout: 2000,
  });
  assert.ok(Date.now() - started < 2500, "within 2 s of the first keystrokes");
  assert.equal(await ada.locator(".typing-indicator").innerText(), "", "never yourself");

  const shots = "/tmp/shots9/typing";
  await Deno.mkdir(shots, { recursive: true });
  for (const scheme of ["light", "dark"] as const) {
    for (const [width, height] of [[1280, 800], [390, 844]]) {
      await bea.setViewportSize({ width, height });
      await bea.emulateMedia({ colorScheme: scheme });
      await ada.locator(".composer textarea").pressSequentially(".");
      await indicator.filter({ hasText: "is typing…" }).waitFor();
      await bea.screenshot({ path: `${shots}/${scheme}-${width}.png` });
    }
  }

  await ada.press(".composer textarea", "Enter");
  await bea.locator(".message.received .body", { hasText: "I am here" }).waitFor();
  await bea.waitForFunction(
    () => document.querySelector(".typing-indicator")?.textContent === "",
    undefined,
    { timeout: 2000 },
  );
});

browserTest("room topic: set from the header, and from the menu on a phone", async (w) => {
  const ada = await w.open();
  await registerIn(ada, w.server.url, "ada");
  await ada.getByRole("button", { name: "Set topic" }).click();
  const field = ada.getByRole("textbox", { name: "Topic" });
  await field.fill("Release on Thursday");
  await field.press("Enter");
  await ada.locator(".room-title .topic", { hasText: "Release on Thursday" }).waitFor();
  assert.equal(
    await ada.getByRole("button", { name: "Set topic" }).evaluate((b) =>
      b === document.activeElement
    ),
    true,
    "focus returns to Set topic",
  );
  // Escape cancels without a change.
  await ada.getByRole("button", { name: "Set topic" }).click();
  await ada.getByRole("textbox", { name: "Topic" }).fill("never saved");
  await ada.getByRole("textbox", { name: "Topic" }).press("Escape");
  assert.equal(await ada.locator(".room-title .topic").innerText(), "Release on Thursday");

  // On a phone the action is in the header's menu; others see the topic.
  const phone = await w.browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await phone.newPage();
  await page.goto(`${w.server.url}/login`);
  await page.waitForSelector("island-root .account-page[data-hydrated]");
  await page.fill("input[name=username]", "ada");
  await page.fill("input[name=password]", "a long enough password");
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await page.waitForSelector(".chat[data-hydrated]");
  await page.locator(".room-title .topic", { hasText: "Release on Thursday" }).waitFor();
  await page.getByRole("button", { name: "Room and account menu" }).click();
  await page.getByRole("button", { name: "Set topic" }).click();
  await page.getByRole("textbox", { name: "Topic" }).fill("Moved to Friday");
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator(".room-title .topic", { hasText: "Moved to Friday" }).waitFor();
  const guest = await w.open();
  assert.equal(await guest.locator(".room-title .topic").innerText(), "Moved to Friday");
  assert.equal(await guest.getByRole("button", { name: "Set topic" }).count(), 0, "not for guests");
});

browserTest("the composer grows with wrapped text where CSS field-sizing is missing", async (w) => {
  // bypassCSP: the page's CSP refuses the inline style that switches field-sizing off.
  const context = await w.browser.newContext({
    viewport: { width: 390, height: 844 },
    bypassCSP: true,
  });
  // A browser without field-sizing (Firefox, Safari today): the script sizes the box.
  await context.addInitScript(() => {
    const supports = CSS.supports.bind(CSS);
    CSS.supports = ((...args: [string, string?]) =>
      /field-sizing/.test(args[0])
        ? false
        : supports(...(args as [string]))) as typeof CSS.supports;
    addEventListener("DOMContentLoaded", () => {
      const style = document.createElement("style");
      style.textContent = ".composer textarea { field-sizing: fixed !important; }";
      document.head.append(style);
    });
  });
  const page = await context.newPage();
  await page.goto(w.server.url);
  await page.waitForSelector(".chat[data-hydrated]");
  const box = page.locator("#composer-input");
  const before = (await box.boundingBox())!.height;
  await box.fill("word ".repeat(40));
  await page.waitForFunction((h) => {
    const el = document.querySelector<HTMLTextAreaElement>("#composer-input")!;
    return el.getBoundingClientRect().height > h + 20;
  }, before);
  await box.fill("");
  await page.waitForFunction((h) => {
    const el = document.querySelector<HTMLTextAreaElement>("#composer-input")!;
    return el.getBoundingClientRect().height <= h + 1;
  }, before);
});
