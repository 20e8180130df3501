// API tests of uploads, attachments and file serving through app.request(): every status and header.
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { appTest, callApi, type Guest, newGuest, type TestApp } from "./helpers.ts";
import { cleanFileName, contentDisposition } from "../chat/files.ts";
import { parseRange } from "../http/file_response.ts";

const ORIGIN = "http://localhost";
const fileTest = appTest("files");
const encoder = new TextEncoder();

// --- Files made byte by byte -------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function concat(...parts: (Uint8Array | number[])[]): Uint8Array<ArrayBuffer> {
  const arrays = parts.map((p) => p instanceof Uint8Array ? p : Uint8Array.from(p));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

function u32(n: number): number[] {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const typed = concat(encoder.encode(type), data);
  return concat(u32(data.length), typed, u32(crc32(typed)));
}

/** A valid grey PNG of `width` × `height` pixels. */
export function png(width: number, height: number): Uint8Array<ArrayBuffer> {
  const ihdr = concat(u32(width), u32(height), [8, 0, 0, 0, 0]);
  const rows = new Uint8Array((width + 1) * height);
  return concat(
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", deflateSync(rows)),
    pngChunk("IEND", new Uint8Array()),
  );
}

/** A JPEG's header (JFIF, one baseline frame of `width` × `height`) and end. */
function jpeg(width: number, height: number): Uint8Array<ArrayBuffer> {
  return concat(
    [0xff, 0xd8],
    [0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0],
    [0xff, 0xc0, 0, 17, 8, height >> 8, height & 255, width >> 8, width & 255, 3],
    [1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1],
    [0xff, 0xd9],
  );
}

function gif(width: number, height: number): Uint8Array<ArrayBuffer> {
  return concat(
    encoder.encode("GIF89a"),
    [width & 255, width >> 8, height & 255, height >> 8, 0, 0, 0],
    [0x3b],
  );
}

/** A lossless WebP header of `width` × `height`. */
function webp(width: number, height: number): Uint8Array<ArrayBuffer> {
  const bits = (width - 1) | ((height - 1) << 14);
  const vp8l = concat([0x2f, bits & 255, (bits >> 8) & 255, (bits >> 16) & 255, bits >>> 24], [
    0,
    0,
    0,
  ]);
  const chunk = concat(encoder.encode("VP8L"), [vp8l.length, 0, 0, 0], vp8l);
  return concat(encoder.encode("RIFF"), [chunk.length + 4, 0, 0, 0], encoder.encode("WEBP"), chunk);
}

const HTML = encoder.encode("<!DOCTYPE html><html><body><script>alert(document.cookie)</script>");
const SVG = encoder.encode(
  '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>',
);
const PDF = encoder.encode("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n");

// --- Helpers ------------------------------------------------------------------------------

interface Upload {
  status: number;
  // deno-lint-ignore no-explicit-any
  json: any;
  headers: Headers;
}

/** Uploads `bytes` as `name` to `room` the way the browser does (FormData, part `file`). */
async function upload(
  app: TestApp,
  guest: Guest,
  bytes: Uint8Array<ArrayBuffer>,
  name: string,
  options: { room?: string; type?: string; field?: string; method?: string; path?: string } = {},
): Promise<Upload> {
  const form = new FormData();
  form.append(options.field ?? "file", new Blob([bytes], { type: options.type ?? "" }), name);
  const response = await app.request(
    options.path ?? `/api/rooms/${options.room ?? "general"}/files`,
    {
      method: options.method ?? "POST",
      body: form,
      headers: { cookie: guest.cookie, origin: ORIGIN },
    },
  );
  return { status: response.status, json: await response.json(), headers: response.headers };
}

async function uploaded(
  app: TestApp,
  guest: Guest,
  bytes: Uint8Array<ArrayBuffer>,
  name: string,
  room = "general",
) {
  const answer = await upload(app, guest, bytes, name, { room });
  assert.equal(answer.status, 201, JSON.stringify(answer.json));
  return answer.json;
}

function send(
  app: TestApp,
  guest: Guest,
  attachments: string[],
  options: { room?: string; body?: string } = {},
) {
  return callApi(app, "POST", `/api/rooms/${options.room ?? "general"}/messages`, {
    cookie: guest.cookie,
    body: { body: options.body ?? "", attachments, clientId: crypto.randomUUID() },
  });
}

function fetchFile(app: TestApp, url: string, guest?: Guest, headers: Record<string, string> = {}) {
  return app.request(url, { headers: { ...(guest ? { cookie: guest.cookie } : {}), ...headers } });
}

async function bytesOf(response: Response): Promise<Uint8Array> {
  return new Uint8Array(await response.arrayBuffer());
}

async function privateRoom(app: TestApp, owner: Guest, slug = "secret") {
  const room = await app.store.createRoom({
    slug,
    name: slug,
    topic: "",
    kind: "private",
    createdBy: owner.member.id,
  });
  assert.ok(room);
  return room;
}

// --- Uploading ----------------------------------------------------------------------------

fileTest("an upload answers 201 with the attachment: type and size from the bytes", async (app) => {
  const ada = await newGuest(app);
  const bytes = png(640, 480);
  const answer = await upload(app, ada, bytes, "holiday.png", { type: "text/plain" });
  assert.equal(answer.status, 201, JSON.stringify(answer.json));
  const file = answer.json;
  assert.deepEqual(Object.keys(file).sort(), [
    "height",
    "id",
    "name",
    "preview",
    "size",
    "type",
    "url",
    "width",
  ]);
  assert.match(file.id, /^[A-Za-z0-9_-]{16,}$/);
  assert.equal(file.name, "holiday.png");
  assert.equal(file.size, bytes.length);
  assert.equal(file.type, "image/png", "from the bytes, not the client's header");
  assert.equal(file.width, 640);
  assert.equal(file.height, 480);
  assert.equal(file.preview, null);
  assert.equal(file.url, `/files/${file.id}/holiday.png`);
  assert.equal(answer.headers.get("cache-control"), "no-store");
  const stored = await app.store.getFile(file.id);
  assert.equal(stored?.messageId, null, "unattached until a message carries it");
  assert.equal(stored?.uploaderId, ada.member.id);
});

fileTest("JPEG, GIF and WebP dimensions are read from their first bytes", async (app) => {
  const ada = await newGuest(app);
  for (
    const [bytes, name, type, width, height] of [
      [jpeg(1024, 768), "photo.jpg", "image/jpeg", 1024, 768],
      [gif(320, 200), "anim.gif", "image/gif", 320, 200],
      [webp(800, 600), "pic.webp", "image/webp", 800, 600],
    ] as const
  ) {
    const file = await uploaded(app, ada, bytes, name);
    assert.deepEqual([file.type, file.width, file.height], [type, width, height], name);
  }
  const pdf = await uploaded(app, ada, PDF, "report.pdf");
  assert.deepEqual([pdf.type, pdf.width, pdf.height], ["application/pdf", null, null]);
  const text = await uploaded(app, ada, encoder.encode("just some notes\n"), "notes.txt");
  assert.equal(text.type, "application/octet-stream", "unknown bytes");
});

fileTest("file names lose folders and control characters", async (app) => {
  const ada = await newGuest(app);
  const file = await uploaded(app, ada, PDF, "..\\..\\secret/pla\u202Ens.pdf");
  assert.equal(file.name, "plans.pdf");
  assert.equal(file.url, `/files/${file.id}/plans.pdf`);
  assert.equal(cleanFileName("a\u0007b\u0000c\u2066.txt"), "abc.txt");
  assert.equal(cleanFileName("../.."), "file");
  assert.equal(cleanFileName(""), "file");
  const long = cleanFileName(`${"a".repeat(300)}.tar.gz`);
  assert.equal([...long].length, 200);
  assert.ok(long.endsWith(".gz"));
  const unicode = await uploaded(app, ada, PDF, "résumé 2024 #1.pdf");
  assert.equal(unicode.url, `/files/${unicode.id}/r%C3%A9sum%C3%A9%202024%20%231.pdf`);
});

fileTest("uploads are refused: not multipart, no file part, empty, two files", async (app) => {
  const ada = await newGuest(app);
  const headers = { cookie: ada.cookie, origin: ORIGIN };
  const json = await app.request("/api/rooms/general/files", {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: "{}",
  });
  assert.equal(json.status, 415);
  assert.equal((await json.json()).error.code, "unsupported_media_type");
  const wrongField = await upload(app, ada, PDF, "a.pdf", { field: "attachment" });
  assert.equal(wrongField.status, 400);
  assert.equal(wrongField.json.error.code, "missing_file");
  const empty = await upload(app, ada, new Uint8Array(), "empty.txt");
  assert.equal(empty.status, 400);
  assert.equal(empty.json.error.code, "empty_file");
  const form = new FormData();
  form.append("file", new Blob([PDF]), "one.pdf");
  form.append("file", new Blob([PDF]), "two.pdf");
  const two = await app.request("/api/rooms/general/files", {
    method: "POST",
    body: form,
    headers,
  });
  assert.equal(two.status, 400);
  assert.equal((await two.json()).error.code, "too_many_files");
  const broken = await app.request("/api/rooms/general/files", {
    method: "POST",
    headers: { ...headers, "content-type": "multipart/form-data; boundary=XYZ" },
    body: '--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhal',
  });
  assert.equal(broken.status, 400);
  assert.equal((await broken.json()).error.code, "invalid_multipart");
  const noBoundary = await app.request("/api/rooms/general/files", {
    method: "POST",
    headers: { ...headers, "content-type": "multipart/form-data" },
    body: "x",
  });
  assert.equal(noBoundary.status, 415);
  await noBoundary.body?.cancel();
});

fileTest("who may upload: a session, same origin, a room they may post in", async (app) => {
  const ada = await newGuest(app);
  const bob = await newGuest(app);
  const form = new FormData();
  form.append("file", new Blob([PDF]), "a.pdf");
  const anonymous = await app.request("/api/rooms/general/files", {
    method: "POST",
    body: form,
    headers: { origin: ORIGIN },
  });
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();
  const foreign = await app.request("/api/rooms/general/files", {
    method: "POST",
    body: form,
    headers: { cookie: ada.cookie, origin: "https://evil.example" },
  });
  assert.equal(foreign.status, 403);
  await foreign.body?.cancel();
  await privateRoom(app, ada);
  const outsider = await upload(app, bob, PDF, "a.pdf", { room: "secret" });
  assert.equal(outsider.status, 404);
  assert.equal(outsider.json.error.code, "room_not_found");
  assert.equal((await upload(app, ada, PDF, "a.pdf", { room: "secret" })).status, 201);
  assert.equal((await upload(app, ada, PDF, "a.pdf", { room: "nowhere" })).status, 404);
});

fileTest(
  "a file over PARLEY_MAX_UPLOAD_MB is 413 file_too_large and nothing is kept",
  async (app) => {
    const ada = await newGuest(app);
    const big = new Uint8Array(1024 * 1024 + 1).fill(7);
    const answer = await upload(app, ada, big, "big.bin");
    assert.equal(answer.status, 413);
    assert.equal(answer.json.error.code, "file_too_large");
    assert.match(answer.json.error.message, /1 MB/);
    assert.equal(answer.headers.get("connection"), "close");
    assert.equal(await app.store.uploadedBytes(ada.member.id, 0), 0);
    const fits = await upload(app, ada, new Uint8Array(1024 * 1024).fill(7), "fits.bin");
    assert.equal(fits.status, 201);
  },
  { PARLEY_MAX_UPLOAD_MB: "1" },
);

fileTest(
  "the daily quota: past PARLEY_UPLOAD_MB_PER_DAY uploads are 429 upload_quota",
  async (app) => {
    const ada = await newGuest(app);
    const bob = await newGuest(app);
    const part = new Uint8Array(700 * 1024).fill(1);
    assert.equal((await upload(app, ada, part, "one.bin")).status, 201);
    const over = await upload(app, ada, part, "two.bin");
    assert.equal(over.status, 429, "it would pass the quota");
    assert.equal(over.json.error.code, "upload_quota");
    assert.ok(Number(over.headers.get("retry-after")) > 0);
    const rest = new Uint8Array(1024 * 1024 - part.length);
    assert.equal((await upload(app, ada, rest, "rest.bin")).status, 201, "up to the quota");
    const full = await upload(app, ada, PDF, "tiny.pdf");
    assert.equal(full.status, 429);
    assert.equal(full.json.error.code, "upload_quota");
    assert.equal((await upload(app, bob, part, "bob.bin")).status, 201, "per member");
  },
  { PARLEY_MAX_UPLOAD_MB: "1", PARLEY_UPLOAD_MB_PER_DAY: "1" },
);

fileTest("uploads per minute are rate limited", async (app) => {
  const ada = await newGuest(app);
  for (let i = 0; i < 30; i++) {
    assert.equal((await upload(app, ada, PDF, `${i}.pdf`)).status, 201);
  }
  const answer = await upload(app, ada, PDF, "31.pdf");
  assert.equal(answer.status, 429);
  assert.equal(answer.json.error.code, "rate_limited");
  assert.ok(Number(answer.headers.get("retry-after")) > 0);
});

// --- Serving ------------------------------------------------------------------------------

fileTest("a PNG named .html is served as image/png, inline, with every header", async (app) => {
  const ada = await newGuest(app);
  const bob = await newGuest(app);
  const bytes = png(4, 3);
  const file = await uploaded(app, ada, bytes, "page.html");
  assert.equal((await send(app, ada, [file.id])).status, 201);
  const response = await fetchFile(app, file.url, bob);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "image/png");
  assert.equal(
    response.headers.get("content-disposition"),
    `inline; filename="page.html"; filename*=UTF-8''page.html`,
  );
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  assert.equal(response.headers.get("content-security-policy"), "sandbox; default-src 'none'");
  assert.equal(response.headers.get("cache-control"), "private, max-age=31536000, immutable");
  assert.match(response.headers.get("etag")!, /^"[0-9a-f]{64}"$/);
  assert.equal(response.headers.get("accept-ranges"), "bytes");
  assert.equal(response.headers.get("content-length"), String(bytes.length));
  assert.equal(response.headers.get("content-encoding"), null);
  assert.deepEqual(await bytesOf(response), bytes);
  const wrongName = await fetchFile(app, `/files/${file.id}/anything.txt`, bob);
  assert.equal(wrongName.status, 200, "the id decides");
  assert.deepEqual(await bytesOf(wrongName), bytes);
});

fileTest(
  "HTML and an SVG with a script are downloads: attachment, sandbox, nosniff",
  async (app) => {
    const ada = await newGuest(app);
    for (const [bytes, name] of [[HTML, "index.html"], [SVG, "logo.svg"]] as const) {
      const file = await uploaded(app, ada, bytes, name);
      assert.notEqual(file.type, "text/html");
      assert.notEqual(file.type, "image/svg+xml");
      assert.equal(file.width, null);
      const response = await fetchFile(app, file.url, ada);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "application/octet-stream");
      assert.equal(
        response.headers.get("content-disposition"),
        `attachment; filename="${name}"; filename*=UTF-8''${name}`,
      );
      assert.equal(response.headers.get("content-security-policy"), "sandbox; default-src 'none'");
      assert.equal(response.headers.get("x-content-type-options"), "nosniff");
      assert.deepEqual(await bytesOf(response), bytes);
    }
  },
);

fileTest("a PDF is served as application/pdf, as a download", async (app) => {
  const ada = await newGuest(app);
  const file = await uploaded(app, ada, PDF, "Résumé «final».pdf");
  const response = await fetchFile(app, file.url, ada);
  assert.equal(response.headers.get("content-type"), "application/pdf");
  assert.equal(
    response.headers.get("content-disposition"),
    `attachment; filename="R_sum_ _final_.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%C2%ABfinal%C2%BB.pdf`,
  );
  await response.body?.cancel();
  assert.equal(
    contentDisposition("image/svg+xml", `a"b\\c%.svg`),
    `attachment; filename="a_b_c_.svg"; filename*=UTF-8''a%22b%5Cc%25.svg`,
  );
  assert.match(contentDisposition("video/mp4", "clip.mp4"), /^inline;/);
  assert.match(contentDisposition("audio/mpeg", "song.mp3"), /^inline;/);
  assert.match(contentDisposition("application/xml", "feed.xml"), /^attachment;/);
  assert.match(contentDisposition("application/octet-stream", "x"), /^attachment;/);
});

fileTest("a private room's file is 404 to non-members, exactly like the room", async (app) => {
  const ada = await newGuest(app);
  const bob = await newGuest(app);
  await privateRoom(app, ada);
  const file = await uploaded(app, ada, png(2, 2), "secret.png", "secret");
  assert.equal((await send(app, ada, [file.id], { room: "secret" })).status, 201);
  assert.equal((await fetchFile(app, file.url, ada)).status, 200);
  const room = await fetchFile(app, "/rooms/secret", bob);
  assert.equal(room.status, 404);
  await room.body?.cancel();
  for (const who of [bob, undefined]) {
    const response = await fetchFile(app, file.url, who);
    assert.equal(response.status, 404);
    assert.equal(response.headers.get("etag"), null);
    // The same page as for a file that does not exist.
    const none = await fetchFile(app, "/files/AAAAAAAAAAAAAAAAAAAAAA/secret.png", who);
    assert.equal(none.status, 404);
    assert.equal(
      (await response.text()).replace(file.id, "ID"),
      (await none.text()).replace("AAAAAAAAAAAAAAAAAAAAAA", "ID"),
    );
    const preview = await fetchFile(app, `${file.url}?preview`, who);
    assert.equal(preview.status, 404);
    await preview.body?.cancel();
  }
  const head = await app.request(file.url, { method: "HEAD", headers: { cookie: bob.cookie } });
  assert.equal(head.status, 404);
  await app.store.addRoomMember((await app.store.getRoom("secret"))!.id, bob.member.id);
  const member = await fetchFile(app, file.url, bob);
  assert.equal(member.status, 200, "once a member");
  await member.body?.cancel();
  const unknown = await fetchFile(app, "/files/AAAAAAAAAAAAAAAAAAAAAA/x.png", ada);
  assert.equal(unknown.status, 404);
  await unknown.body?.cancel();
  const badId = await fetchFile(app, "/files/..%2F..%2Fetc/passwd", ada);
  assert.equal(badId.status, 404);
  await badId.body?.cancel();
});

fileTest("a public room's file is readable by anyone who may read the room", async (app) => {
  const ada = await newGuest(app);
  const file = await uploaded(app, ada, png(2, 2), "open.png");
  assert.equal((await send(app, ada, [file.id])).status, 201);
  const anonymous = await fetchFile(app, file.url);
  assert.equal(anonymous.status, 200);
  await anonymous.body?.cancel();
  // A public room the reader never joined.
  await app.store.createRoom({
    slug: "lobby",
    name: "lobby",
    topic: "",
    kind: "public",
    createdBy: ada.member.id,
  });
  const other = await uploaded(app, ada, png(2, 2), "lobby.png", "lobby");
  assert.equal((await send(app, ada, [other.id], { room: "lobby" })).status, 201);
  const bob = await newGuest(app);
  const read = await fetchFile(app, other.url, bob);
  assert.equal(read.status, 200);
  await read.body?.cancel();
  // The uploader leaving the room changes nothing: the room decides, not its members.
  assert.ok(
    await app.store.removeRoomMember((await app.store.getRoom("lobby"))!.id, ada.member.id),
  );
  const after = await fetchFile(app, other.url, bob);
  assert.equal(after.status, 200);
  await after.body?.cancel();
});

fileTest(
  "with guests off, files need an account like the rooms",
  async (app) => {
    const anonymous = await fetchFile(app, "/files/AAAAAAAAAAAAAAAAAAAAAA/x.png");
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();
  },
  { PARLEY_GUESTS: "off" },
);

fileTest("an unattached upload is 404 to everyone but its uploader", async (app) => {
  const ada = await newGuest(app);
  const bob = await newGuest(app);
  const file = await uploaded(app, ada, png(2, 2), "draft.png");
  const own = await fetchFile(app, file.url, ada);
  assert.equal(own.status, 200);
  await own.body?.cancel();
  for (const who of [bob, undefined]) {
    const response = await fetchFile(app, file.url, who);
    assert.equal(response.status, 404);
    await response.body?.cancel();
  }
});

fileTest("Range requests: 206 with Content-Range, suffix ranges, 416 past the end", async (app) => {
  const ada = await newGuest(app);
  const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
  bytes.set(PDF.subarray(0, 8));
  const file = await uploaded(app, ada, bytes, "data.pdf");
  const cases: [string, number, number][] = [
    ["bytes=0-99", 0, 99],
    ["bytes=990-", 990, 999],
    ["bytes=-10", 990, 999],
    ["bytes=500-5000", 500, 999],
    ["bytes=-2000", 0, 999],
    ["bytes=999-999", 999, 999],
  ];
  for (const [range, start, end] of cases) {
    const response = await fetchFile(app, file.url, ada, { range });
    assert.equal(response.status, 206, range);
    assert.equal(response.headers.get("content-range"), `bytes ${start}-${end}/1000`, range);
    assert.equal(response.headers.get("content-length"), String(end - start + 1), range);
    assert.deepEqual(await bytesOf(response), bytes.subarray(start, end + 1), range);
  }
  for (const range of ["bytes=1000-", "bytes=5000-6000", "bytes=-0"]) {
    const response = await fetchFile(app, file.url, ada, { range });
    assert.equal(response.status, 416, range);
    assert.equal(response.headers.get("content-range"), "bytes */1000");
    await response.body?.cancel();
  }
  for (const range of ["bytes=0-1,5-6", "lines=1-2", "bytes=9-3", "bytes=x"]) {
    const response = await fetchFile(app, file.url, ada, { range });
    assert.equal(response.status, 200, `${range} is served whole`);
    assert.equal((await bytesOf(response)).length, 1000);
  }
  const etag = (await fetchFile(app, file.url, ada, { range: "bytes=0-0" })).headers.get("etag")!;
  const stale = await fetchFile(app, file.url, ada, { range: "bytes=0-9", "if-range": '"other"' });
  assert.equal(stale.status, 200, "If-Range with another ETag: the whole file");
  await stale.body?.cancel();
  const current = await fetchFile(app, file.url, ada, { range: "bytes=0-9", "if-range": etag });
  assert.equal(current.status, 206);
  await current.body?.cancel();
  assert.deepEqual(parseRange("bytes=-5", 3), { kind: "range", range: { start: 0, end: 2 } });
  assert.deepEqual(parseRange(null, 3), { kind: "whole" });
});

fileTest("ETag and If-None-Match give 304; HEAD gives the headers only", async (app) => {
  const ada = await newGuest(app);
  const bytes = png(3, 3);
  const file = await uploaded(app, ada, bytes, "dot.png");
  const first = await fetchFile(app, file.url, ada);
  const etag = first.headers.get("etag")!;
  await first.body?.cancel();
  for (const header of [etag, `W/${etag}`, `"nope", ${etag}`, "*"]) {
    const again = await fetchFile(app, file.url, ada, { "if-none-match": header });
    assert.equal(again.status, 304, header);
    assert.equal(again.headers.get("etag"), etag);
    assert.equal(again.headers.get("cache-control"), "private, max-age=31536000, immutable");
    assert.equal((await bytesOf(again)).length, 0);
  }
  const changed = await fetchFile(app, file.url, ada, { "if-none-match": '"other"' });
  assert.equal(changed.status, 200);
  await changed.body?.cancel();
  const head = await app.request(file.url, { method: "HEAD", headers: { cookie: ada.cookie } });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), String(bytes.length));
  assert.equal(head.headers.get("content-type"), "image/png");
  assert.equal((await bytesOf(head)).length, 0);
});

// --- Attaching ----------------------------------------------------------------------------

fileTest("a message may carry files only; attachments come in the order given", async (app) => {
  const ada = await newGuest(app);
  const bob = await newGuest(app);
  const first = await uploaded(app, ada, png(10, 20), "first.png");
  const second = await uploaded(app, ada, PDF, "second.pdf");
  const sent = await send(app, ada, [second.id, first.id]);
  assert.equal(sent.status, 201, JSON.stringify(sent.json));
  assert.equal(sent.json.body, "");
  assert.deepEqual(sent.json.attachments, [second, first]);
  const page = await callApi(app, "GET", "/api/rooms/general/messages", { cookie: bob.cookie });
  const message = page.json.messages.find((m: { id: number }) => m.id === sent.json.id);
  assert.deepEqual(message.attachments, [second, first]);
  const stored = await app.store.getFile(first.id);
  assert.equal(stored?.messageId, sent.json.id);
  const readable = await fetchFile(app, first.url, bob);
  assert.equal(readable.status, 200, "attached: readable by the room's readers");
  await readable.body?.cancel();
  const blank = await callApi(app, "POST", "/api/rooms/general/messages", {
    cookie: ada.cookie,
    body: { body: "  ", attachments: [] },
  });
  assert.equal(blank.status, 400, "no text and no files");
  assert.equal(blank.json.error.code, "empty_message");
  const withText = await uploaded(app, ada, PDF, "third.pdf");
  const captioned = await send(app, ada, [withText.id], { body: "the **report**" });
  assert.equal(captioned.status, 201);
  assert.equal(captioned.json.body, "the **report**");
});

fileTest("attachments that are not yours, not this room's or already sent: 400", async (app) => {
  const ada = await newGuest(app);
  const bob = await newGuest(app);
  await app.store.createRoom({
    slug: "other",
    name: "other",
    topic: "",
    kind: "public",
    createdBy: ada.member.id,
  });
  const elsewhere = await uploaded(app, ada, PDF, "elsewhere.pdf", "other");
  const bobs = await uploaded(app, bob, PDF, "bobs.pdf");
  const mine = await uploaded(app, ada, PDF, "mine.pdf");
  assert.equal((await send(app, ada, [mine.id])).status, 201);
  const fresh = await uploaded(app, ada, PDF, "fresh.pdf");
  for (
    const [ids, why] of [
      [[elsewhere.id], "uploaded to another room"],
      [[bobs.id], "another member's"],
      [[mine.id], "already attached"],
      [["AAAAAAAAAAAAAAAAAAAAAA"], "unknown"],
      [[fresh.id, fresh.id], "the same file twice"],
      [[fresh.id, bobs.id], "one good, one not"],
    ] as const
  ) {
    const answer = await send(app, ada, [...ids], { body: why });
    assert.equal(answer.status, 400, why);
    assert.equal(answer.json.error.code, "invalid_attachment", why);
  }
  assert.equal((await app.store.getFile(fresh.id))?.messageId, null, "nothing was attached");
  const history = await callApi(app, "GET", "/api/rooms/general/messages", { cookie: ada.cookie });
  assert.ok(!history.json.messages.some((m: { body: string }) => m.body === "one good, one not"));
  assert.equal((await send(app, ada, [fresh.id])).status, 201, "still attachable");
});

fileTest("more than 10 attachments is 400", async (app) => {
  const ada = await newGuest(app);
  const ids: string[] = [];
  for (let i = 0; i < 11; i++) ids.push((await uploaded(app, ada, PDF, `${i}.pdf`)).id);
  const answer = await send(app, ada, ids);
  assert.equal(answer.status, 400);
  assert.match(answer.json.error.message, /10/);
  const ten = await send(app, ada, ids.slice(0, 10));
  assert.equal(ten.status, 201);
  assert.equal(ten.json.attachments.length, 10);
});

fileTest("deleting the message makes its files 404 and erases them", async (app) => {
  const ada = await newGuest(app);
  const bob = await newGuest(app);
  const file = await uploaded(app, ada, png(5, 5), "gone.png");
  const sent = await send(app, ada, [file.id]);
  assert.equal((await fetchFile(app, file.url, bob)).status, 200);
  const deleted = await callApi(app, "DELETE", `/api/rooms/general/messages/${sent.json.id}`, {
    cookie: ada.cookie,
  });
  assert.equal(deleted.status, 200);
  assert.deepEqual(deleted.json.attachments, []);
  for (const who of [ada, bob]) {
    const response = await fetchFile(app, file.url, who);
    assert.equal(response.status, 404);
    await response.body?.cancel();
  }
  assert.equal(await app.store.getFile(file.id), null);
});

// --- Previews -----------------------------------------------------------------------------

function putPreview(app: TestApp, guest: Guest, fileId: string, bytes: Uint8Array<ArrayBuffer>) {
  return upload(app, guest, bytes, "preview.webp", {
    method: "PUT",
    path: `/api/rooms/general/files/${fileId}/preview`,
  });
}

fileTest("a preview: only the uploader's unsent image, a small PNG/JPEG/WebP", async (app) => {
  const ada = await newGuest(app);
  const bob = await newGuest(app);
  const photo = await uploaded(app, ada, png(4000, 3000), "photo.png");
  const pdf = await uploaded(app, ada, PDF, "doc.pdf");

  const notImage = await putPreview(app, ada, pdf.id, webp(100, 100));
  assert.equal(notImage.status, 400);
  assert.equal(notImage.json.error.code, "not_an_image");
  const huge = await putPreview(app, ada, photo.id, png(1601, 1200));
  assert.equal(huge.status, 400);
  assert.equal(huge.json.error.code, "invalid_preview");
  const gifPreview = await putPreview(app, ada, photo.id, gif(100, 100));
  assert.equal(gifPreview.status, 400);
  assert.equal(gifPreview.json.error.code, "invalid_preview");
  const notPicture = await putPreview(app, ada, photo.id, PDF);
  assert.equal(notPicture.status, 400);
  const heavy = concat(png(100, 100), new Uint8Array(512 * 1024));
  const tooHeavy = await putPreview(app, ada, photo.id, heavy);
  assert.equal(tooHeavy.status, 413);
  assert.equal(tooHeavy.json.error.code, "file_too_large");
  const others = await putPreview(app, bob, photo.id, webp(1280, 960));
  assert.equal(others.status, 404);
  assert.equal(others.json.error.code, "file_not_found");
  const unknown = await putPreview(app, ada, "AAAAAAAAAAAAAAAAAAAAAA", webp(10, 10));
  assert.equal(unknown.status, 404);

  const preview = webp(1280, 960);
  const answer = await putPreview(app, ada, photo.id, preview);
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  assert.deepEqual(answer.json.preview, {
    url: `${photo.url}?preview`,
    type: "image/webp",
    size: preview.length,
    width: 1280,
    height: 960,
  });
  assert.equal(answer.json.width, 4000, "the original stays as it is");
  const served = await fetchFile(app, answer.json.preview.url, ada);
  assert.equal(served.status, 200);
  assert.equal(served.headers.get("content-type"), "image/webp");
  assert.match(served.headers.get("content-disposition")!, /^inline;/);
  assert.deepEqual(await bytesOf(served), preview);
  const original = await fetchFile(app, photo.url, ada);
  assert.equal(original.headers.get("content-type"), "image/png");
  assert.notEqual(original.headers.get("etag"), served.headers.get("etag"));
  await original.body?.cancel();

  const sent = await send(app, ada, [photo.id]);
  assert.deepEqual(sent.json.attachments[0].preview, answer.json.preview);
  const late = await putPreview(app, ada, photo.id, webp(640, 480));
  assert.equal(late.status, 409);
  assert.equal(late.json.error.code, "file_attached");
  const noPreview = await fetchFile(app, `${pdf.url}?preview`, ada);
  assert.equal(noPreview.status, 404);
  await noPreview.body?.cancel();
});

fileTest("the OpenAPI document describes the upload, preview and file routes", async (app) => {
  const doc = await (await app.request("/api/openapi.json")).json();
  const post = doc.paths["/api/rooms/{room}/files"].post;
  assert.ok(post.requestBody.content["multipart/form-data"]);
  assert.deepEqual(
    Object.keys(post.responses["201"].content["application/json"].schema.properties).sort(),
    [
      "height",
      "id",
      "name",
      "preview",
      "size",
      "type",
      "url",
      "width",
    ],
  );
  assert.ok(post.responses["413"] && post.responses["429"]);
  assert.ok(doc.paths["/api/rooms/{room}/files/{id}/preview"].put);
  const get = doc.paths["/files/{id}/{name}"].get;
  assert.ok(get.responses["206"] && get.responses["304"] && get.responses["416"]);
  const message = doc.paths["/api/rooms/{room}/messages"].post;
  const body = message.requestBody.content["application/json"].schema;
  assert.equal(body.properties.attachments.maxItems, 10);
});
