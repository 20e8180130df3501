// `deno task build`: regenerates the manifest and writes content-hashed island bundles to _build/.
import { writeManifest } from "./runtime/manifest.ts";
import { buildBundle, writeBundle } from "./runtime/mod.ts";
import { loadConfig } from "./fresh.config.ts";

const root = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
await writeManifest(root);
const { default: manifest } = await import("./fresh.gen.ts");
const bundle = await buildBundle({
  islands: Object.keys(manifest.islands),
  baseUrl: manifest.baseUrl,
});
const dir = `${root}/${loadConfig().buildDir}`;
await writeBundle(bundle, dir);
console.log(`Wrote ${bundle.files.size} bundle files to ${dir}`);
