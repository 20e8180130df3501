// Wake-ups between the workers of one process that share a database: what one of them changed, told to the others.
import type { TypingSignal } from "./store.ts";

/** What a worker tells the others, right after its change is committed. */
export type PeerNews =
  | { kind: "change"; roomId: number; seq: number }
  | { kind: "member"; memberId: number; at: number }
  | { kind: "closed"; roomId: number }
  | { kind: "typing"; signal: TypingSignal };

/**
 * A channel between the workers of one process (a `BroadcastChannel` named after the
 * process and database): each worker's news reaches every other, not itself. Only wake-ups
 * travel here; readers then read the database, so news that arrives late or twice loses
 * nothing and repeats nothing.
 */
export class WorkerPeers {
  #channel: BroadcastChannel;
  #listeners = new Set<(news: PeerNews) => void>();

  /** Joins the channel `name` (the same for every worker of the process). */
  constructor(name: string) {
    this.#channel = new BroadcastChannel(name);
    this.#channel.onmessage = (event: MessageEvent<PeerNews>) => {
      for (const listener of this.#listeners) listener(event.data);
    };
  }

  /** Tells every other worker. */
  tell(news: PeerNews): void {
    this.#channel.postMessage(news);
  }

  /** Calls `listener` with every other worker's news; returns the function that stops it. */
  listen(listener: (news: PeerNews) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Leaves the channel. */
  close(): void {
    this.#listeners.clear();
    this.#channel.close();
  }
}
