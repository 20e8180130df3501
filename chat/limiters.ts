// Where rate limits and per-address counts are kept: one worker's memory, or memory all workers share.
import { type HeldCounts, LocalCounts, SharedCounts } from "../runtime/shared_counts.ts";
import { SharedTable } from "../runtime/shared_table.ts";
import { RateLimiter } from "./rate_limiter.ts";
import { SharedRateLimiter } from "./shared_rate_limiter.ts";

/** A limit of events per window and per key (see {@link RateLimiter}). */
export interface RateLimit {
  readonly limit: number;
  readonly windowMs: number;
  /** Records an event for `key` within the limit and returns 0, or returns ms to wait. */
  take(key: string, now?: number): number;
  /** Takes back the event recorded for `key` at `at` (an attempt that turned out fine). */
  forgive(key: string, at: number): void;
}

/** Makes the app's rate limits and counts; the same name means the same counts. */
export interface Limiters {
  /** The rate limit called `name`. */
  rate(name: string, options: { limit: number; windowMs: number }): RateLimit;
  /** The counts called `name` (long polls waiting per address, say). */
  held(name: string): HeldCounts;
}

/** Limits kept in this worker's memory: exact sliding windows. The default. */
export const localLimiters: Limiters = {
  rate: (_name, options) => new RateLimiter(options),
  held: () => new LocalCounts(),
};

/** The shared memory behind {@link sharedLimiters}: made once, given to every worker. */
export interface LimiterBuffers {
  rates: SharedArrayBuffer;
  held: SharedArrayBuffer;
}

/** Memory for the limits of at most `keys` keys at once (about 100 bytes a key). */
export function limiterBuffers(keys = 65_536): LimiterBuffers {
  return { rates: SharedRateLimiter.buffer(keys), held: SharedCounts.buffer(keys) };
}

/** Limits counted together by every worker given the same `buffers`. */
export function sharedLimiters(buffers: LimiterBuffers): Limiters {
  const rates = new SharedTable(buffers.rates);
  const held = new SharedCounts(buffers.held);
  return {
    rate: (name, options) => new SharedRateLimiter(rates, { name, ...options }),
    held: (name) => ({
      add: (key, delta) => held.add(name + "\n" + key, delta),
      get: (key) => held.get(name + "\n" + key),
    }),
  };
}
