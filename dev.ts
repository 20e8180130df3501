// `deno task dev`: regenerates the manifest, then serves with readable bundles built on the fly.
import { writeManifest } from "./runtime/manifest.ts";

const root = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
if (await writeManifest(root)) console.log("fresh.gen.ts updated");
Deno.env.set("PARLEY_DEV", "1");
await import("./main.ts");
