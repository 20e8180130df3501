// Uploads: what may be uploaded where, limits and quota, type and size from the bytes, who may read a file, and how it is served.
import { fileTypeFromBuffer } from "file-type";
import { imageSize } from "image-size";
import {
  type Attachment,
  FileTooLargeError,
  type Member,
  type Room,
  type Store,
  type StoredFile,
} from "../db/store.ts";
import { ChatError, tooFast } from "./chat_error.ts";
import { type Limiters, localLimiters } from "./limiters.ts";
import { canSeeRoom, refuseArchived } from "./rooms.ts";

/** Limits on uploads (see the README's configuration table). */
export interface FileLimits {
  /** Largest file, in bytes (`PARLEY_MAX_UPLOAD_MB`). */
  maxUploadBytes: number;
  /** Bytes one member may upload in 24 hours (`PARLEY_UPLOAD_MB_PER_DAY`). */
  uploadBytesPerDay: number;
  /** Uploads (files and previews) one member may make per minute. */
  uploadsPerMinute: number;
}

const MB = 1024 * 1024;
const DAY_MS = 24 * 3600 * 1000;

/** The default upload limits. */
export const DEFAULT_FILE_LIMITS: FileLimits = {
  maxUploadBytes: 25 * MB,
  uploadBytesPerDay: 500 * MB,
  uploadsPerMinute: 30,
};

/** Files one message may carry. */
export const MAX_ATTACHMENTS = 10;
/** Largest preview image, in bytes. */
export const MAX_PREVIEW_BYTES = 512 * 1024;
/** Longest side of a preview image, in pixels. */
export const MAX_PREVIEW_SIDE = 1600;
/** The longest file name kept, in characters (the extension is kept). */
const MAX_NAME_CHARS = 200;
/** How much of the start of a file is looked at for its type and dimensions. */
const HEAD_BYTES = 256 * 1024;

/**
 * Types a browser may show from our origin: images it decodes itself (never SVG), and audio
 * and video of the usual kinds. Everything else is served as a download.
 */
const INLINE_TYPES = new Set([
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "image/avif",
  "audio/mpeg",
  "audio/ogg",
  "audio/opus",
  "audio/wav",
  "audio/x-wav",
  "audio/flac",
  "audio/x-flac",
  "audio/aac",
  "audio/mp4",
  "audio/x-m4a",
  "audio/webm",
  "video/mp4",
  "video/webm",
  "video/ogg",
  "video/quicktime",
  "video/x-m4v",
]);

/** Types a preview may have. */
const PREVIEW_TYPES = new Set(["image/png", "image/jpeg", "image/webp"]);

/** Types a browser might run or render as a document: always served as opaque bytes. */
const ACTIVE_TYPE = /html|xml|svg|javascript|ecmascript|x-sh\b/i;

/** A file as it arrives: the name the client gave and its bytes, in chunks. */
export interface IncomingFile {
  name: string;
  content: AsyncIterable<Uint8Array>;
}

/** Whether a type is shown inline (in the page, or opened in the browser) from our origin. */
export function isInlineType(type: string): boolean {
  return INLINE_TYPES.has(type);
}

/**
 * The `Content-Type` a file is served with: its type, except that types a browser could run
 * (HTML, SVG, XML, scripts) are plain bytes.
 */
export function servedType(type: string): string {
  return ACTIVE_TYPE.test(type) ? "application/octet-stream" : type;
}

/**
 * The `Content-Disposition` of a file: `inline` for safe image, audio and video types,
 * `attachment` for everything else, with the name in ASCII and in UTF-8 (RFC 6266, RFC 5987).
 */
export function contentDisposition(type: string, name: string): string {
  const kind = isInlineType(type) ? "inline" : "attachment";
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, "_");
  const utf8 = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${utf8}`;
}

/**
 * A file name as kept: no folders, no control or direction characters, trimmed, NFC, at most
 * 200 characters (keeping the extension); `file` when nothing is left.
 */
export function cleanFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? "";
  let clean = base.normalize("NFC")
    .replace(/[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/gu, "")
    .trim();
  const chars = [...clean];
  if (chars.length > MAX_NAME_CHARS) {
    const dot = clean.lastIndexOf(".");
    const extension = dot > 0 ? [...clean.slice(dot)] : [];
    const keep = extension.length < 20 ? extension : [];
    clean = chars.slice(0, MAX_NAME_CHARS - keep.length).join("") + keep.join("");
  }
  return clean === "" || clean === "." || clean === ".." ? "file" : clean;
}

/** The file's API shape (without where it belongs and its content key). */
export function toAttachment(file: StoredFile): Attachment {
  return {
    id: file.id,
    name: file.name,
    size: file.size,
    type: file.type,
    url: file.url,
    width: file.width,
    height: file.height,
    preview: file.preview,
  };
}

/** What the start of some bytes says: their type and, for images, their size in pixels. */
export interface Sniffed {
  type: string;
  width: number | null;
  height: number | null;
}

/** The type (`application/octet-stream` when unknown) and image dimensions of `head`. */
export async function sniff(head: Uint8Array): Promise<Sniffed> {
  const found = await fileTypeFromBuffer(head).catch(() => undefined);
  const type = found?.mime ?? "application/octet-stream";
  if (!type.startsWith("image/")) return { type, width: null, height: null };
  try {
    const size = imageSize(head);
    // Orientations 5 to 8 turn the picture a quarter: it shows with width and height swapped.
    const turned = size.orientation !== undefined && size.orientation >= 5;
    const width = turned ? size.height : size.width;
    const height = turned ? size.width : size.height;
    if (width > 0 && height > 0) return { type, width, height };
  } catch {
    // Dimensions unknown (a truncated header, or further in than the bytes looked at).
  }
  return { type, width: null, height: null };
}

/**
 * Reads the first `size` bytes of `content` (or all of it, when shorter), and gives back the
 * whole content as chunks again: those bytes, then the rest as it comes. The bytes read are
 * copied as they come (a chunk may be a view of a buffer that the sender fills again once the
 * next chunk is asked for); the rest is passed on as given.
 */
async function peek(
  content: AsyncIterable<Uint8Array>,
  size: number,
): Promise<{ head: Uint8Array; content: AsyncIterable<Uint8Array> }> {
  const iterator = content[Symbol.asyncIterator]();
  const buffer = new Uint8Array(size);
  let length = 0;
  /** What the last chunk read had past the first `size` bytes. */
  let over: Uint8Array | undefined;
  let ended = false;
  while (length < size) {
    const step = await iterator.next();
    if (step.done) {
      ended = true;
      break;
    }
    const chunk = step.value;
    const taken = Math.min(chunk.byteLength, size - length);
    buffer.set(taken < chunk.byteLength ? chunk.subarray(0, taken) : chunk, length);
    length += taken;
    if (taken < chunk.byteLength) over = chunk.subarray(taken);
  }
  const head = buffer.subarray(0, length);
  async function* all(): AsyncGenerator<Uint8Array> {
    if (head.byteLength > 0) yield head;
    if (over) yield over;
    if (ended) return;
    try {
      for (;;) {
        const step = await iterator.next();
        if (step.done) return;
        yield step.value;
      }
    } finally {
      await iterator.return?.();
    }
  }
  return { head, content: all() };
}

function fileNotFound(): ChatError {
  return new ChatError(404, "file_not_found", "There is no such file.");
}

function tooLarge(maxBytes: number, what = "A file"): ChatError {
  const size = maxBytes >= MB ? `${Math.round(maxBytes / MB)} MB` : `${maxBytes / 1024} KiB`;
  return new ChatError(413, "file_too_large", `${what} can be at most ${size}.`);
}

/** Options for {@link createFiles}. */
export interface FilesOptions {
  store: Store;
  limits?: FileLimits;
  /** The clock (tests pass a fake one). */
  now?: () => number;
  /** Where rate limits are counted (default: this worker's memory). */
  limiters?: Limiters;
}

/** The file operations; one instance per app. */
export type Files = ReturnType<typeof createFiles>;

/** Creates the upload and download rules over a store. */
export function createFiles(options: FilesOptions) {
  const { store } = options;
  const limits = options.limits ?? DEFAULT_FILE_LIMITS;
  const now = options.now ?? Date.now;
  const uploads = (options.limiters ?? localLimiters).rate("uploads", {
    limit: limits.uploadsPerMinute,
    windowMs: 60_000,
  });

  function takeUpload(member: Member): void {
    const wait = uploads.take(String(member.id), now());
    if (wait > 0) throw tooFast(wait, "uploading");
  }

  function quotaReached(): ChatError {
    return new ChatError(
      429,
      "upload_quota",
      `You can upload at most ${
        Math.round(limits.uploadBytesPerDay / MB)
      } MB a day; try again later.`,
      { retryAfter: 3600 },
    );
  }

  /**
   * Stores an upload to `room` (the caller has checked that `member` may post there: the same
   * rules as sending a message). Its type and image size come from its bytes; it stays
   * unattached (seen only by its uploader) until a message carries it. Refused: an empty file
   * (400 `empty_file`), one over the size limit (413 `file_too_large`, nothing kept), past the
   * daily quota (429 `upload_quota`) or too many uploads a minute (429).
   */
  async function upload(member: Member, room: Room, file: IncomingFile): Promise<Attachment> {
    refuseArchived(room);
    takeUpload(member);
    const at = now();
    const used = await store.uploadedBytes(member.id, at - DAY_MS);
    const left = limits.uploadBytesPerDay - used;
    if (left <= 0) throw quotaReached();
    const maxBytes = Math.min(limits.maxUploadBytes, left);
    const { head, content } = await peek(file.content, HEAD_BYTES);
    if (head.byteLength === 0) throw new ChatError(400, "empty_file", "The file is empty.");
    if (head.byteLength > maxBytes) {
      throw maxBytes < limits.maxUploadBytes ? quotaReached() : tooLarge(maxBytes);
    }
    const { type, width, height } = await sniff(head);
    // Uploading to a public room joins it, as speaking there does.
    if (room.kind === "public") await store.addRoomMember(room.id, member.id);
    try {
      const stored = await store.addFile({
        roomId: room.id,
        uploaderId: member.id,
        name: cleanFileName(file.name),
        type,
        width,
        height,
        content,
        maxBytes,
        now: at,
      });
      return toAttachment(stored);
    } catch (error) {
      if (error instanceof FileTooLargeError) {
        throw maxBytes < limits.maxUploadBytes ? quotaReached() : tooLarge(maxBytes);
      }
      throw error;
    }
  }

  /**
   * Gives an image its preview: a PNG, JPEG or WebP (decided from its bytes) whose longest side
   * is at most 1,600 px, at most 512 KiB. Only the uploader, only while the file is not
   * attached yet, only for an image; 404 for a file of another room or anyone else's.
   */
  async function setPreview(
    member: Member,
    room: Room,
    fileId: string,
    preview: AsyncIterable<Uint8Array>,
  ): Promise<Attachment> {
    refuseArchived(room);
    const file = await store.getFile(fileId);
    if (!file || file.roomId !== room.id || file.uploaderId !== member.id) throw fileNotFound();
    if (file.messageId !== null) {
      throw new ChatError(
        409,
        "file_attached",
        "The file is already attached to a message; its preview cannot change.",
      );
    }
    if (file.width === null || !file.type.startsWith("image/")) {
      throw new ChatError(400, "not_an_image", "Only images have previews.");
    }
    takeUpload(member);
    const { head, content } = await peek(preview, MAX_PREVIEW_BYTES + 1);
    if (head.byteLength === 0) throw new ChatError(400, "empty_file", "The preview is empty.");
    if (head.byteLength > MAX_PREVIEW_BYTES) throw tooLarge(MAX_PREVIEW_BYTES, "A preview");
    const sniffed = await sniff(head);
    if (!PREVIEW_TYPES.has(sniffed.type) || sniffed.width === null || sniffed.height === null) {
      throw new ChatError(400, "invalid_preview", "A preview is a PNG, JPEG or WebP image.");
    }
    if (Math.max(sniffed.width, sniffed.height) > MAX_PREVIEW_SIDE) {
      throw new ChatError(
        400,
        "invalid_preview",
        `A preview's longest side is at most ${MAX_PREVIEW_SIDE} pixels.`,
      );
    }
    try {
      const updated = await store.setFilePreview({
        fileId: file.id,
        type: sniffed.type,
        width: sniffed.width,
        height: sniffed.height,
        content,
        maxBytes: MAX_PREVIEW_BYTES,
      });
      if (!updated) throw fileNotFound();
      return toAttachment(updated);
    } catch (error) {
      if (error instanceof FileTooLargeError) throw tooLarge(MAX_PREVIEW_BYTES, "A preview");
      throw error;
    }
  }

  /** Whether `viewer` may read the room `file` belongs to (as {@link canSeeRoom}). */
  async function mayReadRoom(file: StoredFile, viewer?: Member): Promise<boolean> {
    const room = await store.getRoomById(file.roomId);
    return room !== null && await canSeeRoom(store, room, viewer);
  }

  /**
   * The file `id` if `viewer` may read it: with the same rules as reading its room (private
   * and direct rooms: members only), and while unattached only by its uploader. For everyone
   * else it does not exist (404), as a room they may not see does not.
   */
  async function open(id: string, viewer?: Member): Promise<StoredFile> {
    const file = await store.getFile(id);
    if (!file) throw fileNotFound();
    if (file.messageId === null && file.uploaderId !== viewer?.id) throw fileNotFound();
    if (!await mayReadRoom(file, viewer)) throw fileNotFound();
    return file;
  }

  return { limits, upload, setPreview, open };
}
