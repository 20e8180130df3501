// One writer at a time among the workers of a process that share a SQLite file, woken at once when the writer is done.
import { StoreUnavailableError } from "./store.ts";

/** How long a writer waits for the lock before giving up (as SQLite's busy timeout). */
const WAIT_MS = 5_000;

/**
 * A lock on shared memory taken around every write to the database by the workers of one
 * process. SQLite lets one connection write at a time; a connection that finds the file
 * locked sleeps 1, 2, 5, 10… ms before trying again, while a post's write takes a fifth of a
 * millisecond. Waiting here instead wakes the next writer the moment the lock is free.
 * Writes are synchronous, so a worker holds the lock only while it runs one (and may take it
 * again inside: it counts how deep it is).
 */
export class WriteLock {
  readonly #state: Int32Array;
  #depth = 0;

  /** A lock over `buffer`, made by {@link WriteLock.buffer} (here or in another worker). */
  constructor(buffer: SharedArrayBuffer) {
    this.#state = new Int32Array(buffer);
  }

  /** Shared memory for one lock. */
  static buffer(): SharedArrayBuffer {
    return new SharedArrayBuffer(4);
  }

  /** Runs `write` holding the lock; throws {@link StoreUnavailableError} after {@link WAIT_MS}. */
  hold<T>(write: () => T): T {
    if (this.#depth === 0) this.#acquire();
    this.#depth++;
    try {
      return write();
    } finally {
      if (--this.#depth === 0) {
        Atomics.store(this.#state, 0, 0);
        Atomics.notify(this.#state, 0, 1);
      }
    }
  }

  #acquire(): void {
    const state = this.#state;
    for (let spin = 0; spin < 100; spin++) {
      if (Atomics.compareExchange(state, 0, 0, 1) === 0) return;
    }
    const deadline = performance.now() + WAIT_MS;
    while (Atomics.compareExchange(state, 0, 0, 1) !== 0) {
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new StoreUnavailableError("Another worker held the database for too long", {
          cause: "write lock",
        });
      }
      Atomics.wait(state, 0, 1, Math.min(left, 50));
    }
  }
}
