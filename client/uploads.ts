// The composer's uploads: each file is sent with progress and can be cancelled; large images get a preview made here, in the browser, before the message is sent.
import { computed, signal } from "@preact/signals";
import type { Attachment } from "../db/store.ts";

/** One file in the composer: uploading, done (an attachment to send), or failed. */
export interface Upload {
  /** Local key (the chip's identity). */
  key: string;
  name: string;
  size: number;
  /** `uploading` (with progress), `preview` (making and sending the inline preview), … */
  state: "uploading" | "preview" | "done" | "failed";
  /** Bytes sent so far. */
  loaded: number;
  /** The stored file, once uploaded. */
  attachment?: Attachment;
  /** What went wrong, readably ("photo.png is too big (max 25 MB)"). */
  error?: string;
}

/** Options for {@link createUploadQueue}. */
export interface UploadQueueOptions {
  roomSlug: string;
  /** Largest file the server takes, in bytes, when known: bigger ones fail at once. */
  maxBytes?: number;
  /** At most this many files per message (the server refuses more). */
  maxFiles?: number;
}

/** Images larger than this (either side, in pixels) or {@link PREVIEW_ABOVE_BYTES} get a preview. */
export const PREVIEW_SIDE = 1280;
const PREVIEW_ABOVE_BYTES = 300 * 1000;
/** The server's limit for previews. */
const PREVIEW_MAX_BYTES = 512 * 1024;
/** Image types the browser decodes and the page shows inline (GIFs keep their animation). */
const PREVIEWABLE = new Set(["image/png", "image/jpeg", "image/webp", "image/avif"]);

/** A size for people: "812 bytes", "4.2 KB", "25 MB". */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? "byte" : "bytes"}`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = value < 10 && !Number.isInteger(value) ? 1 : 0;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** The API's `{error: {code, message}}`, when the answer carries one. */
function apiError(text: string): { code?: string; message?: string } {
  try {
    const body = JSON.parse(text);
    return typeof body?.error === "object" && body.error ? body.error : {};
  } catch {
    return {};
  }
}

/** What a failed upload answer means for the reader, naming the file. */
export function uploadError(
  name: string,
  answer: { status: number; body: string; retryAfter?: string | null },
  maxBytes?: number,
): string {
  const { code, message } = apiError(answer.body);
  if (answer.status === 0) return `${name} could not be uploaded: no connection.`;
  if (answer.status === 413 || code === "file_too_large") {
    return `${name} is too big${maxBytes ? ` (max ${formatSize(maxBytes)})` : ""}.${
      !maxBytes && message ? ` ${message}` : ""
    }`;
  }
  if (code === "empty_file") return `${name} is empty.`;
  if (answer.status === 429) {
    const wait = Number(answer.retryAfter);
    return `${name} was not uploaded: ${message ?? "too many uploads"}${
      wait > 0 ? ` Try again in ${formatWait(wait)}.` : ""
    }`;
  }
  return `${name} was not uploaded: ${message ?? `the server answered ${answer.status}.`}`;
}

function formatWait(seconds: number): string {
  if (seconds < 90) return `${Math.ceil(seconds)} s`;
  if (seconds < 5400) return `${Math.ceil(seconds / 60)} min`;
  return `${Math.ceil(seconds / 3600)} h`;
}

/** Sends `form` with XMLHttpRequest (for upload progress); resolves with the answer. */
function sendForm(
  method: string,
  url: string,
  form: FormData,
  handlers: { onProgress?: (loaded: number) => void; onStart?: (xhr: XMLHttpRequest) => void },
): Promise<{ status: number; body: string; retryAfter: string | null; aborted: boolean }> {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("accept", "application/json");
    xhr.upload.onprogress = (e) => handlers.onProgress?.(e.loaded);
    const done = (aborted: boolean) => () =>
      resolve({
        status: aborted ? 0 : xhr.status,
        body: aborted ? "" : xhr.responseText,
        retryAfter: aborted ? null : xhr.getResponseHeader("retry-after"),
        aborted,
      });
    xhr.onload = done(false);
    xhr.onerror = done(false);
    xhr.ontimeout = done(false);
    xhr.onabort = done(true);
    handlers.onStart?.(xhr);
    xhr.send(form);
  });
}

/** Whether an uploaded image deserves a preview: larger than the inline size, or heavy. */
export function needsPreview(attachment: Attachment): boolean {
  if (!PREVIEWABLE.has(attachment.type)) return false;
  const side = Math.max(attachment.width ?? 0, attachment.height ?? 0);
  return side > PREVIEW_SIDE || attachment.size > PREVIEW_ABOVE_BYTES;
}

/**
 * Makes the inline preview of an image: EXIF orientation applied, longest side at most
 * {@link PREVIEW_SIDE}, re-encoded as WebP (JPEG where WebP cannot be written), which leaves
 * every metadata (EXIF, GPS) behind. Null when the browser cannot decode it.
 */
export async function makePreview(file: Blob): Promise<Blob | null> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    return null;
  }
  try {
    const scale = Math.min(1, PREVIEW_SIDE / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = typeof OffscreenCanvas === "undefined"
      ? Object.assign(document.createElement("canvas"), { width, height })
      : new OffscreenCanvas(width, height);
    const context = canvas.getContext("2d") as
      | CanvasRenderingContext2D
      | OffscreenCanvasRenderingContext2D
      | null;
    if (!context) return null;
    context.imageSmoothingQuality = "high";
    context.drawImage(bitmap, 0, 0, width, height);
    for (const quality of [0.8, 0.65, 0.5]) {
      let blob = await encode(canvas, "image/webp", quality);
      if (blob?.type !== "image/webp") blob = await encode(canvas, "image/jpeg", quality + 0.05);
      if (blob && blob.size <= PREVIEW_MAX_BYTES) return blob;
    }
    return null;
  } finally {
    bitmap.close();
  }
}

function encode(
  canvas: HTMLCanvasElement | OffscreenCanvas,
  type: string,
  quality: number,
): Promise<Blob | null> {
  if ("convertToBlob" in canvas) return canvas.convertToBlob({ type, quality }).catch(() => null);
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
}

/** The uploads of one composer: add files, watch their progress, cancel, take the finished ones. */
export function createUploadQueue(options: UploadQueueOptions) {
  const base = `/api/rooms/${encodeURIComponent(options.roomSlug)}/files`;
  const maxFiles = options.maxFiles ?? 10;
  const uploads = signal<Upload[]>([]);
  const requests = new Map<string, XMLHttpRequest>();
  let counter = 0;

  /** Whether some upload is still under way. */
  const busy = computed(() =>
    uploads.value.some((u) => u.state === "uploading" || u.state === "preview")
  );
  /** The uploads ready to send. */
  const ready = computed(() =>
    uploads.value.filter((u) => u.state === "done").map((u) => u.attachment!)
  );

  function update(key: string, change: Partial<Upload>) {
    uploads.value = uploads.value.map((u) => u.key === key ? { ...u, ...change } : u);
  }

  function has(key: string): boolean {
    return uploads.value.some((u) => u.key === key);
  }

  async function upload(key: string, file: File) {
    const form = new FormData();
    form.append("file", file, file.name);
    const answer = await sendForm("POST", base, form, {
      onStart: (xhr) => requests.set(key, xhr),
      onProgress: (loaded) => update(key, { loaded: Math.min(loaded, file.size) }),
    });
    requests.delete(key);
    if (answer.aborted || !has(key)) return;
    if (answer.status !== 201) {
      // A connection cut while sending a file over the limit is the limit's doing.
      const tooBig = answer.status === 0 && options.maxBytes && file.size > options.maxBytes;
      const error = uploadError(
        file.name,
        tooBig ? { status: 413, body: "" } : answer,
        options.maxBytes,
      );
      return update(key, { state: "failed", error });
    }
    let attachment = JSON.parse(answer.body) as Attachment;
    if (needsPreview(attachment)) {
      update(key, { state: "preview", loaded: file.size, attachment });
      attachment = await withPreview(key, attachment, file) ?? attachment;
      if (!has(key)) return;
    }
    update(key, { state: "done", loaded: file.size, attachment });
  }

  /** Makes and sends the preview; the attachment with it, or null (the image is shown itself). */
  async function withPreview(key: string, attachment: Attachment, file: File) {
    const preview = await makePreview(file);
    if (!preview || !has(key)) return null;
    const form = new FormData();
    const ext = preview.type === "image/webp" ? "webp" : "jpg";
    form.append("file", preview, `preview.${ext}`);
    const answer = await sendForm(
      "PUT",
      `${base}/${encodeURIComponent(attachment.id)}/preview`,
      form,
      { onStart: (xhr) => requests.set(key, xhr) },
    );
    requests.delete(key);
    if (answer.status !== 200) return null;
    return JSON.parse(answer.body) as Attachment;
  }

  /** Starts uploading files (too big ones, and those past the per-message limit, fail at once). */
  function add(files: Iterable<File>) {
    const added: Upload[] = [];
    const starts: [string, File][] = [];
    let count = uploads.value.filter((u) => u.state !== "failed").length;
    for (const file of files) {
      const key = `upload-${++counter}`;
      const upload: Upload = {
        key,
        name: file.name || "file",
        size: file.size,
        state: "uploading",
        loaded: 0,
      };
      if (options.maxBytes && file.size > options.maxBytes) {
        upload.state = "failed";
        upload.error = uploadError(upload.name, { status: 413, body: "" }, options.maxBytes);
      } else if (file.size === 0) {
        upload.state = "failed";
        upload.error = `${upload.name} is empty.`;
      } else if (count >= maxFiles) {
        upload.state = "failed";
        upload.error = `${upload.name} was not added: at most ${maxFiles} files per message.`;
      } else {
        count++;
        starts.push([key, file]);
      }
      added.push(upload);
    }
    uploads.value = [...uploads.value, ...added];
    for (const [key, file] of starts) upload(key, file);
    return added;
  }

  /** Cancels an upload under way, or takes a file out of the message. */
  function remove(key: string) {
    uploads.value = uploads.value.filter((u) => u.key !== key);
    requests.get(key)?.abort();
    requests.delete(key);
  }

  /** Forgets every file (after sending; uploads still under way are cancelled). */
  function clear() {
    for (const xhr of requests.values()) xhr.abort();
    requests.clear();
    uploads.value = [];
  }

  return { uploads, busy, ready, add, remove, clear };
}

/** The uploads of one composer. */
export type UploadQueue = ReturnType<typeof createUploadQueue>;
