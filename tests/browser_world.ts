// The browser-test harness: Chromium (Playwright) against a fresh Parley, and the page helpers the browser tests share.
import assert from "node:assert/strict";
import { type Browser, chromium, type Page } from "playwright-core";
import axe from "axe-core";
import { startTestServer, type TestServer } from "./helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();
if (!hasChromium) console.log(`browser tests skipped: ${CHROMIUM} not found`);

/** A browser and a running Parley for one test. */
export interface World {
  browser: Browser;
  server: TestServer;
  dir: string;
  /** Opens the app as a new person (own cookies) and waits until the chat is live. */
  open(options?: { path?: string; viewport?: { width: number; height: number } }): Promise<Page>;
  /** Posts a message from the server side as a member (fast, no browser); returns its id. */
  post(memberId: number, body: string, replyTo?: number): Promise<number>;
}

/** A Deno test run with Chromium and a fresh server (skipped without Chromium). */
export function browserTest(
  name: string,
  fn: (world: World) => Promise<void>,
  env?: Record<string, string>,
) {
  Deno.test({
    name: `browser: ${name}`,
    ignore: !hasChromium,
    // Playwright keeps pipes and timers of its own between calls.
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const dir = await Deno.makeTempDir();
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      });
      const world: World = {
        browser,
        dir,
        server: await startTestServer({ sqlitePath: `${dir}/parley.db`, env }),
        async open(options = {}) {
          const context = await browser.newContext({
            viewport: options.viewport ?? { width: 1000, height: 700 },
          });
          const page = await context.newPage();
          page.on("pageerror", (error) => console.error("page error:", error.message));
          await page.goto(`${world.server.url}${options.path ?? "/"}`);
          await page.waitForSelector(".chat[data-hydrated]");
          return page;
        },
        async post(memberId, body, replyTo) {
          const app = world.server.app;
          const { message } = await app.store.addMessage({
            room: await app.chat.room("general"),
            authorId: memberId,
            body,
            clientId: crypto.randomUUID(),
            replyTo,
          });
          return message.id;
        },
      };
      try {
        await fn(world);
      } finally {
        await browser.close();
        await world.server.stop().catch(() => {});
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

/** Types `text` into the composer and sends it with Enter. */
export async function send(page: Page, text: string) {
  await page.fill(".composer textarea", text);
  await page.press(".composer textarea", "Enter");
}

/** The message bodies containing `text`. */
export function messages(page: Page, text: string) {
  return page.locator(".message .body", { hasText: text });
}

/** The conversation's scroll position and its maximum. */
export async function scrollState(page: Page) {
  return await page.$eval(".conversation", (el) => ({
    top: el.scrollTop,
    max: el.scrollHeight - el.clientHeight,
  }));
}

/** Asserts that no message is shown twice; returns how many are shown. */
export async function idsAreUnique(page: Page) {
  const ids = await page.$$eval(".message[data-id]", (els) => els.map((e) => e.dataset.id));
  assert.equal(new Set(ids).size, ids.length, "no message is shown twice");
  return ids.length;
}

/** Registers `username` on the login page at `url`. */
export async function registerIn(page: Page, url: string, username: string) {
  await page.goto(`${url}/login`);
  await page.waitForSelector("island-root .account-page[data-hydrated]");
  await page.fill("input[name=new-username]", username);
  await page.fill("input[name=new-password]", "a long enough password");
  await page.getByRole("button", { name: "Create account" }).click();
  // Attached: on phones the account links are in the header's closed menu.
  await page.locator(".account-links .username", { hasText: `@${username}` }).waitFor({
    state: "attached",
  });
}

/** The `<li>` of the message whose text contains `text`. */
export function item(page: Page, text: string) {
  return page.locator(".message[data-id]", { has: page.locator(".body", { hasText: text }) });
}

/** Clicks one of a message's actions (shown on hover; on touch screens behind a "⋯" button). */
export async function act(page: Page, text: string, action: "reply" | "react" | "edit" | "delete") {
  const li = item(page, text);
  const toggle = li.locator(".actions-toggle");
  if (!await toggle.isVisible()) await li.hover();
  else if (await toggle.getAttribute("aria-expanded") !== "true") await toggle.click();
  await li.locator(`.action.${action}`).click();
}

/** The member id of the page's reader. */
export async function memberId(page: Page): Promise<number> {
  return await page.evaluate(async () => (await (await fetch("/api/me")).json()).id);
}

/** Runs axe-core in the page and returns its violations, naming the rule and the elements. */
export async function axeViolations(page: Page, label: string): Promise<string[]> {
  const source = (axe as unknown as { source: string }).source;
  if (!await page.evaluate(() => "axe" in globalThis)) await page.addScriptTag({ content: source });
  const violations = await page.evaluate(async () => {
    // deno-lint-ignore no-explicit-any
    const result = await (globalThis as any).axe.run(document);
    return result.violations.map((v: { id: string; nodes: { target: string[] }[] }) =>
      `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`
    );
  });
  return violations.map((v: string) => `${label}: ${v}`);
}
