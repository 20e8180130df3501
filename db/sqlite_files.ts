// The bytes of uploaded files for the SQLite store: content-addressed files in a folder on disk.
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { type ByteRange, FileTooLargeError, StoreUnavailableError } from "./store.ts";

/** Bytes read from disk per chunk of a stream. */
const READ_CHUNK = 64 * 1024;

/** Errors that mean "the disk cannot take this now" (full, quota, read-only, I/O). */
const UNAVAILABLE_CODES = new Set(["ENOSPC", "EDQUOT", "EROFS", "EIO", "EACCES", "EPERM"]);
const UNAVAILABLE_MESSAGES = /os error (28|122|30|5|13)\)|No space left|Disk quota|Read-only file/i;

/** An upload written to a temporary file: its content key and size. */
export interface ReceivedContent {
  tempPath: string;
  sha256: string;
  size: number;
}

/**
 * The error to throw for a failed disk operation: a {@link StoreUnavailableError} (503) when
 * the disk is full, read-only or failing, the error itself otherwise.
 */
export function diskError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || error instanceof FileTooLargeError) return error;
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  const unavailable = error instanceof Deno.errors.PermissionDenied ||
    (typeof code === "string" && UNAVAILABLE_CODES.has(code)) ||
    UNAVAILABLE_MESSAGES.test(error.message);
  if (!unavailable) return error;
  return new StoreUnavailableError(`The files folder cannot be written: ${error.message}`, {
    cause: error,
  });
}

/**
 * A folder of stored contents, each in `<dir>/<sha[0..2]>/<sha>` (written once, never changed),
 * with uploads under way in `<dir>/tmp/`. Without a folder, a temporary one is made on first
 * use and removed by {@link close}.
 *
 * Deleting a content's last reference and a new upload of the same bytes must not cross (the
 * upload would find its bytes unlinked): the store runs both, for one content key, inside
 * {@link exclusive}, which serializes them in this process. This assumes that one process uses
 * the folder and its database at a time (as the SQLite store assumes for its change events).
 */
export class ContentFolder {
  #dir: string | undefined;
  #ready: Promise<string> | undefined;
  #locks = new Map<string, Promise<unknown>>();
  #closed = false;

  /** A folder at `dir`, or a temporary one made on first use when `dir` is not given. */
  constructor(dir?: string) {
    this.#dir = dir;
  }

  /** Creates the folder (and its `tmp/`) now; throws when it cannot. */
  createSync(): void {
    if (this.#dir !== undefined) Deno.mkdirSync(join(this.#dir, "tmp"), { recursive: true });
  }

  /** The folder's path, made if need be. */
  dir(): Promise<string> {
    if (this.#closed) return Promise.reject(new Error("The files folder is closed"));
    this.#ready ??= (async () => {
      const dir = this.#dir ?? await Deno.makeTempDir({ prefix: "parley-files-" });
      await Deno.mkdir(join(dir, "tmp"), { recursive: true });
      return dir;
    })().catch((error) => {
      this.#ready = undefined;
      throw diskError(error);
    });
    return this.#ready;
  }

  /** Where the content with this key is kept. */
  async pathOf(sha256: string): Promise<string> {
    return join(await this.dir(), sha256.slice(0, 2), sha256);
  }

  /**
   * Writes `content` to a temporary file as it arrives, hashing and counting it; past
   * `maxBytes` (or on any failure) removes what was written and throws
   * ({@link FileTooLargeError}; {@link StoreUnavailableError} when the disk is full).
   */
  async receive(content: AsyncIterable<Uint8Array>, maxBytes: number): Promise<ReceivedContent> {
    const tempPath = join(await this.dir(), "tmp", crypto.randomUUID());
    const hash = createHash("sha256");
    let size = 0;
    let file: Deno.FsFile | undefined;
    try {
      file = await Deno.open(tempPath, { write: true, createNew: true });
      for await (const chunk of content) {
        size += chunk.byteLength;
        if (size > maxBytes) throw new FileTooLargeError(maxBytes);
        hash.update(chunk);
        for (let written = 0; written < chunk.byteLength;) {
          written += await file.write(chunk.subarray(written));
        }
      }
      // On disk before the database says it is there.
      await file.syncData();
      file.close();
      file = undefined;
      return { tempPath, sha256: hash.digest("hex"), size };
    } catch (error) {
      try {
        file?.close();
      } catch { /* already closed */ }
      await Deno.remove(tempPath).catch(() => {});
      throw diskError(error);
    }
  }

  /** Moves a received content to its place (replacing the same bytes if already there). */
  async place(received: ReceivedContent): Promise<void> {
    try {
      const path = await this.pathOf(received.sha256);
      await Deno.mkdir(dirname(path), { recursive: true });
      await Deno.rename(received.tempPath, path);
    } catch (error) {
      await Deno.remove(received.tempPath).catch(() => {});
      throw diskError(error);
    }
  }

  /**
   * Runs `work` when no other work for the same content key runs (in this process), so that
   * placing and unlinking one content never interleave.
   */
  exclusive<T>(sha256: string, work: () => Promise<T>): Promise<T> {
    const prior = this.#locks.get(sha256) ?? Promise.resolve();
    const result = prior.then(work);
    const tail = result.catch(() => {});
    this.#locks.set(sha256, tail);
    tail.then(() => {
      if (this.#locks.get(sha256) === tail) this.#locks.delete(sha256);
    });
    return result;
  }

  /**
   * The content with this key, whole or the `range` of it (both ends included), as a stream
   * read in small chunks; null when there is no such file.
   */
  async open(sha256: string, range?: ByteRange): Promise<ReadableStream<Uint8Array> | null> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(await this.pathOf(sha256), { read: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw diskError(error);
    }
    let closed = false;
    const close = () => {
      if (!closed) file.close();
      closed = true;
    };
    let remaining = range ? Math.max(0, range.end - range.start + 1) : Infinity;
    try {
      if (range) await file.seek(range.start, Deno.SeekMode.Start);
    } catch (error) {
      close();
      throw diskError(error);
    }
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          if (remaining <= 0) {
            close();
            controller.close();
            return;
          }
          const buffer = new Uint8Array(Math.min(READ_CHUNK, remaining));
          const read = await file.read(buffer);
          if (read === null) {
            close();
            controller.close();
            return;
          }
          remaining -= read;
          controller.enqueue(buffer.subarray(0, read));
        } catch (error) {
          close();
          controller.error(error);
        }
      },
      cancel() {
        close();
      },
    });
  }

  /** Unlinks the content with this key (nothing when it is not there). */
  async remove(sha256: string): Promise<void> {
    try {
      await Deno.remove(await this.pathOf(sha256));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw diskError(error);
    }
  }

  /** Removes temporary files (uploads cut off by a crash) last written before `before` (ms). */
  async removeStaleTemp(before: number): Promise<number> {
    // A temporary folder not made yet holds nothing.
    if (this.#closed || (this.#dir === undefined && !this.#ready)) return 0;
    const tmp = join(await this.dir(), "tmp");
    let names: string[];
    try {
      names = (await Array.fromAsync(Deno.readDir(tmp))).map((entry) => entry.name);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return 0;
      throw diskError(error);
    }
    let removed = 0;
    for (const name of names) {
      const path = join(tmp, name);
      try {
        const info = await Deno.stat(path);
        if ((info.mtime?.getTime() ?? 0) < before) {
          await Deno.remove(path);
          removed++;
        }
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw diskError(error);
      }
    }
    return removed;
  }

  /** Removes the folder if it is a temporary one. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#dir !== undefined || !this.#ready) return;
    const dir = await this.#ready.catch(() => undefined);
    this.#ready = undefined;
    if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
