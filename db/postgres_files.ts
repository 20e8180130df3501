// The bytes of uploaded files for the PostgreSQL store: 256 KiB chunks in blob_chunks, by content key.
import type postgres from "postgres";
import { createHash } from "node:crypto";
import { type ByteRange, FileTooLargeError } from "./store.ts";
import type { Querier } from "./postgres_transaction.ts";

type Sql = ReturnType<typeof postgres>;

/** Bytes per stored chunk: every chunk of a content has exactly this many but its last. */
export const CHUNK_BYTES = 256 * 1024;
/** The first key of the advisory locks taken per content key (the second is from the hash). */
const CONTENT_LOCK = 72_616_103;

/** An upload stored under a temporary key until its content key was known. */
export interface ReceivedChunks {
  tempKey: string;
  sha256: string;
  size: number;
}

/** The second key of a content's advisory lock: the first 32 bits of its hash. */
function lockKey(sha256: string): number {
  return parseInt(sha256.slice(0, 8), 16) | 0;
}

/**
 * Takes (until the transaction ends) the advisory locks of these content keys, in one order
 * so that two transactions never wait for each other. Keeping bytes for a new file and
 * removing bytes no file has any more both run under the content's lock: an upload of the
 * same bytes never finds them half removed, nor has them removed after it counted on them.
 */
export async function lockContents(tx: Querier, keys: Iterable<string>): Promise<void> {
  const ordered = [...new Set([...keys].map(lockKey))].sort((a, b) => a - b);
  for (const key of ordered) await tx`SELECT pg_advisory_xact_lock(${CONTENT_LOCK}, ${key})`;
}

/**
 * Stores `content` in chunks under a new temporary key (a `blobs` row of its own, so that an
 * upload cut off by a crash is removed as an orphan), hashing and counting it as it arrives
 * and holding at most one chunk in memory. Each chunk is written by its own statement (no
 * long transaction). Past `maxBytes`, or on any failure, removes what was written and throws
 * ({@link FileTooLargeError}).
 */
export async function receiveChunks(
  sql: Sql,
  content: AsyncIterable<Uint8Array>,
  options: { maxBytes: number; now: number },
): Promise<ReceivedChunks> {
  const tempKey = `tmp-${crypto.randomUUID()}`;
  await sql`INSERT INTO blobs (sha256, size, created_at) VALUES (${tempKey}, 0, ${options.now})`;
  const hash = createHash("sha256");
  let size = 0;
  let n = 0;
  let buffer = new Uint8Array(CHUNK_BYTES);
  let filled = 0;
  const flush = async () => {
    await sql`INSERT INTO blob_chunks (sha256, n, data)
      VALUES (${tempKey}, ${n++}, ${buffer.subarray(0, filled)})`;
    buffer = new Uint8Array(CHUNK_BYTES);
    filled = 0;
  };
  try {
    for await (const chunk of content) {
      size += chunk.byteLength;
      if (size > options.maxBytes) throw new FileTooLargeError(options.maxBytes);
      hash.update(chunk);
      for (let taken = 0; taken < chunk.byteLength;) {
        const piece = chunk.subarray(taken, taken + CHUNK_BYTES - filled);
        buffer.set(piece, filled);
        filled += piece.byteLength;
        taken += piece.byteLength;
        if (filled === CHUNK_BYTES) await flush();
      }
    }
    if (filled > 0) await flush();
    return { tempKey, sha256: hash.digest("hex"), size };
  } catch (error) {
    await dropChunks(sql, tempKey).catch(() => {});
    throw error;
  }
}

/** Removes the chunks kept under a temporary key (with its `blobs` row). */
export async function dropChunks(sql: Querier, tempKey: string): Promise<void> {
  await sql`DELETE FROM blobs WHERE sha256 = ${tempKey}`;
}

/**
 * Makes received chunks the content with their hash (inside a transaction holding the
 * content's lock, see {@link lockContents}): when that content is stored already, the
 * received copy is dropped; else its chunks move to the content key.
 */
export async function keepChunks(
  tx: Querier,
  received: ReceivedChunks,
  now: number,
): Promise<void> {
  const [stored] = await tx`SELECT 1 AS yes FROM blobs WHERE sha256 = ${received.sha256}`;
  if (!stored) {
    await tx`INSERT INTO blobs (sha256, size, created_at)
      VALUES (${received.sha256}, ${received.size}, ${now})`;
    await tx`UPDATE blob_chunks SET sha256 = ${received.sha256}
      WHERE sha256 = ${received.tempKey}`;
  }
  await dropChunks(tx, received.tempKey);
}

/**
 * Removes the contents with these keys that no file (nor preview) has any more, with their
 * chunks, under their locks (inside a transaction). Null keys are skipped.
 */
export async function releaseContents(
  tx: Querier,
  keys: Iterable<string | null | undefined>,
): Promise<void> {
  const distinct = [...new Set([...keys].filter((key): key is string => key != null))];
  if (distinct.length === 0) return;
  await lockContents(tx, distinct);
  // A new statement after the locks: it sees every file committed by their earlier holders.
  await tx`DELETE FROM blobs b WHERE b.sha256 = ANY(${distinct}::text[])
    AND NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = b.sha256)
    AND NOT EXISTS (SELECT 1 FROM files f WHERE f.preview_sha256 = b.sha256)`;
}

/**
 * The content (of `size` bytes), whole or the `range` of it (both ends included), as a
 * stream: each pull reads one chunk, only the chunks covering the range, and of the first
 * and last only the bytes wanted.
 */
export function readChunks(
  sql: Sql,
  sha256: string,
  size: number,
  range?: ByteRange,
): ReadableStream<Uint8Array> {
  let position = range ? range.start : 0;
  const end = Math.min(range ? range.end : size - 1, size - 1); // included
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (position > end) {
          controller.close();
          return;
        }
        const n = Math.floor(position / CHUNK_BYTES);
        const from = position - n * CHUNK_BYTES;
        const length = Math.min(CHUNK_BYTES - from, end - position + 1);
        const [row] = await sql`SELECT substring(data FROM ${from + 1} FOR ${length}) AS data
          FROM blob_chunks WHERE sha256 = ${sha256} AND n = ${n}`;
        if (!row) throw new Error(`The stored content ${sha256} is gone`);
        const data = row.data as Uint8Array;
        if (data.byteLength === 0) throw new Error(`The stored content ${sha256} is short`);
        position += data.byteLength;
        controller.enqueue(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      } catch (error) {
        controller.error(error);
      }
    },
  });
}
