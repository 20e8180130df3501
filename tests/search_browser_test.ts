// Browser tests of message search: the header's search box, its hits, and opening a room at one.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import type { Room } from "../db/store.ts";
import {
  axeViolations,
  browserTest,
  idsAreUnique,
  item,
  messages,
  type World,
} from "./browser_world.ts";

const SHOTS = "/tmp/shots10/search";

/** Posts `body` into `room` from the server side; returns the message's id. */
async function postIn(w: World, room: Room, authorId: number, body: string): Promise<number> {
  const { message } = await w.server.app.store.addMessage({
    room,
    authorId,
    body,
    clientId: crypto.randomUUID(),
  });
  return message.id;
}

/** Creates a room as `owner` (who is its first member). */
async function roomOf(
  w: World,
  owner: number,
  slug: string,
  kind: "public" | "private",
): Promise<Room> {
  const store = w.server.app.store;
  const room = await store.createRoom({ slug, name: slug, topic: "", kind, createdBy: owner });
  assert.ok(room);
  await store.addRoomMember(room.id, owner);
  return room;
}

/** The search field. */
function field(page: Page) {
  return page.getByRole("combobox", { name: "Search messages" });
}

/** The hits shown in the popup. */
function hits(page: Page) {
  return page.locator(".search-popup [role=option].search-hit");
}

/** Whether the element is the page's focused element. */
async function focused(locator: ReturnType<Page["locator"]>): Promise<boolean> {
  return await locator.evaluate((el) => el === document.activeElement);
}

/** Asserts that the message with `id` is shown, outlined as the target, focused and in view. */
async function landedOn(page: Page, id: number) {
  const target = page.locator(`.message[data-id="${id}"]`);
  await target.waitFor();
  await page.locator(`.message.target[data-id="${id}"]`).waitFor({ timeout: 3000 });
  assert.ok(await focused(target), "focus moved to the message");
  const outline = await target.evaluate((el) => getComputedStyle(el).outlineStyle);
  assert.equal(outline, "solid", "a visible outline");
  const box = (await target.boundingBox())!;
  const view = (await page.locator(".conversation").boundingBox())!;
  assert.ok(
    box.y >= view.y && box.y + box.height <= view.y + view.height,
    `in view: ${box.y}..${box.y + box.height} within ${view.y}..${view.y + view.height}`,
  );
}

/** Scrolls to the bottom until `text` is loaded, then to the top until the first page is. */
async function pageBothWays(page: Page, last: string, roomName: string) {
  for (let i = 0; i < 12 && await messages(page, last).count() === 0; i++) {
    await page.$eval(".conversation", (el) => el.scrollTop = el.scrollHeight);
    await page.waitForTimeout(300);
  }
  await messages(page, last).waitFor();
  await page.locator(".history-edge", { hasText: "Load newer" }).waitFor({ state: "detached" });
  for (let i = 0; i < 12 && await page.locator(".history-edge button").count() > 0; i++) {
    await page.$eval(".conversation", (el) => el.scrollTop = 0);
    await page.waitForTimeout(300);
  }
  await page.locator(".history-edge", { hasText: `This is the beginning of #${roomName}.` })
    .waitFor();
}

browserTest(
  "search: type, see highlighted hits, keyboard to a hit in a room scrolled elsewhere, land on the message",
  async (w) => {
    await Deno.mkdir(SHOTS, { recursive: true });
    const store = w.server.app.store;
    const grace = await store.createMember("Grace Hopper");
    const linus = await store.createMember("Linus");
    // #general: 200 messages, two of them about the zebracorn.
    const ids: number[] = [];
    for (let i = 0; i < 200; i++) {
      const body = i === 30
        ? "The Zebracorn checklist for Friday is ready"
        : i === 170
        ? "zebracorn follow-up: all done"
        : `history ${i}`;
      ids.push(await w.post(i % 3 === 0 ? linus.id : grace.id, body));
    }
    const checklist = ids[30];
    // #random: an old zebracorn and a Japanese message, 60 messages in all.
    const random = await roomOf(w, grace.id, "random", "public");
    let inRandom = 0;
    for (let i = 0; i < 60; i++) {
      const body = i === 5
        ? "a zebracorn wandered into random"
        : i === 8
        ? "明日は東京タワーで会いましょう"
        : `random ${i}`;
      const id = await postIn(w, random, grace.id, body);
      if (i === 5) inRandom = id;
    }
    // A private room the reader is not in.
    const secret = await roomOf(w, grace.id, "secret-plans", "private");
    await postIn(w, secret, grace.id, "the secret zebracorn plans");

    const context = await w.browser.newContext({
      viewport: { width: 1280, height: 800 },
      bypassCSP: true, // axe is injected by the test
    });
    const page = await context.newPage();
    page.on("pageerror", (error) => console.error("page error:", error.message));
    await page.goto(w.server.url);
    await page.waitForSelector(".chat[data-hydrated]");
    await page.screenshot({ path: `${SHOTS}/header-1280-light.png`, clip: headerClip(1280) });

    // Scrolled elsewhere: an older page loaded above, the reader up there.
    await page.$eval(".conversation", (el) => el.scrollTop = 0);
    await page.waitForFunction(() => document.querySelectorAll(".message").length >= 100);
    await page.locator(".conversation").focus();
    // The page stays the same document through a jump in the same room.
    await page.evaluate(() => (globalThis as unknown as { samePage: boolean }).samePage = true);

    // `/` from outside a text field goes to the search.
    await page.keyboard.press("/");
    assert.ok(await focused(field(page)), "/ focuses the search");
    assert.equal(await field(page).inputValue(), "", "the / is not typed");
    await page.keyboard.type("zebra");
    await hits(page).first().waitFor();
    await page.waitForFunction(() => document.querySelectorAll(".search-hit").length === 3);
    assert.equal(await field(page).getAttribute("aria-expanded"), "true");
    const texts = await hits(page).locator(".hit-text").allInnerTexts();
    assert.deepEqual(texts, [
      "a zebracorn wandered into random",
      "zebracorn follow-up: all done",
      "The Zebracorn checklist for Friday is ready",
    ], "newest first; the private room's message is not found by a non-member");
    assert.deepEqual(await hits(page).locator(".hit-room").allInnerTexts(), [
      "#random",
      "#general",
      "#general",
    ]);
    assert.deepEqual(await hits(page).locator(".hit-author").allInnerTexts(), [
      "Grace Hopper",
      "Grace Hopper",
      "Linus",
    ]);
    for (const date of await hits(page).locator(".hit-date").allInnerTexts()) {
      assert.match(date, /^Today, \d{1,2}:\d{2}/, "the chat's day label and clock");
    }
    const marks = await hits(page).locator("mark").allInnerTexts();
    assert.equal(marks.length, 3, "one match marked in each");
    for (const mark of marks) assert.match(mark, /^zebra/i);
    assert.equal(await hits(page).locator("b, strong, script, img").count(), 0);

    found(await axeViolations(page, "results open, light"));
    await page.screenshot({ path: `${SHOTS}/results-1280-light.png` });
    await page.emulateMedia({ colorScheme: "dark" });
    found(await axeViolations(page, "results open, dark"));
    await page.screenshot({ path: `${SHOTS}/results-1280-dark.png` });
    await page.emulateMedia({ colorScheme: "light" });

    // Arrow keys move through the hits (the field keeps focus), Enter opens one.
    await page.keyboard.press("ArrowDown");
    const active = async () =>
      await page.evaluate(() => {
        const input = document.getElementById("message-search")!;
        const id = input.getAttribute("aria-activedescendant");
        return id ? document.getElementById(id)?.querySelector(".hit-text")?.textContent : null;
      });
    assert.equal(await active(), "a zebracorn wandered into random");
    await page.keyboard.press("ArrowUp");
    assert.equal(await active(), null, "back on the field");
    await page.keyboard.press("ArrowUp");
    assert.match(String(await active()), /checklist/, "up from the field: the last hit");
    assert.equal(
      await page.locator("[role=option][aria-selected=true]").count(),
      1,
      "one option selected",
    );
    assert.ok(await focused(field(page)), "focus stays in the field");
    await page.keyboard.press("Enter");
    // A hit in this room: the history around it, no page load.
    await landedOn(page, checklist);
    assert.equal(await page.locator(".search-popup").count(), 0, "the popup closed");
    assert.ok(await page.evaluate(() => "samePage" in globalThis), "no page load");
    assert.equal(await messages(page, "history 199").count(), 0, "a page around it");
    await page.locator(".new-messages-pill", { hasText: "Jump to latest" }).waitFor();

    // Down to the live end (live following again), then up to the beginning.
    await pageBothWays(page, "history 199", "general");
    await w.post(grace.id, "live after the search");
    await messages(page, "live after the search").waitFor({ timeout: 3000 });
    assert.equal(await idsAreUnique(page), 201);
    const bodies = await page.$$eval(".message .body", (els) => els.map((e) => e.textContent));
    assert.equal(bodies[30], "The Zebracorn checklist for Friday is ready");
    assert.equal(bodies.at(-1), "live after the search");
    assert.deepEqual(bodies.slice(0, 3), ["history 0", "history 1", "history 2"]);

    // Ctrl+K from the conversation; a hit in another room opens that room at it.
    await page.locator(".conversation").focus();
    await page.keyboard.press("Control+k");
    assert.ok(await focused(field(page)), "Ctrl+K focuses the search");
    assert.equal(
      await field(page).evaluate((el: HTMLInputElement) => el.selectionEnd! - el.selectionStart!),
      5,
      "the previous search is selected, to type over",
    );
    // Coming back shows the hits of the search before.
    await hits(page).first().waitFor();
    await page.keyboard.press("ArrowDown");
    assert.equal(await active(), "a zebracorn wandered into random");
    await Promise.all([
      page.waitForURL(`${w.server.url}/rooms/random?at=${inRandom}`),
      page.keyboard.press("Enter"),
    ]);
    await page.waitForSelector(".chat[data-hydrated]");
    await landedOn(page, inRandom);
    await page.screenshot({ path: `${SHOTS}/landed-1280-light.png` });
    assert.equal(await messages(page, "random 59").count(), 0, "the history around it");
    await pageBothWays(page, "random 59", "random");
    assert.equal(await idsAreUnique(page), 60);
    await postIn(w, random, grace.id, "live in random");
    await messages(page, "live in random").waitFor({ timeout: 3000 });

    // A Japanese word finds the Japanese message (no spaces between words).
    await field(page).click();
    await field(page).fill("東京");
    await hits(page).first().waitFor();
    assert.equal(await hits(page).count(), 1);
    assert.equal(await hits(page).locator("mark").innerText(), "東京");
    assert.equal(
      await hits(page).locator(".hit-text").innerText(),
      "明日は東京タワーで会いましょう",
    );

    // Nothing found, and Escape: first closes the popup, then empties the field.
    await field(page).fill("qwxyzzy");
    await page.locator(".search-note", { hasText: "No messages match" }).waitFor();
    assert.equal(await field(page).getAttribute("aria-expanded"), "false", "no list to expand");
    await page.keyboard.press("Escape");
    assert.equal(await page.locator(".search-popup").count(), 0);
    assert.equal(await field(page).inputValue(), "qwxyzzy");
    await page.keyboard.press("Escape");
    assert.equal(await field(page).inputValue(), "");

    // Many hits come a page at a time: "Load more" (the last option) adds the next page.
    await page.goto(w.server.url);
    await page.waitForSelector(".chat[data-hydrated]");
    await field(page).click();
    await page.keyboard.type("history");
    await page.locator(".search-more").waitFor();
    const first = await hits(page).count();
    assert.ok(first > 0 && first < 198, `a first page: ${first}`);
    await page.keyboard.press("ArrowUp");
    assert.equal(
      await field(page).getAttribute("aria-activedescendant"),
      "message-search-more",
    );
    await page.keyboard.press("Enter");
    await page.waitForFunction((n) => document.querySelectorAll(".search-hit").length > n, first);
    const more = await hits(page).locator(".hit-text").allInnerTexts();
    assert.equal(new Set(more).size, more.length, "no hit twice");
    assert.deepEqual(more.slice(0, 2), ["history 199", "history 198"]);

    // A failing server: a sentence, not a blank popup.
    await page.route("**/api/search?*", (route) =>
      route.fulfill({
        status: 500,
        contentType: "application/json",
        body: JSON.stringify({ error: { code: "internal", message: "boom" } }),
      }));
    await field(page).fill("zebra");
    await page.locator(".search-note.error", { hasText: "Search is not available" }).waitFor();
    await context.close();

    function found(violations: string[]) {
      assert.deepEqual(violations, [], "axe-core violations");
    }
  },
);

/** The top of the page: the header with the search box. */
function headerClip(width: number) {
  return { x: 0, y: 0, width, height: 160 };
}

browserTest("search: screenshots and axe-core on desktop and phone, light and dark", async (w) => {
  await Deno.mkdir(SHOTS, { recursive: true });
  const store = w.server.app.store;
  const grace = await store.createMember("Grace Hopper");
  let target = 0;
  for (let i = 0; i < 120; i++) {
    const body = i === 20
      ? "Reminder: the **deploy** window opens at nine; deploy notes are in the wiki, " +
        "and the rollback plan is attached to last week's thread. ".repeat(3)
      : i % 25 === 0
      ? `deploy step ${i} done`
      : `history ${i}`;
    const id = await w.post(grace.id, body);
    if (i === 20) target = id;
  }
  const found: string[] = [];
  for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
    for (const colorScheme of ["light", "dark"] as const) {
      const size = `${viewport.width}-${colorScheme}`;
      const context = await w.browser.newContext({ viewport, colorScheme, bypassCSP: true });
      const page = await context.newPage();
      page.on("pageerror", (error) => console.error("page error:", error.message));
      await page.goto(w.server.url);
      await page.waitForSelector(".chat[data-hydrated]");
      await page.screenshot({
        path: `${SHOTS}/header-${size}.png`,
        clip: headerClip(viewport.width),
      });
      found.push(...await axeViolations(page, `closed ${size}`));

      await field(page).click();
      await page.keyboard.type("depl");
      await page.waitForFunction(() => document.querySelectorAll(".search-hit").length >= 4);
      found.push(...await axeViolations(page, `open ${size}`));
      await page.keyboard.press("ArrowDown");
      await page.keyboard.press("ArrowDown");
      found.push(...await axeViolations(page, `open, one chosen ${size}`));
      await page.screenshot({ path: `${SHOTS}/results-${size}.png` });
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= viewport.width, `no sideways scrolling (${width}px)`);
      const popup = (await page.locator(".search-popup").boundingBox())!;
      assert.ok(popup.x >= 0 && popup.x + popup.width <= viewport.width, "the popup fits");
      if (viewport.width < 700) {
        assert.ok(popup.width >= viewport.width - 2, "full width on a phone");
        const box = (await field(page).boundingBox())!;
        assert.ok(box.width > viewport.width / 2, "the field opens wide on a phone");
      }
      // The long message shows as an excerpt around its first match.
      const long = hits(page).filter({ hasText: "Reminder" });
      const excerpt = await long.locator(".hit-text").innerText();
      assert.ok(excerpt.endsWith("…"), excerpt);
      const marks = await long.locator("mark").allInnerTexts();
      assert.equal(marks.length, 2, "both matches in the excerpt marked");
      for (const mark of marks) assert.match(mark, /^depl/i);

      await Promise.all([
        page.waitForSelector(`.message.target[data-id="${target}"]`),
        long.click(),
      ]);
      await landedOn(page, target);
      await page.screenshot({ path: `${SHOTS}/landed-${size}.png` });
      found.push(...await axeViolations(page, `landed ${size}`));
      await context.close();
    }
  }
  assert.deepEqual(found, [], "axe-core violations");
});

browserTest("search: opening a room at a message someone linked loads around it", async (w) => {
  const grace = (await w.server.app.store.createMember("Grace Hopper")).id;
  let target = 0;
  for (let i = 0; i < 150; i++) {
    const id = await w.post(grace, `history ${i}`);
    if (i === 10) target = id;
  }
  const page = await w.open({ path: `/rooms/general?at=${target}` });
  await landedOn(page, target);
  assert.equal(await messages(page, "history 149").count(), 0);
  assert.ok(await item(page, "history 10").isVisible());
  // An unknown message opens the latest page, as usual.
  const latest = await w.open({ path: `/rooms/general?at=999999` });
  await messages(latest, "history 149").waitFor();
  assert.equal(await latest.locator(".message.target").count(), 0);
});
