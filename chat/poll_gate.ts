// Caps the long polls one address may hold open at once, so that one client cannot tie up the server.
import { type HeldCounts, LocalCounts } from "../runtime/shared_counts.ts";
import { ChatError } from "./chat_error.ts";

/** Counts waiting long polls per client address (with `counts`, across workers). */
export class PollGate {
  readonly maxPerAddress: number;
  #waiting: HeldCounts;

  constructor(options: { maxPerAddress: number; counts?: HeldCounts }) {
    this.maxPerAddress = options.maxPerAddress;
    this.#waiting = options.counts ?? new LocalCounts();
  }

  /**
   * Lets one more poll from `address` wait and returns the function that ends it, or throws
   * 429 (with Retry-After) when that address already holds its share.
   */
  enter(address: string): () => void {
    const held = this.#waiting.add(address, 1) - 1;
    if (held >= this.maxPerAddress) {
      this.#waiting.add(address, -1);
      throw new ChatError(
        429,
        "too_many_polls",
        `Your address already has ${held} requests waiting for messages; close some tabs or try again shortly.`,
        { retryAfter: 5 },
      );
    }
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#waiting.add(address, -1);
    };
  }

  /** Waiting polls from `address`. */
  waiting(address: string): number {
    return this.#waiting.get(address);
  }
}
