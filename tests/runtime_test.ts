// The islands runtime: route paths, island markers and props, the manifest, and a fixture app.
import assert from "node:assert/strict";
import { h } from "preact";
import { renderToString } from "preact-render-to-string";
import { signal } from "@preact/signals";
import { compareRoutes, routePath } from "../runtime/route_paths.ts";
import { registerIsland, serializeProps } from "../runtime/island_marker.tsx";
import { generateManifest } from "../runtime/manifest.ts";
import { buildBundle, createApp, type Manifest } from "../runtime/mod.ts";
import * as app from "./fixtures/mini/routes/_app.tsx";
import * as notFound from "./fixtures/mini/routes/_404.tsx";
import * as middleware from "./fixtures/mini/routes/_middleware.ts";
import * as index from "./fixtures/mini/routes/index.tsx";
import * as thing from "./fixtures/mini/routes/things/[id].tsx";
import * as hello from "./fixtures/mini/routes/api/hello.ts";
import * as counter from "./fixtures/mini/islands/counter.tsx";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("runtime: file names map to URL patterns", () => {
  const cases: [string, string, string][] = [
    ["./routes/index.tsx", "/", "route"],
    ["./routes/rooms/[room].tsx", "/rooms/:room", "route"],
    ["./routes/api/rooms/[room]/messages.ts", "/api/rooms/:room/messages", "route"],
    ["./routes/api/openapi.json.ts", "/api/openapi.json", "route"],
    ["./routes/docs/index.tsx", "/docs", "route"],
    ["./routes/files/[...path].ts", "/files/:path{.+}", "route"],
    ["./routes/_app.tsx", "/", "app"],
    ["./routes/_404.tsx", "/", "404"],
    ["./routes/api/_middleware.ts", "/api", "middleware"],
  ];
  for (const [file, pattern, kind] of cases) {
    assert.deepEqual(routePath(file), { file, pattern, kind }, file);
  }
});

Deno.test("runtime: static segments match before parameters, parameters before catch-alls", () => {
  const files = [
    "./routes/[...all].ts",
    "./routes/rooms/[room].tsx",
    "./routes/rooms/new.tsx",
    "./routes/index.tsx",
  ];
  const sorted = files.map(routePath).sort(compareRoutes).map((r) => r.pattern);
  assert.ok(sorted.indexOf("/rooms/new") < sorted.indexOf("/rooms/:room"));
  assert.ok(sorted.indexOf("/rooms/:room") < sorted.indexOf("/:all{.+}"));
  assert.equal(sorted.at(-1), "/:all{.+}");
});

Deno.test("runtime: island props cannot break out of their script element", () => {
  const json = serializeProps({
    text: "</script><script>alert(1)</script>",
    amp: "a & b",
    separators: "\u2028\u2029",
  });
  assert.ok(!json.includes("<"), json);
  assert.ok(!json.includes(">"), json);
  assert.ok(!json.includes("&"), json);
  assert.ok(!json.includes("\u2028") && !json.includes("\u2029"));
  assert.deepEqual(JSON.parse(json), {
    text: "</script><script>alert(1)</script>",
    amp: "a & b",
    separators: "\u2028\u2029",
  });
});

Deno.test("runtime: island props carry signal values and refuse functions", () => {
  assert.deepEqual(JSON.parse(serializeProps({ count: signal(3) })), { count: { $signal: 3 } });
  assert.throws(() => serializeProps({ onClick: () => {} }), /onClick.*serializable/);
});

Deno.test("runtime: an island renders inside a marker; islands within islands do not", () => {
  function Inner({ n }: { n: number }) {
    return h("i", null, n);
  }
  function Outer({ n }: { n: number }) {
    return h("b", null, h(Inner, { n }));
  }
  registerIsland(Inner, "test_inner#Inner");
  registerIsland(Outer, "test_outer#Outer");
  const html = renderToString(h("div", null, h(Outer, { n: 7 })));
  assert.equal(
    html,
    '<div><island-root data-island="test_outer#Outer">' +
      '<script type="application/json">{"n":7}</script><b><i>7</i></b></island-root></div>',
  );
  const alone = renderToString(h(Inner, { n: 1 }));
  assert.match(alone, /^<island-root data-island="test_inner#Inner">/);
});

Deno.test("runtime: the committed manifest is up to date (run `deno task manifest`)", async () => {
  const committed = await Deno.readTextFile(`${root}/fresh.gen.ts`);
  assert.equal(committed, await generateManifest(root));
});

async function miniApp() {
  const base = new URL("./fixtures/mini/", import.meta.url);
  const manifest: Manifest = {
    routes: {
      "./routes/_app.tsx": app,
      "./routes/_404.tsx": notFound,
      "./routes/_middleware.ts": middleware,
      "./routes/index.tsx": index,
      "./routes/things/[id].tsx": thing,
      "./routes/api/hello.ts": hello,
    },
    islands: { "./islands/counter.tsx": counter },
    baseUrl: new URL("./manifest.ts", base).href,
  };
  const bundle = await buildBundle({
    islands: Object.keys(manifest.islands),
    baseUrl: manifest.baseUrl,
  });
  return {
    bundle,
    app: await createApp({ manifest, bundle, staticDir: new URL("static", base).pathname }),
  };
}

Deno.test("runtime: pages render with handler data, middleware state and island hydration data", async () => {
  const { app, bundle } = await miniApp();
  const response = await app.request("http://x/?start=5");
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type")!, /^text\/html/);
  const html = await response.text();
  assert.ok(html.startsWith("<!DOCTYPE html><html>"));
  assert.match(html, /<h1>hello<\/h1>/);
  assert.match(
    html,
    /<island-root data-island="counter#Counter"><script type="application\/json">/,
  );
  assert.ok(!html.includes("</script><script>alert(1)"), "props are escaped");
  assert.match(html, /<button type="button" title="&lt;\/script>.*">5<\/button>/);
  const islandMap = html.match(/<script type="application\/json" id="__islands">(.*?)<\/script>/);
  assert.ok(islandMap);
  assert.deepEqual(JSON.parse(islandMap[1]), { counter: bundle.islands.counter });
  assert.ok(html.includes(`<script type="module" src="${bundle.boot}"></script></body>`));
});

Deno.test("runtime: bundles are content-hashed and served for a year, immutable", async () => {
  const { app, bundle } = await miniApp();
  assert.match(bundle.boot, /^\/_parley\/js\/boot-[A-Z0-9]+\.js$/);
  assert.match(bundle.islands.counter, /^\/_parley\/js\/counter-[A-Z0-9]+\.js$/);
  const response = await app.request(`http://x${bundle.islands.counter}`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assert.match(response.headers.get("content-type")!, /javascript/);
  assert.match(await response.text(), /export/);
  assert.equal((await app.request("http://x/_parley/js/nope-123.js")).status, 404);
});

Deno.test("runtime: pages without handlers, parameters, 404 and 405", async () => {
  const { app } = await miniApp();
  const thingPage = await app.request("http://x/things/42");
  assert.match(await thingPage.text(), /<p class="thing">thing 42<\/p>/);
  const missing = await app.request("http://x/nothing/here");
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /No page at \/nothing\/here/);
  const wrong = await app.request("http://x/api/hello");
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get("allow"), "POST");
  await wrong.body?.cancel();
  const posted = await app.request("http://x/api/hello", { method: "POST", body: '{"a":1}' });
  assert.equal(posted.status, 201);
  assert.deepEqual(await posted.json(), { got: { a: 1 } });
});

Deno.test("runtime: static files revalidate by ETag; versioned URLs are immutable", async () => {
  const { app } = await miniApp();
  const first = await app.request("http://x/hello.txt");
  assert.equal(await first.text(), "hello static\n");
  const etag = first.headers.get("etag")!;
  assert.match(etag, /^"[0-9a-f]{16}"$/);
  assert.equal(first.headers.get("cache-control"), "public, max-age=0, must-revalidate");
  const again = await app.request("http://x/hello.txt", { headers: { "if-none-match": etag } });
  assert.equal(again.status, 304);
  const versioned = await app.request(`http://x/hello.txt?v=${etag.slice(1, -1)}`);
  assert.equal(versioned.headers.get("cache-control"), "public, max-age=31536000, immutable");
  await versioned.body?.cancel();
});
