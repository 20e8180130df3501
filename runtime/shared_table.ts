// A fixed-size table of small integer records keyed by strings, in memory that workers share.

/** Options for {@link SharedTable.buffer}. */
export interface SharedTableShape {
  /** Records the table holds at most (rounded up to whole buckets). */
  records: number;
  /** 32-bit integers in each record. */
  recordInts: number;
}

/**
 * A time in whole seconds since 2020-01-01 (rounded down, or up with `ceil`): what a 32-bit
 * slot in shared memory holds for decades to come.
 */
export function sharedSeconds(ms: number, round: (s: number) => number = Math.floor): number {
  return round(ms / 1000) - 1_577_836_800;
}

/** Records per bucket: a key lives in one bucket, in any of its records. */
const WAYS = 8;
/** Integers before each record's own: two key hashes and when it was last used (a tick of the table's clock). */
const RECORD_HEADER = 3;
/** Integers before the first bucket: the lock, the record size and a clock ticking at each use. */
const TABLE_HEADER = 3;

/**
 * A table of records (each `recordInts` 32-bit integers) keyed by strings, on a
 * `SharedArrayBuffer` so that several workers of one process read and change the same records.
 * Every access runs under one lock and is short (no allocation, a few dozen integer reads).
 * A key is known by two 32-bit hashes of it (a wrong match needs both to collide). When a
 * key's bucket is full, the record that `idle` says can go, else the least recently used, is
 * given to the newcomer: the table stays bounded whatever clients send.
 */
export class SharedTable {
  readonly ints: Int32Array;
  readonly recordInts: number;
  readonly #buckets: number;
  readonly #stride: number;

  /** A table over `buffer`, made by {@link SharedTable.buffer} (here or in another worker). */
  constructor(buffer: SharedArrayBuffer) {
    this.ints = new Int32Array(buffer);
    this.recordInts = this.ints[1];
    this.#stride = RECORD_HEADER + this.recordInts;
    this.#buckets = Math.floor((this.ints.length - TABLE_HEADER) / (this.#stride * WAYS));
  }

  /** Shared memory for a table of the given shape, all records free. */
  static buffer(shape: SharedTableShape): SharedArrayBuffer {
    const buckets = Math.max(1, Math.ceil(shape.records / WAYS));
    const stride = RECORD_HEADER + shape.recordInts;
    const buffer = new SharedArrayBuffer(4 * (TABLE_HEADER + buckets * WAYS * stride));
    new Int32Array(buffer)[1] = shape.recordInts;
    return buffer;
  }

  /**
   * Runs `use` on the record of `key` under the table's lock, with the offset in {@link ints}
   * of the record's first integer; `fresh` is true when the record was just given to `key`
   * (all zero). Without `create`, a key that has no record gets none: `use` is not called and
   * the result is undefined. `idle(offset)` says whether another key's record holds nothing
   * worth keeping (it is then taken before the least recently used).
   */
  update<T>(
    key: string,
    use: (offset: number, fresh: boolean) => T,
    options: { create: boolean; idle?: (offset: number) => boolean },
  ): T | undefined {
    const [bucket, first, second] = hashes(key);
    const base = TABLE_HEADER + (bucket % this.#buckets) * WAYS * this.#stride;
    this.#lock();
    try {
      const tick = this.ints[2] = (this.ints[2] + 1) | 0;
      let free = -1;
      let oldestAge = -1;
      let oldest = -1;
      for (let way = 0; way < WAYS; way++) {
        const at = base + way * this.#stride;
        const a = this.ints[at], b = this.ints[at + 1];
        if (a === first && b === second) {
          this.ints[at + 2] = tick;
          return use(at + RECORD_HEADER, false);
        }
        if (free >= 0) continue;
        if (a === 0 || options.idle?.(at + RECORD_HEADER)) free = at;
        else {
          // Ages count in unsigned 32 bits, so the clock may wrap around.
          const age = (tick - this.ints[at + 2]) >>> 0;
          if (age > oldestAge) [oldest, oldestAge] = [at, age];
        }
      }
      if (!options.create) return undefined;
      const at = free >= 0 ? free : oldest;
      this.ints.fill(0, at, at + this.#stride);
      this.ints[at] = first;
      this.ints[at + 1] = second;
      this.ints[at + 2] = tick;
      return use(at + RECORD_HEADER, true);
    } finally {
      Atomics.store(this.ints, 0, 0);
    }
  }

  /** Frees the record at `offset` (as given to `use`); call only inside {@link update}. */
  free(offset: number): void {
    this.ints.fill(0, offset - RECORD_HEADER, offset + this.recordInts);
  }

  #lock(): void {
    // Held for well under a microsecond: spinning costs less than sleeping would.
    while (Atomics.compareExchange(this.ints, 0, 0, 1) !== 0) { /* spin */ }
  }
}

/**
 * Two independent 32-bit FNV-1a hashes of `key`: the first unsigned (to pick the bucket) and
 * as stored (signed, never 0: 0 marks a free record), and the second as stored.
 */
function hashes(key: string): [number, number, number] {
  let a = 0x811c9dc5, b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  const first = (a >>> 0) || 1;
  return [first, first | 0, b | 0];
}
