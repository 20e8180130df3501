// Browser tests of files and images: paste, drop and the attach button, chips with progress, cancel and errors, inline images with previews, file cards, the viewer.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { Buffer } from "node:buffer";
import { axeViolations, browserTest, type World } from "./browser_world.ts";
import { formatSize, uploadError } from "../client/uploads.ts";
import { fitInto, shownSize } from "../components/attachments.tsx";
import type { Attachment } from "../db/store.ts";

/** Where screenshots go when `PARLEY_SHOTS` names a folder (e.g. /tmp/shots10/files). */
const SHOTS = Deno.env.get("PARLEY_SHOTS");

/** What the page makes a file from: a drawn image, or bytes. */
type FileSpec =
  | { name: string; image: { width: number; height: number; type: string; orientation?: number } }
  | { name: string; bytes: string; type: string }
  | { name: string; randomBytes: number; type: string };

/**
 * Makes `spec` into a `File` inside the page and keeps it in `globalThis.testFiles`. Images are
 * drawn on a canvas; an `orientation` adds an EXIF block saying how to turn the picture.
 */
async function makeFiles(page: Page, specs: FileSpec[]) {
  await page.evaluate(async (specs) => {
    const files: File[] = [];
    for (const spec of specs) {
      if ("image" in spec) {
        const { width, height, type, orientation } = spec.image;
        const canvas = new OffscreenCanvas(width, height);
        const g = canvas.getContext("2d")!;
        const gradient = g.createLinearGradient(0, 0, width, height);
        gradient.addColorStop(0, "#4f46e5");
        gradient.addColorStop(0.6, "#0ea5e9");
        gradient.addColorStop(1, "#f59e0b");
        g.fillStyle = gradient;
        g.fillRect(0, 0, width, height);
        g.fillStyle = "rgb(255 255 255 / 0.85)";
        g.beginPath();
        g.arc(width * 0.3, height * 0.4, Math.min(width, height) * 0.18, 0, Math.PI * 2);
        g.fill();
        g.fillStyle = "#111827";
        g.fillRect(width * 0.55, height * 0.6, width * 0.3, height * 0.25);
        const blob = await canvas.convertToBlob({ type, quality: 0.92 });
        let bytes = new Uint8Array(await blob.arrayBuffer());
        if (orientation) {
          // An APP1 "Exif" block right after the JPEG's start: one IFD entry, Orientation.
          const tiff = [0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1];
          const payload = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff, 0, orientation, 0, 0, 0, 0, 0, 0];
          const app1 = [0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 255];
          const out = new Uint8Array(bytes.length + app1.length + payload.length);
          out.set(bytes.subarray(0, 2));
          out.set([...app1, ...payload], 2);
          out.set(bytes.subarray(2), 2 + app1.length + payload.length);
          bytes = out;
        }
        files.push(new File([bytes], spec.name, { type }));
      } else if ("bytes" in spec) {
        files.push(new File([spec.bytes], spec.name, { type: spec.type }));
      } else {
        const bytes = new Uint8Array(spec.randomBytes);
        for (let i = 0; i < bytes.length; i += 65536) {
          crypto.getRandomValues(bytes.subarray(i, i + 65536));
        }
        files.push(new File([bytes], spec.name, { type: spec.type }));
      }
    }
    (globalThis as unknown as { testFiles: File[] }).testFiles = files;
  }, specs);
}

/**
 * Opens the app as a new person like `World.open`, with the page's CSP bypassed so that the
 * test can inject axe-core.
 */
async function openForAxe(w: World): Promise<Page> {
  const context = await w.browser.newContext({
    viewport: { width: 1000, height: 700 },
    bypassCSP: true,
  });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error("page error:", error.message));
  await page.goto(w.server.url);
  await page.waitForSelector(".chat[data-hydrated]");
  return page;
}

/** Pastes the files made by {@link makeFiles} into the composer. */
async function paste(page: Page) {
  await page.evaluate(() => {
    const data = new DataTransfer();
    for (const file of (globalThis as unknown as { testFiles: File[] }).testFiles) {
      data.items.add(file);
    }
    const area = document.querySelector(".composer textarea")!;
    area.dispatchEvent(
      new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }),
    );
  });
}

/** Drags the files made by {@link makeFiles} over the conversation (then drops them, unless not). */
async function drag(page: Page, type: "dragenter" | "drop") {
  await page.evaluate((type) => {
    const world = globalThis as unknown as { testFiles: File[]; dragged?: DataTransfer };
    if (!world.dragged) {
      world.dragged = new DataTransfer();
      for (const file of world.testFiles) world.dragged.items.add(file);
    }
    const target = document.querySelector(".conversation .messages") ??
      document.querySelector(".conversation")!;
    const types = type === "drop" ? ["dragover", "drop"] : ["dragenter", "dragover"];
    for (const name of types) {
      target.dispatchEvent(
        new DragEvent(name, { dataTransfer: world.dragged, bubbles: true, cancelable: true }),
      );
    }
    if (type === "drop") world.dragged = undefined;
  }, type);
}

/** Waits until every chip in the composer is uploaded (or failed). */
async function uploadsSettled(page: Page) {
  await page.waitForFunction(() =>
    document.querySelectorAll(".upload-chip").length > 0 &&
    document.querySelectorAll(".upload-chip.uploading, .upload-chip.preview").length === 0
  );
}

/** Sends what the composer holds with Enter. */
async function pressEnter(page: Page) {
  await page.press(".composer textarea", "Enter");
}

/** The attachments the server stored with the newest message of `general`. */
async function lastAttachments(
  server: { app: { store: { listMessages: unknown }; chat: { room: unknown } } },
): Promise<Attachment[]> {
  // deno-lint-ignore no-explicit-any
  const app = server.app as any;
  const room = await app.chat.room("general");
  const page = await app.store.listMessages(room, { limit: 1 });
  return page.messages.at(-1)?.attachments ?? [];
}

async function shot(page: Page, name: string) {
  if (!SHOTS) return;
  await Deno.mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${name}.png` });
}

/** Limits upload speed (Chromium's network emulation) so that progress can be watched. */
async function throttleUploads(page: Page, bytesPerSecond: number) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
  return async () => {
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
  };
}

Deno.test("sizes and upload errors read well", () => {
  assert.equal(formatSize(1), "1 byte");
  assert.equal(formatSize(812), "812 bytes");
  assert.equal(formatSize(4300), "4.2 KB");
  assert.equal(formatSize(25 * 1024 * 1024), "25 MB");
  assert.equal(formatSize(1536 * 1024 * 1024), "1.5 GB");
  assert.equal(
    uploadError("photo.png", { status: 413, body: "" }, 25 * 1024 * 1024),
    "photo.png is too big (max 25 MB).",
  );
  assert.equal(
    uploadError("photo.png", {
      status: 413,
      body: JSON.stringify({ error: { code: "file_too_large", message: "At most 1 MB." } }),
    }),
    "photo.png is too big. At most 1 MB.",
  );
  assert.equal(
    uploadError("a.txt", {
      status: 429,
      body: JSON.stringify({ error: { code: "upload_quota", message: "Daily quota used." } }),
      retryAfter: "3600",
    }),
    "a.txt was not uploaded: Daily quota used. Try again in 60 min.",
  );
  assert.equal(
    uploadError("a.txt", { status: 0, body: "" }),
    "a.txt could not be uploaded: no connection.",
  );
  assert.equal(
    uploadError("a.txt", { status: 400, body: '{"error":{"code":"empty_file"}}' }),
    "a.txt is empty.",
  );
});

Deno.test("inline images keep their aspect ratio, fitted and never enlarged", () => {
  assert.deepEqual(fitInto(3000, 2000, { width: 400, height: 320 }), { width: 400, height: 267 });
  assert.deepEqual(fitInto(2000, 3000, { width: 400, height: 320 }), { width: 213, height: 320 });
  assert.deepEqual(fitInto(64, 48, { width: 400, height: 320 }), { width: 64, height: 48 });
  const file = {
    width: 3000,
    height: 2000,
    preview: { width: 853, height: 1280 },
  } as unknown as Attachment;
  assert.deepEqual(shownSize(file), { width: 2000, height: 3000 }, "EXIF-turned photo");
  assert.deepEqual(shownSize({ ...file, preview: null }), { width: 3000, height: 2000 });
});

browserTest(
  "paste an image and see it at the other reader; the viewer opens and closes",
  async (w) => {
    const ada = await w.open();
    const bob = await openForAxe(w);
    await makeFiles(ada, [{
      name: "sketch.png",
      image: { width: 600, height: 400, type: "image/png" },
    }]);
    await paste(ada);
    const chip = ada.locator(".upload-chip", { hasText: "sketch.png" });
    await chip.waitFor();
    await uploadsSettled(ada);
    assert.ok(await chip.evaluate((el) => el.classList.contains("done")), await chip.innerText());
    assert.equal(await ada.locator(".composer button[type=submit]").isDisabled(), false);
    await pressEnter(ada); // no text: a message of files only
    await ada.locator(".message.sent:not(.pending) .attachment-image img").waitFor();
    assert.equal(await ada.locator(".upload-chip").count(), 0, "the chips go with the message");

    const image = bob.locator(".message.received .attachment-image img");
    await image.waitFor();
    const attrs = await image.evaluate((img: HTMLImageElement) => ({
      width: img.getAttribute("width"),
      height: img.getAttribute("height"),
      box: img.getBoundingClientRect().toJSON(),
      complete: img.complete,
    }));
    assert.ok(
      Math.abs(Number(attrs.width) / Number(attrs.height) - 1.5) < 0.01,
      JSON.stringify(attrs),
    );
    assert.ok(Math.abs(attrs.box.width / attrs.box.height - 1.5) < 0.02, "space kept before load");
    await bob.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>(
        ".message.received .attachment-image img",
      );
      return img?.complete && img.naturalWidth > 0;
    });
    const loaded = await image.evaluate((img: HTMLImageElement) => ({
      natural: img.naturalWidth / img.naturalHeight,
      box: img.getBoundingClientRect().toJSON(),
      src: img.getAttribute("src"),
    }));
    assert.equal(loaded.natural, 1.5);
    assert.equal(loaded.box.height, attrs.box.height, "no layout shift when the image loads");
    const [stored] = await lastAttachments(w.server);
    assert.equal(stored.name, "sketch.png");
    assert.equal(stored.type, "image/png");
    assert.equal(loaded.src, stored.url, "a small image is shown itself (no preview)");
    assert.equal(
      await bob.locator(".message.received .body").count(),
      0,
      "a message of files only shows no empty text",
    );

    // Click: the viewer, with the full image, a download link, focus inside; Escape closes it.
    const link = bob.locator(".message.received .attachment-image");
    await link.click();
    const viewer = bob.locator("dialog.image-viewer[open]");
    await viewer.waitFor();
    assert.equal(await viewer.locator("img").getAttribute("src"), stored.url);
    assert.equal(await viewer.locator("a.viewer-download").getAttribute("href"), stored.url);
    assert.ok(
      await viewer.evaluate((d) => d.contains(document.activeElement)),
      "focus in the viewer",
    );
    assert.deepEqual(await axeViolations(bob, "viewer open"), []);
    await bob.keyboard.press("Escape");
    await viewer.waitFor({ state: "detached" });
    await bob.waitForFunction(() =>
      document.activeElement?.classList.contains("attachment-image") ?? false
    );

    // By keyboard: Enter on the focused image opens it, Close closes it, focus comes back.
    await bob.keyboard.press("Enter");
    await viewer.waitFor();
    await viewer.getByRole("button", { name: "Close" }).click();
    await viewer.waitFor({ state: "detached" });
    await bob.waitForFunction(() =>
      document.activeElement?.classList.contains("attachment-image") ?? false
    );
  },
);

browserTest("drop a PDF: a file card with name, size and a download link", async (w) => {
  const ada = await w.open();
  const bob = await w.open();
  const pdf = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
  await makeFiles(ada, [{ name: "Quarterly report.pdf", bytes: pdf, type: "application/pdf" }]);
  await drag(ada, "dragenter");
  await ada.locator(".drop-zone", { hasText: "Drop files" }).waitFor();
  await drag(ada, "drop");
  assert.equal(await ada.locator(".drop-zone").count(), 0, "the drop zone goes");
  await uploadsSettled(ada);
  await ada.fill(".composer textarea", "the report");
  await pressEnter(ada);

  const card = bob.locator(".message.received a.file-card");
  await card.waitFor();
  const [stored] = await lastAttachments(w.server);
  assert.equal(stored.type, "application/pdf");
  assert.equal(await card.getAttribute("href"), stored.url);
  assert.match(stored.url, /^\/files\/[\w-]+\/Quarterly%20report\.pdf$/);
  assert.equal(await card.locator(".file-name").innerText(), "Quarterly report.pdf");
  assert.equal(await card.locator(".file-size").innerText(), `${pdf.length} bytes`);
  assert.equal(await bob.locator(".message.received .body").innerText(), "the report");
  const served = await bob.evaluate(async (href) => {
    const response = await fetch(href);
    return {
      status: response.status,
      disposition: response.headers.get("content-disposition"),
      text: await response.text(),
    };
  }, stored.url);
  assert.equal(served.status, 200);
  assert.match(served.disposition ?? "", /^attachment/);
  assert.equal(served.text, pdf);

  // Deleted: the card goes for the other reader, and so does the file.
  const id = await ada.locator(".message.sent[data-id]").last().getAttribute("data-id");
  const deleted = await ada.evaluate(
    async (id) => (await fetch(`/api/rooms/general/messages/${id}`, { method: "DELETE" })).status,
    id,
  );
  assert.equal(deleted, 200);
  await bob.locator(".message.received.deleted").waitFor();
  assert.equal(await bob.locator(".file-card").count(), 0);
  assert.equal(
    await bob.evaluate(
      async (href) => (await fetch(href, { cache: "no-store" })).status,
      stored.url,
    ),
    404,
  );
});

browserTest(
  "a large photo: the attach button, a turned and stripped preview, the original to download",
  async (w) => {
    const ada = await w.open();
    const bob = await w.open();
    await makeFiles(ada, [{
      name: "holiday.jpg",
      image: { width: 3000, height: 2000, type: "image/jpeg", orientation: 6 },
    }]);
    // Through the attach button's file chooser.
    const bytes = await ada.evaluate(async () => {
      const file = (globalThis as unknown as { testFiles: File[] }).testFiles[0];
      return Array.from(new Uint8Array(await file.arrayBuffer()));
    });
    const [chooser] = await Promise.all([
      ada.waitForEvent("filechooser"),
      ada.getByRole("button", { name: "Attach files" }).click(),
    ]);
    await chooser.setFiles({
      name: "holiday.jpg",
      mimeType: "image/jpeg",
      buffer: Buffer.from(bytes),
    });
    await uploadsSettled(ada);
    await ada.fill(".composer textarea", "from the beach");
    await pressEnter(ada);

    const image = bob.locator(".message.received .attachment-image img");
    await image.waitFor();
    const [stored] = await lastAttachments(w.server);
    assert.ok(stored.preview, "a preview was made");
    assert.equal(stored.size, bytes.length, "the original is stored as uploaded");
    assert.equal(await image.getAttribute("src"), stored.preview.url);
    assert.equal(
      await bob.locator(".message.received .attachment-image").getAttribute("href"),
      stored.url,
    );
    assert.equal(Math.max(stored.preview.width, stored.preview.height), 1280);
    assert.deepEqual(
      [stored.preview.width, stored.preview.height],
      [853, 1280],
      "EXIF orientation applied: the photo stands",
    );
    assert.ok(stored.preview.size <= 300 * 1024, `preview of ${stored.preview.size} bytes`);
    await bob.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>(
        ".message.received .attachment-image img",
      );
      return img?.complete && img.naturalWidth > 0;
    });
    const shown = await image.evaluate((img: HTMLImageElement) => ({
      natural: [img.naturalWidth, img.naturalHeight],
      attrs: [Number(img.getAttribute("width")), Number(img.getAttribute("height"))],
    }));
    assert.deepEqual(shown.natural, [853, 1280]);
    assert.ok(Math.abs(shown.attrs[0] / shown.attrs[1] - 853 / 1280) < 0.01, String(shown.attrs));
    const preview = await bob.evaluate(async (href) => {
      const response = await fetch(href);
      const bytes = new Uint8Array(await response.arrayBuffer());
      return {
        type: response.headers.get("content-type"),
        exif: new TextDecoder("latin1").decode(bytes).includes("Exif"),
        length: bytes.length,
      };
    }, stored.preview.url);
    assert.equal(preview.type, "image/webp");
    assert.equal(preview.exif, false, "no EXIF (nor GPS) in the preview");
    // The viewer shows the original, standing too, and offers it to download.
    await bob.locator(".message.received .attachment-image").click();
    const viewer = bob.locator("dialog.image-viewer[open]");
    await viewer.waitFor();
    assert.equal(await viewer.locator("a.viewer-download").getAttribute("href"), stored.url);
    const full = await viewer.locator("img").evaluate((img: HTMLImageElement) => [
      Number(img.getAttribute("width")) / Number(img.getAttribute("height")),
      img.getAttribute("src"),
    ]);
    assert.ok(Math.abs((full[0] as number) - 2 / 3) < 0.01, `viewer ratio ${full[0]}`);
    assert.equal(full[1], stored.url);
  },
);

browserTest("upload progress, Enter waits for the upload, cancel stops one", async (w) => {
  const ada = await w.open();
  const unthrottle = await throttleUploads(ada, 400 * 1024);
  await makeFiles(ada, [{
    name: "data.bin",
    randomBytes: 1_600_000,
    type: "application/octet-stream",
  }]);
  await paste(ada);
  const bar = ada.locator(".upload-chip [role=progressbar]");
  await bar.waitFor();
  assert.equal(await bar.getAttribute("aria-label"), "Uploading data.bin");
  await ada.waitForFunction(() => {
    const now = Number(
      document.querySelector(".upload-chip [role=progressbar]")
        ?.getAttribute("aria-valuenow"),
    );
    return now > 0 && now < 100;
  });
  assert.equal(await ada.locator(".composer button[type=submit]").isDisabled(), true);
  await ada.fill(".composer textarea", "numbers attached");
  await pressEnter(ada);
  assert.match(
    await ada.locator("#composer-hint").innerText(),
    /Sending as soon as 1 file is uploaded/,
  );
  assert.equal(await ada.locator(".message.pending").count(), 0, "not sent yet");
  await ada.locator(".message.sent:not(.pending) .body", { hasText: "numbers attached" }).waitFor({
    timeout: 20_000,
  });
  const [stored] = await lastAttachments(w.server);
  assert.equal(stored.name, "data.bin");
  assert.equal(stored.size, 1_600_000);
  assert.equal(
    await ada.locator(".message.sent:not(.pending) .file-card .file-name").innerText(),
    "data.bin",
  );

  // Cancel: the chip goes, the upload stops, nothing is sent.
  await makeFiles(ada, [{
    name: "second.bin",
    randomBytes: 1_600_000,
    type: "application/octet-stream",
  }]);
  await paste(ada);
  await ada.waitForFunction(() =>
    Number(
      document.querySelector(".upload-chip [role=progressbar]")?.getAttribute("aria-valuenow"),
    ) > 0
  );
  const aborted = ada.waitForEvent("requestfailed", (r) => r.url().endsWith("/files"));
  await ada.getByRole("button", { name: "Cancel upload of second.bin" }).click();
  await aborted;
  assert.equal(await ada.locator(".upload-chip").count(), 0);
  assert.equal(await ada.locator(".composer button[type=submit]").isDisabled(), false);
  await unthrottle();
});

browserTest(
  "a file too big says so; the others are still sent; axe finds nothing with chips shown",
  async (w) => {
    const ada = await openForAxe(w);
    await makeFiles(ada, [
      { name: "huge video.mov", randomBytes: 1_200_000, type: "video/quicktime" },
      { name: "notes.txt", bytes: "Remember the milk\n", type: "text/plain" },
    ]);
    await paste(ada);
    await uploadsSettled(ada);
    const failed = ada.locator(".upload-chip.failed");
    assert.equal(
      await failed.locator(".chip-error").innerText(),
      "huge video.mov is too big (max 1 MB).",
    );
    assert.equal(await failed.locator(".chip-error").getAttribute("role"), "alert");
    await ada.locator(".upload-chip.done", { hasText: "notes.txt" }).waitFor();
    assert.deepEqual(await axeViolations(ada, "composer with chips"), []);
    // The remove buttons are big enough to hit (24×24 CSS px at least).
    const box = await ada.getByRole("button", { name: "Remove notes.txt" }).boundingBox();
    assert.ok(box && box.width >= 24 && box.height >= 24);
    const attach = await ada.getByRole("button", { name: "Attach files" }).boundingBox();
    assert.ok(attach && attach.width >= 24 && attach.height >= 24);
    await pressEnter(ada);
    await ada.locator(".message.sent:not(.pending) .file-card", { hasText: "notes.txt" }).waitFor();
    const stored = await lastAttachments(w.server);
    assert.deepEqual(stored.map((a) => a.name), ["notes.txt"]);
    assert.equal(await ada.locator(".upload-chip").count(), 0);

    // The server's own answer, for a file the page could not check (its limit is bypassed).
    const answer = await ada.evaluate(async () => {
      const form = new FormData();
      form.append("file", new File([new Uint8Array(1_200_000)], "raw.bin"));
      const response = await fetch("/api/rooms/general/files", { method: "POST", body: form });
      return { status: response.status, body: await response.text() };
    });
    assert.equal(answer.status, 413);
    assert.equal(uploadError("raw.bin", answer, 1024 * 1024), "raw.bin is too big (max 1 MB).");
  },
  { PARLEY_MAX_UPLOAD_MB: "1" },
);

browserTest("screenshots: images, a file card, chips and the viewer", async (w) => {
  if (!SHOTS) return;
  const bob = await w.open();
  const ada = await w.open();
  await makeFiles(bob, [
    { name: "whiteboard.png", image: { width: 1600, height: 900, type: "image/png" } },
    { name: "portrait.jpg", image: { width: 900, height: 1400, type: "image/jpeg" } },
  ]);
  await paste(bob);
  await uploadsSettled(bob);
  await bob.fill(".composer textarea", "Two pictures from today's session");
  await pressEnter(bob);
  await bob.locator(".message.sent:not(.pending) .attachment-image img").first().waitFor();
  await makeFiles(ada, [
    {
      name: "Quarterly report 2024 (final).pdf",
      bytes: "%PDF-1.4\n%%EOF\n",
      type: "application/pdf",
    },
    { name: "team-photo.jpg", image: { width: 2400, height: 1600, type: "image/jpeg" } },
  ]);
  await paste(ada);
  await uploadsSettled(ada);
  await ada.fill(".composer textarea", "Here is the report, and the photo");
  await pressEnter(ada);
  await ada.locator(".message.sent:not(.pending) .file-card").waitFor();
  await ada.locator(".message.received .attachment-image img").nth(1).waitFor();
  await ada.waitForFunction(() =>
    [...document.querySelectorAll<HTMLImageElement>(".attachment-image img")].every((i) =>
      i.complete
    )
  );
  for (const scheme of ["light", "dark"] as const) {
    for (
      const [size, viewport] of [
        ["desktop", { width: 1280, height: 800 }],
        ["phone", { width: 390, height: 844 }],
      ] as const
    ) {
      await ada.emulateMedia({ colorScheme: scheme });
      await ada.setViewportSize(viewport);
      await ada.$eval(".conversation", (el) => el.scrollTop = el.scrollHeight);
      await ada.waitForTimeout(150);
      await shot(ada, `room-${size}-${scheme}`);
      await makeFiles(ada, [{ name: "x.txt", bytes: "x", type: "text/plain" }]);
      await drag(ada, "dragenter");
      await ada.locator(".drop-zone").waitFor();
      await shot(ada, `drop-zone-${size}-${scheme}`);
      await ada.evaluate(() => {
        const world = globalThis as unknown as { dragged?: DataTransfer };
        document.querySelector(".conversation")!.dispatchEvent(
          new DragEvent("dragleave", { dataTransfer: world.dragged, bubbles: true }),
        );
        world.dragged = undefined;
      });
      await ada.locator(".drop-zone").waitFor({ state: "detached" });
      // Chips: one uploading (held by a slow network), one failed, one done.
      const unthrottle = await throttleUploads(ada, 64 * 1024);
      await makeFiles(ada, [
        {
          name: "budget.xlsx",
          bytes: "PK\u0003\u0004 not really a spreadsheet",
          type: "application/zip",
        },
        { name: "screen-recording.mp4", randomBytes: 900_000, type: "video/mp4" },
        { name: "all-hands.mov", randomBytes: 26 * 1024 * 1024 + 1, type: "video/quicktime" },
      ]);
      await paste(ada);
      await ada.locator(".upload-chip.done").waitFor();
      await ada.waitForFunction(() =>
        Number(
          document.querySelector(".upload-chip [role=progressbar]")?.getAttribute("aria-valuenow"),
        ) > 5
      );
      await ada.fill(".composer textarea", "One more thing");
      await shot(ada, `chips-${size}-${scheme}`);
      await ada.getByRole("button", { name: "Cancel upload of screen-recording.mp4" }).click();
      await ada.getByRole("button", { name: "Remove budget.xlsx" }).click();
      await ada.getByRole("button", { name: "Remove all-hands.mov" }).click();
      await ada.fill(".composer textarea", "");
      await unthrottle();
      await ada.locator(".message.received .attachment-image").first().click();
      await ada.locator("dialog.image-viewer[open] img").waitFor();
      await ada.waitForFunction(() =>
        document.querySelector<HTMLImageElement>("dialog img")?.complete
      );
      await shot(ada, `viewer-${size}-${scheme}`);
      await ada.keyboard.press("Escape");
      await ada.locator("dialog.image-viewer").waitFor({ state: "detached" });
    }
  }
});
