// Receiving one uploaded file from a multipart/form-data body: streamed chunk by chunk (never held whole), cut off at the size limit, timed out when it stalls.
import type { Readable } from "node:stream";
// @ts-types="@types/busboy"
import busboy from "busboy";
import { ChatError } from "../chat/chat_error.ts";
import type { IncomingFile } from "../chat/files.ts";
import { apiError, errorHeaders } from "./api_errors.ts";

/** Options for {@link receiveUpload}. */
export interface UploadOptions {
  /** The largest file accepted, in bytes; the body may be this plus a little for the form. */
  maxBytes: number;
  /** The body must keep coming: a pause longer than this is 408, in ms. */
  stallTimeoutMs: number;
  /** The form field of the file (default `file`). */
  field?: string;
}

/** Bytes a form may have besides the file's content (boundaries, part headers, small fields). */
const FORM_OVERHEAD_BYTES = 64 * 1024;

function invalidForm(message: string): ChatError {
  return new ChatError(400, "invalid_multipart", message);
}

function bodyTooLarge(maxBytes: number): ChatError {
  const mb = maxBytes / (1024 * 1024);
  return new ChatError(
    413,
    "file_too_large",
    `A file can be at most ${mb >= 1 ? `${Math.round(mb)} MB` : `${maxBytes} bytes`}.`,
  );
}

/**
 * Bytes read from the request body at a time, into one buffer per upload that every read
 * re-uses (a byte stream's BYOB reader) rather than a new buffer per chunk, which V8 frees only
 * lazily: 10 uploads of 25 MB at once grew the server's RSS by ~80 MiB with the default reader,
 * ~25 MiB with this (bench/RESULTS.md). Smaller buffers mean more reads and did worse.
 */
const BODY_BUFFER_BYTES = 64 * 1024;

/**
 * Reads a `multipart/form-data` request with one file in the part named `file`, and hands the
 * file to `handle` while it arrives: `handle` reads it as chunks (the body is read only as fast
 * as `handle` takes them, so at most a few chunks are in memory). Other small fields are
 * ignored. Refusals are {@link ChatError}s: not multipart (415 `unsupported_media_type`), no
 * file (400 `missing_file`), a second file (400 `too_many_files`), a malformed or cut-off form
 * (400 `invalid_multipart`), a body larger than the file limit allows (413 `file_too_large`,
 * known from `Content-Length` before reading, or while reading), and a body that stops coming
 * for `stallTimeoutMs` (408 `body_timeout`). `handle` then sees its chunks fail with the same
 * error. On any refusal the rest of the body is not read.
 */
export async function receiveUpload<T>(
  request: Request,
  options: UploadOptions,
  handle: (file: IncomingFile) => Promise<T>,
): Promise<T> {
  const field = options.field ?? "file";
  const type = request.headers.get("content-type") ?? "";
  if (!/^multipart\/form-data\s*;/i.test(type)) {
    request.body?.cancel().catch(() => {});
    throw new ChatError(
      415,
      "unsupported_media_type",
      `Send the file as multipart/form-data, in a part named ${field}.`,
    );
  }
  const maxBodyBytes = options.maxBytes + FORM_OVERHEAD_BYTES;
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > maxBodyBytes) {
    request.body?.cancel().catch(() => {});
    throw bodyTooLarge(options.maxBytes);
  }
  if (!request.body) {
    throw new ChatError(400, "missing_file", `Send a file in a part named ${field}.`);
  }

  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { "content-type": type },
      // Browsers send file names as UTF-8.
      defParamCharset: "utf8",
      limits: { files: 1, fields: 20, fieldSize: 1024, parts: 25, headerPairs: 20 },
    });
  } catch {
    request.body.cancel().catch(() => {});
    throw invalidForm("The multipart/form-data body has no boundary.");
  }

  // A byte stream (Deno's request bodies) is read into one re-used buffer; any other stream
  // (a `Request` made from a stream of chunks) chunk by chunk as it gives them.
  const body = request.body;
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    byob = undefined;
  }
  const reader = byob ?? body.getReader();
  let buffer: ArrayBuffer | undefined = byob ? new ArrayBuffer(BODY_BUFFER_BYTES) : undefined;
  const read = async (): Promise<ReadableStreamReadResult<Uint8Array>> => {
    if (!byob || !buffer) return await (reader as ReadableStreamDefaultReader<Uint8Array>).read();
    const step = await byob.read(new Uint8Array(buffer));
    // The buffer was handed to the stream and comes back (the same memory) with the bytes.
    if (step.value) buffer = step.value.buffer as ArrayBuffer;
    return step;
  };

  /** What went wrong with the body or the form, as found while reading it. */
  let failure: ChatError | undefined;
  let stopped = false;
  let markStopped!: () => void;
  const stoppedNow = new Promise<void>((resolve) => markStopped = resolve);
  let fileStream: Readable | undefined;
  let extraFile = false;
  let resolveFile!: (file: { name: string } | null) => void;
  let rejectFile!: (error: ChatError) => void;
  const fileArrived = new Promise<{ name: string } | null>((resolve, reject) => {
    resolveFile = resolve;
    rejectFile = reject;
  });
  fileArrived.catch(() => {});

  // The file's bytes, as the parser found them: views of the body buffer, which is read into
  // again only once the handler took them all (and asked for more, or stopped reading).
  const queue: Uint8Array[] = [];
  let fileEnded = false;
  let fileError: unknown;
  /** The handler waits for bytes (`waiting`) or reads no more (`done`). */
  let handler: "busy" | "waiting" | "done" = "busy";
  let wakeHandler: (() => void) | undefined;
  let wakePump: (() => void) | undefined;
  const wake = () => {
    wakeHandler?.();
    wakeHandler = undefined;
  };
  /** Whether the handler is done with all of the file that the parser found so far. */
  const allTaken = () =>
    !fileStream || handler === "done" ||
    (handler === "waiting" && queue.length === 0 && fileStream.readableLength === 0);

  async function* fileContent(): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        if (fileError !== undefined) throw fileError;
        const chunk = queue.shift();
        if (chunk) {
          yield chunk;
          continue;
        }
        if (fileEnded) return;
        handler = "waiting";
        wakePump?.();
        await new Promise<void>((resolve) => wakeHandler = resolve);
        handler = "busy";
      }
    } finally {
      handler = "done";
      queue.length = 0;
      wakePump?.();
    }
  }

  /** Reads no more of the body; the file's reader sees `error` if given. */
  function stop(error?: ChatError): void {
    if (stopped) return;
    stopped = true;
    markStopped();
    if (error) rejectFile(error);
    fileError ??= error ?? invalidForm("The upload was cut off.");
    wake();
    fileStream?.destroy(error);
    parser.destroy();
    reader.cancel().catch(() => {});
  }

  function fail(error: ChatError): void {
    if (stopped) return;
    failure = error;
    stop(error);
  }

  parser.on("file", (name, stream, info) => {
    if (name !== field || fileStream) {
      extraFile ||= name === field;
      stream.resume();
      return;
    }
    fileStream = stream;
    stream.on("data", (chunk: Uint8Array) => {
      if (handler === "done") return;
      queue.push(chunk);
      wake();
    });
    stream.on("end", () => {
      fileEnded = true;
      wake();
    });
    stream.on("error", (error) => {
      fileError ??= error;
      wake();
    });
    resolveFile({ name: info.filename ?? "" });
  });
  parser.on("filesLimit", () => extraFile = true);
  parser.on("error", (error) => fail(invalidForm(`The form is malformed: ${errorText(error)}.`)));
  const closed = new Promise<void>((resolve) => parser.on("close", resolve));

  const pumping = (async () => {
    let received = 0;
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stalled = new Promise<"stalled">((resolve) => {
        timer = setTimeout(() => resolve("stalled"), options.stallTimeoutMs);
      });
      let step: ReadableStreamReadResult<Uint8Array> | "stalled";
      try {
        step = await Promise.race([read(), stalled]);
      } catch {
        return fail(invalidForm("The upload was cut off."));
      } finally {
        clearTimeout(timer);
      }
      if (stopped) return;
      if (step === "stalled") {
        return fail(
          new ChatError(
            408,
            "body_timeout",
            `The upload stopped for more than ${Math.round(options.stallTimeoutMs / 1000)} s.`,
          ),
        );
      }
      if (step.done) break;
      const chunk = step.value;
      received += chunk.byteLength;
      if (received > maxBodyBytes) return fail(bodyTooLarge(options.maxBytes));
      // Waits until the parser took the chunk: it holds it while the file's reader is behind.
      await Promise.race([
        new Promise<void>((resolve) => parser.write(chunk, () => resolve())),
        stoppedNow,
      ]);
      // The file's bytes are views of the buffer: the next read must wait until the handler
      // took them (backpressure: the body is read as fast as the file is stored).
      while (!stopped && !allTaken()) {
        await Promise.race([new Promise<void>((resolve) => wakePump = resolve), stoppedNow]);
        wakePump = undefined;
      }
      if (stopped) return;
    }
    parser.end();
    await Promise.race([closed, stoppedNow]);
    if (stopped) return;
    // The form ended: a file part would have come by now.
    resolveFile(null);
  })();

  const file = await Promise.race([fileArrived, pumping.then(() => fileArrived)])
    .catch((error) => {
      throw failure ?? error;
    });
  if (!file) {
    await pumping;
    throw failure ?? new ChatError(400, "missing_file", `Send a file in a part named ${field}.`);
  }
  let result: T;
  try {
    result = await handle({ name: file.name, content: fileContent() });
  } catch (error) {
    // A problem with the body explains whatever the handler met; else the handler refused
    // (too large, over quota…) or failed. Either way nothing more of the body is read.
    const found = failure;
    stop();
    await pumping.catch(() => {});
    throw found ?? error;
  }
  await pumping;
  if (failure) throw failure;
  if (extraFile) {
    throw new ChatError(400, "too_many_files", `Send one file per request, in the part ${field}.`);
  }
  return result;
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\.$/, "");
}

/**
 * The JSON answer to a refused upload (its body was not read to the end): the connection
 * closes after it, so that the rest of the body is not taken for a next request. Other errors
 * (the database's) are thrown on, to be answered as usual.
 */
export function refusedUpload(error: unknown): Response {
  if (!(error instanceof ChatError)) throw error;
  return apiError(error.status, error.code, error.message, {
    ...errorHeaders(error),
    connection: "close",
  });
}
