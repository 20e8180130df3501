// Browser tests of the admin page: the ban and delete-all-messages flows, access, axe-core and screenshots.
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { axeViolations, browserTest, registerIn, send, type World } from "./browser_world.ts";

const SHOTS = "/tmp/shots11/admin";

/** A new person (own cookies) registered as `username`, on the chat page. */
async function person(
  browser: Browser,
  w: World,
  username: string,
  options: { viewport?: { width: number; height: number }; colorScheme?: "light" | "dark" } = {},
): Promise<Page> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1200, height: 800 },
    colorScheme: options.colorScheme,
    // The page allows only its own scripts; axe is injected by the test.
    bypassCSP: true,
  });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error("page error:", error.message));
  await registerIn(page, w.server.url, username);
  await page.waitForSelector(".chat[data-hydrated]");
  return page;
}

async function openAdmin(page: Page, w: World) {
  await page.goto(`${w.server.url}/admin`);
  await page.waitForSelector(".admin-page[data-hydrated]");
}

browserTest("admin page: banning a member ends their session and is logged", async (w) => {
  const admin = await person(w.browser, w, "boss");
  const bob = await person(w.browser, w, "bob");
  await send(bob, "hello from bob");
  await bob.locator(".message.sent:not(.pending)", { hasText: "hello from bob" }).waitFor();

  await openAdmin(admin, w);
  const row = admin.locator("tr", { has: admin.locator("th", { hasText: "@bob" }) });
  await row.getByRole("button", { name: /^Ban / }).click();
  const dialog = admin.getByRole("dialog", { name: /Ban/ });
  await dialog.waitFor();
  assert.equal(
    await admin.evaluate(() => document.activeElement?.textContent),
    "Cancel",
    "focus starts on Cancel",
  );
  await dialog.getByRole("button", { name: "Ban", exact: true }).click();
  await admin.locator(".admin-status", { hasText: "is banned" }).waitFor();
  await row.locator(".admin-badge", { hasText: "Banned" }).waitFor();
  await admin.locator(".admin-audit li", { hasText: "banned" }).waitFor();

  // Bob's open page: the very next request has no session.
  const status = await bob.evaluate(async () => (await fetch("/api/me")).status);
  assert.equal(status, 401);
  const login = await bob.evaluate(async () => {
    const response = await fetch("/api/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "bob", password: "a long enough password" }),
    });
    return { status: response.status, body: await response.json() };
  });
  assert.equal(login.status, 403);
  assert.equal(login.body.error.code, "banned");

  await row.getByRole("button", { name: /^Unban / }).click();
  await admin.locator(".admin-status", { hasText: "no longer banned" }).waitFor();
  assert.equal(await row.locator(".admin-badge").count(), 0);
});

browserTest("admin page: deleting all messages of a member, seen live by readers", async (w) => {
  const admin = await person(w.browser, w, "boss");
  const bob = await person(w.browser, w, "bob");
  const reader = await person(w.browser, w, "cyd");
  await send(bob, "first from bob");
  await send(bob, "second from bob");
  await send(reader, "cy stays");
  await reader.locator(".message .body", { hasText: "second from bob" }).waitFor();

  await openAdmin(admin, w);
  const row = admin.locator("tr", { has: admin.locator("th", { hasText: "@bob" }) });
  await row.getByRole("button", { name: /^Delete all messages of / }).click();
  const dialog = admin.getByRole("dialog", { name: /Delete all messages/ });
  await dialog.getByRole("button", { name: "Delete all messages" }).click();
  await admin.locator(".admin-status", { hasText: "2 messages of" }).waitFor();
  await admin.locator(".admin-audit li", { hasText: "deleted all messages of" }).waitFor();

  // The reader's open page shows the tombstones without a reload.
  await reader.locator(".message .body", { hasText: "first from bob" }).waitFor({
    state: "detached",
  });
  await reader.locator(".message .body", { hasText: "second from bob" }).waitFor({
    state: "detached",
  });
  assert.equal(await reader.locator(".message .tombstone").count(), 2);
  assert.equal(await reader.locator(".message .body", { hasText: "cy stays" }).count(), 1);
});

browserTest("admin page: archive and delete a room, typing its name", async (w) => {
  const admin = await person(w.browser, w, "boss");
  const created = await admin.evaluate(async () => {
    const response = await fetch("/api/rooms", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "attic" }),
    });
    return await response.json();
  });
  await openAdmin(admin, w);
  const row = admin.locator(`tr[data-room="${created.slug}"]`);
  await row.getByRole("button", { name: "Archive #attic" }).click();
  await admin.getByRole("dialog").getByRole("button", { name: "Archive" }).click();
  await row.locator(".admin-sub", { hasText: "archived" }).waitFor();

  // A member opening the archived room reads it, with a notice where the composer was.
  const bob = await person(w.browser, w, "bob", { viewport: { width: 390, height: 800 } });
  await bob.goto(`${w.server.url}/rooms/${created.slug}`);
  await bob.waitForSelector(".chat[data-hydrated]");
  await bob.getByRole("status").filter({ hasText: "This room is archived" }).waitFor();
  assert.equal(await bob.locator(".composer textarea").count(), 0, "no composer");
  await bob.screenshot({ path: `${SHOTS}/archived-room-phone.png` });
  await bob.emulateMedia({ colorScheme: "dark" });
  await bob.screenshot({ path: `${SHOTS}/archived-room-phone-dark.png` });
  const cyd = await person(w.browser, w, "cyd", { colorScheme: "dark" });
  await cyd.goto(`${w.server.url}/rooms/${created.slug}`);
  await cyd.waitForSelector(".chat[data-hydrated]");
  await cyd.getByRole("status").filter({ hasText: "This room is archived" }).waitFor();
  assert.deepEqual(await axeViolations(cyd, "archived room"), []);
  assert.equal(await cyd.getByRole("button", { name: /topic/i }).count(), 0, "no topic editor");
  await cyd.screenshot({ path: `${SHOTS}/archived-room-desktop-dark.png` });
  await cyd.emulateMedia({ colorScheme: "light" });
  await cyd.screenshot({ path: `${SHOTS}/archived-room-desktop.png` });
  await cyd.goto(`${w.server.url}/rooms/general`);
  await cyd.waitForSelector(".chat[data-hydrated]");
  assert.equal(await cyd.getByRole("button", { name: /topic/i }).count(), 1, "as elsewhere");

  await row.getByRole("button", { name: "Delete #attic" }).click();
  const dialog = admin.getByRole("dialog", { name: /Delete #attic/ });
  await dialog.getByRole("button", { name: "Delete the room" }).click();
  await dialog.getByRole("alert").filter({ hasText: "Type" }).waitFor();
  assert.ok(await dialog.isVisible(), "not deleted without the name");
  await dialog.getByLabel(/Type .* to confirm/).fill(created.slug);
  await dialog.getByRole("button", { name: "Delete the room" }).click();
  await admin.locator(".admin-status", { hasText: "is deleted" }).waitFor();
  assert.equal(await row.count(), 0);
  assert.equal(await w.server.app.store.getRoom(created.slug), null);
});

browserTest("admin page: others get the 404 page or the login page", async (w) => {
  await person(w.browser, w, "boss");
  const member = await person(w.browser, w, "bob");
  const answer = await member.goto(`${w.server.url}/admin`);
  assert.equal(answer?.status(), 404);
  const guest = await (await w.browser.newContext()).newPage();
  await guest.goto(`${w.server.url}/admin`);
  assert.match(new URL(guest.url()).pathname + new URL(guest.url()).search, /^\/login\?next=/);
});

browserTest("admin page: axe-core finds nothing; screenshots on desktop and phone", async (w) => {
  await Deno.mkdir(SHOTS, { recursive: true });
  const found: string[] = [];
  let n = 0;
  const store = w.server.app.store;
  for (const viewport of [{ width: 1280, height: 900 }, { width: 390, height: 844 }]) {
    for (const colorScheme of ["light", "dark"] as const) {
      const size = `${viewport.width < 700 ? "phone" : "desktop"}-${colorScheme}`;
      const page = await person(w.browser, w, `admin${n++}`, { viewport, colorScheme });
      if (n === 1) {
        // Something to show: a guest with messages, a banned one, an invitation, audit entries.
        const guest = await store.createMember("Quiet Guest");
        await w.post(guest.id, "a guest's message");
        const banned = await store.createMember("Spammer");
        await w.post(banned.id, "buy now");
        await page.evaluate(async (id) => {
          await fetch(`/api/admin/members/${id}/ban`, { method: "POST" });
          await fetch("/api/invites", { method: "POST" });
        }, banned.id);
      } else {
        // Later pages: made admins by the first, so every color scheme shows the page.
        const me = await page.evaluate(async () => (await (await fetch("/api/me")).json()).id);
        await store.setAdmin(me, true);
      }
      await openAdmin(page, w);
      found.push(...await axeViolations(page, `admin ${size}`));
      await page.screenshot({ path: `${SHOTS}/${size}.png`, fullPage: true });
      await page.screenshot({ path: `${SHOTS}/${size}-top.png` });
      await page.locator("tr", { hasText: "Quiet Guest" }).getByRole("button", {
        name: /^Delete all messages of /,
      }).click();
      await page.getByRole("dialog").waitFor();
      found.push(...await axeViolations(page, `admin dialog ${size}`));
      await page.screenshot({ path: `${SHOTS}/${size}-confirm.png` });
      await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
      await page.context().close();
    }
  }
  assert.deepEqual(found, [], "axe-core violations");
});
