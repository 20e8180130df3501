// Pages, scripts and styles go out gzipped (when accepted), decoding to exactly what they were; API answers and files do not.
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { acceptsGzip } from "../http/compression.ts";
import { appTest, newGuest } from "./helpers.ts";

const test = appTest("compression");

async function get(app: Parameters<Parameters<typeof test>[1]>[0], path: string, headers = {}) {
  const response = await app.request(path, { headers });
  return { response, bytes: new Uint8Array(await response.arrayBuffer()) };
}

test("the page is gzipped when accepted and decodes to the same page", async (app) => {
  const guest = await newGuest(app);
  const plain = await get(app, "/", { cookie: guest.cookie });
  assert.equal(plain.response.headers.get("content-encoding"), null, "not asked for: not sent");
  const zipped = await get(app, "/", { cookie: guest.cookie, "accept-encoding": "gzip, br" });
  assert.equal(zipped.response.headers.get("content-encoding"), "gzip");
  assert.equal(Number(zipped.response.headers.get("content-length")), zipped.bytes.byteLength);
  assert.match(zipped.response.headers.get("vary") ?? "", /accept-encoding/i);
  const page = new TextDecoder().decode(gunzipSync(zipped.bytes));
  // The same page but for the moments in it (render times): compare its structure.
  const text = new TextDecoder().decode(plain.bytes);
  assert.equal(page.length, text.length);
  assert.match(page, /^<!DOCTYPE html>/);
  assert.ok(zipped.bytes.byteLength < plain.bytes.byteLength * 0.75, "actually smaller");
  const refused = await get(app, "/", { cookie: guest.cookie, "accept-encoding": "gzip;q=0" });
  assert.equal(refused.response.headers.get("content-encoding"), null, "q=0 means no");
});

test("scripts are compressed once and served the same each time; API answers never", async (app) => {
  const guest = await newGuest(app);
  const html = await (await app.request("/", { headers: { cookie: guest.cookie } })).text();
  // The chat island's bundle: large enough to be worth compressing.
  const islands = html.match(/<script type="application\/json" id="__islands">(.*?)<\/script>/)
    ?.[1];
  const script = Object.values(JSON.parse(islands ?? "{}") as Record<string, string>)[0];
  assert.ok(script, "the page loads an island's script");
  const first = await get(app, script, { "accept-encoding": "gzip" });
  const second = await get(app, script, { "accept-encoding": "gzip" });
  assert.equal(first.response.headers.get("content-encoding"), "gzip");
  assert.deepEqual(second.bytes, first.bytes);
  const plain = await get(app, script);
  assert.deepEqual(new Uint8Array(gunzipSync(first.bytes)), plain.bytes);
  const api = await get(app, "/api/rooms/general/messages", {
    cookie: guest.cookie,
    "accept-encoding": "gzip",
  });
  assert.equal(api.response.status, 200);
  assert.equal(api.response.headers.get("content-encoding"), null);
});

Deno.test("compression: Accept-Encoding is read with its q values", () => {
  assert.equal(acceptsGzip("gzip, deflate, br"), true);
  assert.equal(acceptsGzip("br;q=1.0, gzip;q=0.8"), true);
  assert.equal(acceptsGzip("*"), true);
  assert.equal(acceptsGzip("gzip;q=0"), false);
  assert.equal(acceptsGzip("br, identity"), false);
  assert.equal(acceptsGzip(undefined), false);
});
