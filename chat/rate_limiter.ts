// A sliding-window rate limiter keyed by anything (member id, IP, username).

/** Allows `limit` events per `windowMs` for each key. */
export class RateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  #events = new Map<string, number[]>();
  #lastSweep = 0;

  constructor(options: { limit: number; windowMs: number }) {
    this.limit = options.limit;
    this.windowMs = options.windowMs;
  }

  /**
   * Records an event for `key` if it is within the limit and returns 0, or returns the
   * milliseconds until the next event would be allowed (nothing is recorded then).
   */
  take(key: string, now = Date.now()): number {
    this.#sweep(now);
    const since = now - this.windowMs;
    const times = (this.#events.get(key) ?? []).filter((t) => t > since);
    if (times.length >= this.limit) {
      this.#events.set(key, times);
      return times[0] + this.windowMs - now;
    }
    times.push(now);
    this.#events.set(key, times);
    return 0;
  }

  /** Takes back the event recorded for `key` at `at` (an attempt that turned out fine). */
  forgive(key: string, at: number): void {
    const times = this.#events.get(key);
    const index = times?.lastIndexOf(at) ?? -1;
    if (index >= 0) times!.splice(index, 1);
  }

  #sweep(now: number): void {
    if (now - this.#lastSweep < this.windowMs) return;
    this.#lastSweep = now;
    for (const [key, times] of this.#events) {
      if (times.at(-1)! <= now - this.windowMs) this.#events.delete(key);
    }
  }
}
