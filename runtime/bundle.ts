// Builds the browser bundles (boot script and islands) with esbuild, in memory or to a folder.
import * as esbuild from "esbuild";
import { fromFileUrl, toFileUrl } from "./file_urls.ts";

/** Where bundles are served from. */
export const BUNDLE_PREFIX = "/_parley/js/";

/** Built browser code: file contents by name plus the URLs of the entry points. */
export interface Bundle {
  /** Output files by name (content-hashed, e.g. `chat_room-3FZK2L.js`). */
  files: Map<string, Uint8Array>;
  /** Bundle URL of each island file, by island name (`chat_room`). */
  islands: Record<string, string>;
  /** Bundle URL of the boot script. */
  boot: string;
}

/** Options for {@link buildBundle}. */
export interface BuildOptions {
  /** Island files as manifest keys (`./islands/chat_room.tsx`), relative to `baseUrl`. */
  islands: string[];
  /** The manifest's URL; island paths resolve against it. */
  baseUrl: string;
  /** Minify and drop source maps (production), or keep them readable (development). */
  minify?: boolean;
}

/** The island name of a manifest key: `./islands/chat_room.tsx` → `chat_room`. */
export function islandName(file: string): string {
  return file.replace(/^\.\/islands\//, "").replace(/\.(tsx?|jsx?)$/, "");
}

/** Bundles the boot script and every island with shared chunks and content-hashed names. */
export async function buildBundle(options: BuildOptions): Promise<Bundle> {
  const root = fromFileUrl(new URL(".", options.baseUrl));
  const entryPoints: Record<string, string> = {
    boot: fromFileUrl(new URL("./client/boot.ts", import.meta.url)),
  };
  for (const file of options.islands) {
    entryPoints[islandName(file).replaceAll("/", "__")] = fromFileUrl(
      new URL(file, options.baseUrl),
    );
  }
  const result = await esbuild.build({
    entryPoints,
    absWorkingDir: root,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    outdir: "/out",
    entryNames: "[name]-[hash]",
    chunkNames: "chunk-[hash]",
    write: false,
    metafile: true,
    minify: options.minify ?? true,
    sourcemap: options.minify === false ? "inline" : false,
    jsx: "automatic",
    jsxImportSource: "preact",
    define: {
      "process.env.NODE_ENV": options.minify === false ? '"development"' : '"production"',
    },
    logLevel: "silent",
  });
  await esbuild.stop();
  const files = new Map<string, Uint8Array>();
  for (const file of result.outputFiles) {
    files.set(file.path.replace(/^\/out\//, ""), file.contents);
  }
  const islands: Record<string, string> = {};
  let boot = "";
  for (const [out, meta] of Object.entries(result.metafile.outputs)) {
    if (!meta.entryPoint) continue;
    const url = BUNDLE_PREFIX + out.replace(/^.*?out\//, "");
    const source = toFileUrl(`${root}/${meta.entryPoint}`).href;
    if (source === toFileUrl(entryPoints.boot).href) {
      boot = url;
      continue;
    }
    const file = options.islands.find((key) => new URL(key, options.baseUrl).href === source);
    if (file) islands[islandName(file)] = url;
  }
  return { files, islands, boot };
}

/** Writes a bundle to `dir` (the `build` task), with `bundle.json` describing it. */
export async function writeBundle(bundle: Bundle, dir: string): Promise<void> {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${dir}/js`, { recursive: true });
  for (const [name, contents] of bundle.files) {
    await Deno.writeFile(`${dir}/js/${name}`, contents);
  }
  const index = {
    islands: bundle.islands,
    boot: bundle.boot,
    files: [...bundle.files.keys()],
  };
  await Deno.writeTextFile(
    `${dir}/bundle.json`,
    JSON.stringify(index, null, 2) + "\n",
  );
}

/** Reads a bundle written by {@link writeBundle}, or returns null when there is none. */
export async function readBundle(dir: string): Promise<Bundle | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${dir}/bundle.json`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  const index = JSON.parse(text) as {
    islands: Record<string, string>;
    boot: string;
    files: string[];
  };
  const files = new Map<string, Uint8Array>();
  for (const name of index.files) {
    files.set(name, await Deno.readFile(`${dir}/js/${name}`));
  }
  return { files, islands: index.islands, boot: index.boot };
}
