// Cached reads of rows that rarely change (sessions, rooms): dropped whole whenever one of them changes.

/**
 * Change counters that invalidate caches: one slot per kind of row. A cache entry is good only
 * while its slot still holds the value it was read at. On a `SharedArrayBuffer`, several
 * workers of one process share the counters, so that a change made by one of them (a ban, a
 * logout) is seen by every other on its very next read, without waiting for a message.
 */
export class ChangeCounters {
  readonly slots: Int32Array;

  /** Counters over `buffer` (shared between workers), or private ones. */
  constructor(buffer?: SharedArrayBuffer) {
    this.slots = new Int32Array(buffer ?? new ArrayBuffer(4 * COUNTER_SLOTS));
  }

  /** A buffer for counters shared between workers. */
  static sharedBuffer(): SharedArrayBuffer {
    return new SharedArrayBuffer(4 * COUNTER_SLOTS);
  }

  read(slot: number): number {
    return Atomics.load(this.slots, slot);
  }

  bump(slot: number): void {
    Atomics.add(this.slots, slot, 1);
  }
}

/** Slots of {@link ChangeCounters}. */
export const SESSIONS_SLOT = 0;
export const ROOMS_SLOT = 1;
const COUNTER_SLOTS = 2;

/** Options for {@link ReadCache}. */
export interface ReadCacheOptions {
  counters: ChangeCounters;
  /** The counter slot whose change drops every entry. */
  slot: number;
  /** Entries kept at most (the oldest go first). */
  maxEntries: number;
  /** An entry is read again after this long, whatever the counter says. */
  maxAgeMs: number;
}

interface Entry<V> {
  value: V;
  at: number;
  version: number;
}

/**
 * A bounded map of values read from the database, valid while the counter of their kind has
 * not moved (every write to such rows bumps it) and for at most `maxAgeMs`. Values are frozen:
 * callers share them.
 */
export class ReadCache<K, V extends object> {
  #entries = new Map<K, Entry<V>>();
  #options: ReadCacheOptions;

  constructor(options: ReadCacheOptions) {
    this.#options = options;
  }

  /** The cached value of `key`, if still good. */
  get(key: K, now = Date.now()): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    const { counters, slot, maxAgeMs } = this.#options;
    if (entry.version !== counters.read(slot) || now - entry.at > maxAgeMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /**
   * Keeps `value` for `key`, as read at counter value `version` (read before the database
   * was): a change made in between leaves the entry already stale.
   */
  set(key: K, value: V, version: number, now = Date.now()): V {
    const frozen = deepFreeze(value);
    if (this.#entries.size >= this.#options.maxEntries && !this.#entries.has(key)) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value: frozen, at: now, version });
    return frozen;
  }

  /** Replaces the value of `key`, if cached, by `change(value)` (e.g. a new last-seen time). */
  update(key: K, change: (value: V) => V): void {
    const entry = this.#entries.get(key);
    if (entry) entry.value = deepFreeze(change(entry.value));
  }

  /** The counter value to pass to {@link set} for a read starting now. */
  version(): number {
    return this.#options.counters.read(this.#options.slot);
  }

  /** Drops every entry here and, through the counter, in every cache sharing it. */
  invalidate(): void {
    this.#options.counters.bump(this.#options.slot);
    this.#entries.clear();
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
