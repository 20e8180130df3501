// Serving an uploaded file: safe headers (nosniff, sandbox, inline only for safe types), caching with ETag, and byte ranges.
import type { ByteRange, Store, StoredFile } from "../db/store.ts";
import { ChatError } from "../chat/chat_error.ts";
import { contentDisposition, servedType } from "../chat/files.ts";

/** What a `Range` header asks of content `size` bytes long. */
export type RangeRequest =
  | { kind: "whole" }
  | { kind: "range"; range: ByteRange }
  | { kind: "unsatisfiable" };

/**
 * Reads a `Range` header (RFC 9110) for content of `size` bytes: one range `bytes=a-b`,
 * `bytes=a-` or the last n bytes `bytes=-n`. Several ranges, other units or nonsense are
 * served whole (as the RFC allows); a range starting past the end is unsatisfiable.
 */
export function parseRange(header: string | null, size: number): RangeRequest {
  if (header === null) return { kind: "whole" };
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match || (match[1] === "" && match[2] === "")) return { kind: "whole" };
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "range", range: { start: Math.max(0, size - suffix), end: size - 1 } };
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (match[2] !== "" && Number(match[2]) < start) return { kind: "whole" };
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "range", range: { start, end } };
}

/** Whether an `If-None-Match` header names `etag` (weakly compared, or `*`). */
function matches(header: string | null, etag: string): boolean {
  if (header === null) return false;
  return header.split(",").some((tag) => {
    const value = tag.trim().replace(/^W\//, "");
    return value === "*" || value === etag;
  });
}

/**
 * The answer to `GET`/`HEAD /files/{id}/{name}` (with `preview`, the file's preview image):
 * `X-Content-Type-Options: nosniff`, a sandboxing CSP, `Content-Disposition` inline only for
 * safe image, audio and video types (a download for everything else), private immutable
 * caching with the content's SHA-256 as ETag (304 on `If-None-Match`), and byte ranges (206,
 * 416). The file has been checked to be readable by whoever asks.
 */
export async function fileResponse(
  request: Request,
  store: Store,
  file: StoredFile,
  options: { preview: boolean },
): Promise<Response> {
  const preview = options.preview ? file.preview : null;
  if (options.preview && (!preview || !file.previewSha256)) {
    throw new ChatError(404, "file_not_found", "This file has no preview.");
  }
  const sha256 = preview ? file.previewSha256! : file.sha256;
  const size = preview ? preview.size : file.size;
  const type = preview ? preview.type : file.type;
  const etag = `"${sha256}"`;
  const headers = new Headers({
    "content-type": servedType(type),
    "content-disposition": contentDisposition(type, file.name),
    "x-content-type-options": "nosniff",
    "content-security-policy": "sandbox; default-src 'none'",
    "cache-control": "private, max-age=31536000, immutable",
    "etag": etag,
    "accept-ranges": "bytes",
  });
  if (matches(request.headers.get("if-none-match"), etag)) {
    return new Response(null, { status: 304, headers });
  }
  // A range applies only to the content the client has (If-Range with the same ETag).
  const ifRange = request.headers.get("if-range");
  const wanted = ifRange !== null && ifRange.trim() !== etag
    ? { kind: "whole" as const }
    : parseRange(request.headers.get("range"), size);
  if (wanted.kind === "unsatisfiable") {
    headers.set("content-range", `bytes */${size}`);
    headers.set("content-type", "text/plain; charset=utf-8");
    headers.delete("content-disposition");
    return new Response(null, { status: 416, headers });
  }
  const range = wanted.kind === "range" ? wanted.range : undefined;
  const length = range ? range.end - range.start + 1 : size;
  headers.set("content-length", String(length));
  if (range) headers.set("content-range", `bytes ${range.start}-${range.end}/${size}`);
  const status = range ? 206 : 200;
  if (request.method === "HEAD") return new Response(null, { status, headers });
  const body = await store.readContent(sha256, range);
  if (!body) throw new ChatError(404, "file_not_found", "There is no such file.");
  return new Response(body, { status, headers });
}
