// A rate limiter whose counts live in memory that a process's workers share.
import { sharedSeconds, SharedTable } from "../runtime/shared_table.ts";
import type { RateLimit } from "./limiters.ts";

/** Slices of the window counted apart; one more is kept, so the window is always covered. */
const SLICES = 16;
const RING = SLICES + 1;
/**
 * Per key: the newest slice counted (two integers: slice numbers pass 2^31), the second
 * ({@link sharedSeconds}) at which its events have all left the window, then one count per slice
 * (a ring).
 */
const RECORD_INTS = 3 + RING;
const COUNTS = 3;

/**
 * Allows `limit` events per `windowMs` for each key, counted on a {@link SharedTable} so that
 * every worker given the same buffer counts together. Events are counted in slices of a
 * sixteenth of the window, and the newest 17 slices count: an event stays counted between one
 * window and 17/16 of it (never less: it is at least as strict as an exact sliding window).
 */
export class SharedRateLimiter implements RateLimit {
  readonly limit: number;
  readonly windowMs: number;
  readonly #name: string;
  readonly #table: SharedTable;
  readonly #sliceMs: number;

  /** A limiter named `name` (its keys are apart from other limiters') over `table`. */
  constructor(table: SharedTable, options: { name: string; limit: number; windowMs: number }) {
    if (table.recordInts !== RECORD_INTS) {
      throw new Error(`A rate-limit table has ${RECORD_INTS} integers a record`);
    }
    this.#table = table;
    this.#name = options.name;
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this.#sliceMs = options.windowMs / SLICES;
  }

  /** Shared memory for the counts of at most `keys` keys (of all limiters on it). */
  static buffer(keys: number): SharedArrayBuffer {
    return SharedTable.buffer({ records: keys, recordInts: RECORD_INTS });
  }

  /** Records an event for `key` within the limit and returns 0, or returns ms to wait. */
  take(key: string, now = Date.now()): number {
    const ints = this.#table.ints;
    const slice = Math.floor(now / this.#sliceMs);
    return this.#table.update(this.#name + "\n" + key, (at) => {
      this.#advance(at, slice);
      let total = 0;
      for (let i = 0; i < RING; i++) total += ints[at + COUNTS + i];
      if (total < this.limit) {
        ints[at + COUNTS + (slice % RING)]++;
        return 0;
      }
      // Wait until enough of the oldest slices have left the ring.
      for (let s = slice - SLICES; s <= slice; s++) {
        total -= ints[at + COUNTS + (s % RING)];
        if (total < this.limit) return Math.max(1, Math.ceil((s + RING) * this.#sliceMs - now));
      }
      return this.windowMs;
    }, { create: true, idle: (at) => ints[at + 2] < sharedSeconds(now) })!;
  }

  /** Takes back the event recorded for `key` at `at`, if its slice is still counted. */
  forgive(key: string, at: number): void {
    const ints = this.#table.ints;
    const slice = Math.floor(at / this.#sliceMs);
    this.#table.update(this.#name + "\n" + key, (offset) => {
      const newest = newestSlice(ints, offset);
      if (slice > newest || slice < newest - SLICES) return;
      const index = offset + COUNTS + (slice % RING);
      if (ints[index] > 0) ints[index]--;
    }, { create: false });
  }

  /** Moves the ring of the record at `at` to `slice`, emptying the slices it passes. */
  #advance(at: number, slice: number): void {
    const ints = this.#table.ints;
    const newest = newestSlice(ints, at);
    if (slice <= newest) return;
    if (slice - newest >= RING) ints.fill(0, at + COUNTS, at + COUNTS + RING);
    else for (let s = newest + 1; s <= slice; s++) ints[at + COUNTS + (s % RING)] = 0;
    ints[at] = Math.floor(slice / 2 ** 32);
    ints[at + 1] = slice % 2 ** 32;
    ints[at + 2] = sharedSeconds((slice + RING) * this.#sliceMs, Math.ceil);
  }
}

/** The newest slice counted in the record at `at` (0 for a fresh record). */
function newestSlice(ints: Int32Array, at: number): number {
  return ints[at] * 2 ** 32 + (ints[at + 1] >>> 0);
}
