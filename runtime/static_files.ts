// Serves the static/ folder from memory with ETags, and versioned asset URLs with immutable caching.
import type { MiddlewareHandler } from "hono";
import { getMimeType } from "hono/utils/mime";

interface StaticFile {
  body: Uint8Array;
  etag: string;
  hash: string;
  type: string;
}

/** The static folder, loaded into memory: small files, served often. */
export interface StaticFiles {
  /** Middleware answering GET/HEAD for files in the folder. */
  middleware: MiddlewareHandler;
  /** `/styles.css` → `/styles.css?v=<content hash>`, cacheable forever. */
  asset(path: string): string;
}

/** A short content hash (16 hex digits of SHA-256), for ETags and versioned URLs. */
export async function contentHash(body: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", body as BufferSource);
  return [...new Uint8Array(digest).slice(0, 8)]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function readTree(
  dir: string,
  prefix: string,
  into: Map<string, StaticFile>,
): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    const url = `${prefix}/${entry.name}`;
    if (entry.isDirectory) await readTree(path, url, into);
    else if (entry.isFile) {
      const body = await Deno.readFile(path);
      const hash = await contentHash(body);
      const type = getMimeType(entry.name) ?? "application/octet-stream";
      into.set(url, { body, hash, etag: `"${hash}"`, type });
    }
  }
}

/** Serves one in-memory file with ETag revalidation; `immutable` when the URL names its version. */
export function serveFile(
  request: Request,
  file: { body: Uint8Array; etag: string; type: string },
  immutable: boolean,
): Response {
  const headers = new Headers({
    "content-type": file.type,
    etag: file.etag,
    "cache-control": immutable
      ? "public, max-age=31536000, immutable"
      : "public, max-age=0, must-revalidate",
  });
  if (request.headers.get("if-none-match") === file.etag) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(
    request.method === "HEAD" ? null : file.body as BufferSource,
    { headers },
  );
}

/** Loads `dir` (absent is fine: nothing is served) and returns its middleware and `asset()`. */
export async function loadStaticFiles(dir: string): Promise<StaticFiles> {
  const files = new Map<string, StaticFile>();
  try {
    await readTree(dir, "", files);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return {
    middleware: async (c, next) => {
      const file = (c.req.method === "GET" || c.req.method === "HEAD") &&
        files.get(c.req.path);
      if (!file) return await next();
      const version = c.req.query("v");
      return serveFile(c.req.raw, file, version === file.hash);
    },
    asset(path) {
      const file = files.get(path);
      return file ? `${path}?v=${file.hash}` : path;
    },
  };
}
