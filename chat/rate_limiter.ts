// A sliding-window rate limiter keyed by anything (member id, IP, username).

/** Allows `limit` events per `windowMs` for each key. */
export class RateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  /** Per key: event times in order; those before `head` have left the window. */
  #events = new Map<string, { times: number[]; head: number }>();
  #lastSweep = 0;

  constructor(options: { limit: number; windowMs: number }) {
    this.limit = options.limit;
    this.windowMs = options.windowMs;
  }

  /**
   * Records an event for `key` if it is within the limit and returns 0, or returns the
   * milliseconds until the next event would be allowed (nothing is recorded then). Constant
   * time however high the limit: expired events are skipped, not copied.
   */
  take(key: string, now = Date.now()): number {
    this.#sweep(now);
    const since = now - this.windowMs;
    let log = this.#events.get(key);
    if (!log) this.#events.set(key, log = { times: [], head: 0 });
    const { times } = log;
    while (log.head < times.length && times[log.head] <= since) log.head++;
    if (log.head > 64 && log.head * 2 > times.length) {
      times.splice(0, log.head);
      log.head = 0;
    }
    if (times.length - log.head >= this.limit) return times[log.head] + this.windowMs - now;
    times.push(now);
    return 0;
  }

  /** Takes back the event recorded for `key` at `at` (an attempt that turned out fine). */
  forgive(key: string, at: number): void {
    const log = this.#events.get(key);
    const index = log?.times.lastIndexOf(at) ?? -1;
    if (log && index >= log.head) log.times.splice(index, 1);
  }

  #sweep(now: number): void {
    if (now - this.#lastSweep < this.windowMs) return;
    this.#lastSweep = now;
    for (const [key, log] of this.#events) {
      if ((log.times.at(-1) ?? 0) <= now - this.windowMs) this.#events.delete(key);
    }
  }
}
