// In-process wake-ups for long polls: who waits for which room, woken by each change (by number).
import type { HistoryQuery, MessagePage, MessageWaiter } from "./store.ts";
import type { WorkerPeers } from "./worker_peers.ts";

interface Waiting {
  after: number;
  wake: (arrived: boolean) => void;
}

const WAKE_BATCH = 200;
/** How long a room's latest change number, once learnt, answers empty polls. */
const KNOWN_SEQ_MS = 2_000;

// Wakes waits a batch per macrotask, so that thousands of readers woken by one message do not
// hold up everything else (new posts, other requests) until the last of them is answered.
function wakeInBatches(entries: Waiting[], from = 0): void {
  const end = Math.min(entries.length, from + WAKE_BATCH);
  for (let i = from; i < end; i++) entries[i].wake(true);
  if (end < entries.length) setTimeout(() => wakeInBatches(entries, end), 0);
}

/**
 * Tracks the latest change number per room and the long polls waiting for a later one; and,
 * under the key `-memberId`, when each member was last added to a room (`Date.now()` on this
 * instance), so that a member's room-list polls wake when their set of rooms grows.
 */
export class RoomEvents {
  #peers?: WorkerPeers;
  #latest = new Map<number, number>();
  /** When each room's latest number was last learnt (a change, or read from the database). */
  #learntAt = new Map<number, number>();
  #waiting = new Map<number, Set<Waiting>>();

  /**
   * Events here, and with `peers`, those of the other workers of this process on the same
   * database: this one's changes are told to them, theirs wake waits here.
   */
  constructor(options: { peers?: WorkerPeers } = {}) {
    this.#peers = options.peers;
    this.#peers?.listen((news) => {
      if (news.kind === "change") this.#publish(news.roomId, news.seq);
      else if (news.kind === "member") this.#publish(-news.memberId, news.at);
      else if (news.kind === "closed") this.#close(news.roomId);
    });
  }

  /** Records that `memberId` was just added to a room and wakes their room-list waits. */
  memberAdded(memberId: number, at = Date.now()): void {
    this.#publish(-memberId, at);
    this.#peers?.tell({ kind: "member", memberId, at });
  }

  /** Records change `seq` in `roomId` (committed) and wakes the waits it satisfies. */
  published(roomId: number, seq: number): void {
    this.#publish(roomId, seq);
    this.#peers?.tell({ kind: "change", roomId, seq });
  }

  #publish(roomId: number, seq: number): void {
    if (seq > (this.#latest.get(roomId) ?? 0)) this.#latest.set(roomId, seq);
    this.#learntAt.set(roomId, performance.now());
    const waiting = this.#waiting.get(roomId);
    if (!waiting) return;
    const due = [...waiting].filter((entry) => seq > entry.after);
    wakeInBatches(due);
  }

  /**
   * The answer to a `since` poll that is already at the room's latest change number, learnt
   * (a change here, a notification, a read) within the last {@link KNOWN_SEQ_MS}: nothing new,
   * without asking the database; undefined when that is not known. Older knowledge is not
   * trusted, so that a notification lost on the way costs at most that long.
   */
  emptyPage(roomId: number, query: HistoryQuery): MessagePage | undefined {
    if (!("since" in query)) return undefined;
    const at = this.#learntAt.get(roomId);
    if (at === undefined || performance.now() - at > KNOWN_SEQ_MS) return undefined;
    if (query.since < (this.#latest.get(roomId) ?? 0)) return undefined;
    return { messages: [], cursor: query.since };
  }

  /**
   * Records the change number read from the database with a room's rows (the two read
   * together); wakes waits only if it is news (a notification that has not arrived yet).
   */
  seen(roomId: number, seq: number): void {
    if (seq > (this.#latest.get(roomId) ?? 0)) this.#publish(roomId, seq);
    else this.#learntAt.set(roomId, performance.now());
  }

  /** Forgets every room's number (notifications were missed): the next reads ask the database. */
  forget(): void {
    this.#learntAt.clear();
  }

  /**
   * The room was deleted: forgets its number and wakes its waits, whose readers then find it
   * gone (the number is not kept, so that a room given the same id later starts afresh).
   */
  closed(roomId: number): void {
    this.#close(roomId);
    this.#peers?.tell({ kind: "closed", roomId });
  }

  #close(roomId: number): void {
    this.#latest.delete(roomId);
    this.#learntAt.delete(roomId);
    wakeInBatches([...this.#waiting.get(roomId) ?? []]);
  }

  /**
   * Wakes every wait in every room (after missed notifications, e.g. a reconnect): each
   * reader then reads again and finds whatever arrived.
   */
  wakeAll(): void {
    wakeInBatches([...this.#waiting.values()].flatMap((set) => [...set]));
  }

  /** Number of long polls waiting now (all rooms). */
  get waiting(): number {
    let count = 0;
    for (const set of this.#waiting.values()) count += set.size;
    return count;
  }

  /**
   * Waits for a change in any of `rooms` after its own number, or with `member`, for that
   * member to be added to a room at or after `member.since` (a `Date.now()` taken before the
   * rooms were read), up to `timeoutMs` or until aborted (the first wait to end ends them all).
   */
  waitAny(
    rooms: { roomId: number; since: number }[],
    options: { timeoutMs: number; signal?: AbortSignal; member?: { id: number; since: number } },
  ): MessageWaiter {
    const keys = rooms.map((room) => ({ key: room.roomId, after: room.since }));
    // `since - 1`: an addition in the same millisecond as the read might not be in it.
    if (options.member) keys.push({ key: -options.member.id, after: options.member.since - 1 });
    if (keys.length === 0) return this.wait(0, Number.MAX_SAFE_INTEGER, options);
    const waits = keys.map(({ key, after }) => this.wait(key, after, options));
    const cancel = () => waits.forEach((w) => w.cancel());
    const arrived = Promise.race(waits.map((w) => w.arrived)).then((value) => {
      cancel();
      return value;
    });
    return { arrived, cancel };
  }

  /** Waits for a change after `after` in `roomId`, up to `timeoutMs` or until aborted. */
  wait(
    roomId: number,
    after: number,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): MessageWaiter {
    if ((this.#latest.get(roomId) ?? 0) > after) {
      return { arrived: Promise.resolve(true), cancel() {} };
    }
    let set = this.#waiting.get(roomId);
    if (!set) this.#waiting.set(roomId, set = new Set());
    const room = set;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let entry!: Waiting;
    const onAbort = () => entry.wake(false);
    const arrived = new Promise<boolean>((resolve) => {
      entry = {
        after,
        wake: (value) => {
          clearTimeout(timer);
          options.signal?.removeEventListener("abort", onAbort);
          room.delete(entry);
          if (room.size === 0 && this.#waiting.get(roomId) === room) {
            this.#waiting.delete(roomId);
          }
          resolve(value);
        },
      };
    });
    room.add(entry);
    if (options.signal?.aborted) entry.wake(false);
    else {
      options.signal?.addEventListener("abort", onAbort, { once: true });
      timer = setTimeout(() => entry.wake(false), options.timeoutMs);
    }
    return { arrived, cancel: () => entry.wake(false) };
  }
}
