// Caps the long polls one address may hold open at once, so that one client cannot tie up the server.
import { ChatError } from "./chat_error.ts";

/** Counts waiting long polls per client address. */
export class PollGate {
  readonly maxPerAddress: number;
  #waiting = new Map<string, number>();

  constructor(options: { maxPerAddress: number }) {
    this.maxPerAddress = options.maxPerAddress;
  }

  /**
   * Lets one more poll from `address` wait and returns the function that ends it, or throws
   * 429 (with Retry-After) when that address already holds its share.
   */
  enter(address: string): () => void {
    const held = this.#waiting.get(address) ?? 0;
    if (held >= this.maxPerAddress) {
      throw new ChatError(
        429,
        "too_many_polls",
        `Your address already has ${held} requests waiting for messages; close some tabs or try again shortly.`,
        { retryAfter: 5 },
      );
    }
    this.#waiting.set(address, held + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = (this.#waiting.get(address) ?? 1) - 1;
      if (left > 0) this.#waiting.set(address, left);
      else this.#waiting.delete(address);
    };
  }

  /** Waiting polls from `address`. */
  waiting(address: string): number {
    return this.#waiting.get(address) ?? 0;
  }
}
