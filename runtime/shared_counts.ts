// Counts of things held per key (open connections per address, say), shared by a process's workers.
import { SharedTable } from "./shared_table.ts";

/** Counts per key: in this worker's memory, or shared with other workers. */
export interface HeldCounts {
  /** Adds `delta` to the count of `key` (never below 0) and returns the new count. */
  add(key: string, delta: number): number;
  /** The count of `key` now. */
  get(key: string): number;
}

/** Counts in this worker's memory only. */
export class LocalCounts implements HeldCounts {
  #counts = new Map<string, number>();

  add(key: string, delta: number): number {
    const count = Math.max(0, (this.#counts.get(key) ?? 0) + delta);
    if (count > 0) this.#counts.set(key, count);
    else this.#counts.delete(key);
    return count;
  }

  get(key: string): number {
    return this.#counts.get(key) ?? 0;
  }
}

/**
 * Counts on a {@link SharedTable} (one integer a record): every worker given the same buffer
 * counts together. A key back at 0 frees its record.
 */
export class SharedCounts implements HeldCounts {
  #table: SharedTable;

  /** Counts over `buffer`, made by {@link SharedCounts.buffer}. */
  constructor(buffer: SharedArrayBuffer) {
    this.#table = new SharedTable(buffer);
  }

  /** Shared memory for counts of at most `keys` keys at once. */
  static buffer(keys: number): SharedArrayBuffer {
    return SharedTable.buffer({ records: keys, recordInts: 1 });
  }

  add(key: string, delta: number): number {
    const ints = this.#table.ints;
    return this.#table.update(key, (at) => {
      const count = Math.max(0, ints[at] + delta);
      if (count > 0) ints[at] = count;
      else this.#table.free(at);
      return count;
    }, { create: delta > 0, idle: (at) => ints[at] === 0 }) ?? 0;
  }

  get(key: string): number {
    const ints = this.#table.ints;
    return this.#table.update(key, (at) => ints[at], { create: false }) ?? 0;
  }
}
