// Who is typing in which room: ephemeral (in memory, never stored, not in the change feed),
// shared across instances through the store's typing signals, read by long polls.
import type { Member, Room, Store, TypingSignal } from "../db/store.ts";
import type { PollGate } from "./poll_gate.ts";

/** Someone typing, as readers see them. */
export interface Typist {
  id: number;
  name: string;
}

/** Who is typing in a room, and the version of that set (0 when nobody is). */
export interface TypingState {
  typing: Typist[];
  version: number;
}

/** Options for {@link createTyping}. */
export interface TypingOptions {
  store: Store;
  polls: PollGate;
  /** How long a report counts (ms; default 6 s). */
  expiryMs?: number;
  /** Reports one member may make per room that are passed on, one per this many ms (2 s). */
  reportEveryMs?: number;
  /** The longest a long poll waits (s). */
  maxWaitSeconds: number;
  /** Aborted when the server shuts down: long polls then answer at once. */
  shutdown?: AbortSignal;
}

interface RoomTyping {
  /** Member id → name and when the report expires. */
  typists: Map<number, { name: string; expires: number }>;
  version: number;
  waiters: Set<() => void>;
  timer?: ReturnType<typeof setTimeout>;
}

/** The typing operations; one instance per app. */
export type Typing = ReturnType<typeof createTyping>;

/** Creates the typing registry over a store's typing signals. */
export function createTyping(options: TypingOptions) {
  const { store, polls, shutdown, maxWaitSeconds } = options;
  const expiryMs = options.expiryMs ?? 6000;
  const reportEveryMs = options.reportEveryMs ?? 2000;
  const rooms = new Map<number, RoomTyping>();
  /** `room:member` → when their last report was passed on. */
  const lastReport = new Map<string, number>();
  // Versions are unique in this instance: a set that changes never gets an old number back.
  let counter = 0;

  store.onTyping(apply);

  function entry(roomId: number): RoomTyping {
    let room = rooms.get(roomId);
    if (!room) rooms.set(roomId, room = { typists: new Map(), version: 0, waiters: new Set() });
    return room;
  }

  function forget(roomId: number, room: RoomTyping): void {
    if (room.typists.size === 0 && room.waiters.size === 0 && rooms.get(roomId) === room) {
      clearTimeout(room.timer);
      rooms.delete(roomId);
    }
  }

  function changed(roomId: number, room: RoomTyping): void {
    room.version = room.typists.size === 0 ? 0 : ++counter;
    const waiters = [...room.waiters];
    room.waiters.clear();
    waiters.forEach((wake) => wake());
    schedule(roomId, room);
    forget(roomId, room);
  }

  /** Drops expired reports at the earliest expiry. */
  function schedule(roomId: number, room: RoomTyping): void {
    clearTimeout(room.timer);
    if (room.typists.size === 0) return;
    const next = Math.min(...[...room.typists.values()].map((t) => t.expires));
    room.timer = setTimeout(() => {
      const now = Date.now();
      let dropped = false;
      for (const [id, typist] of room.typists) {
        if (typist.expires <= now) dropped = room.typists.delete(id) || dropped;
      }
      if (dropped) changed(roomId, room);
      else schedule(roomId, room);
    }, Math.max(0, next - Date.now()));
  }

  /** A signal from any instance (this one included). */
  function apply(signal: TypingSignal): void {
    const room = entry(signal.roomId);
    const known = room.typists.get(signal.memberId);
    if (signal.typing) {
      room.typists.set(signal.memberId, { name: signal.name, expires: Date.now() + expiryMs });
      if (known?.name === signal.name) schedule(signal.roomId, room);
      else changed(signal.roomId, room);
    } else if (known) {
      room.typists.delete(signal.memberId);
      changed(signal.roomId, room);
    } else {
      forget(signal.roomId, room);
    }
  }

  function state(roomId: number, viewer?: Member): TypingState {
    const room = rooms.get(roomId);
    if (!room) return { typing: [], version: 0 };
    const typing = [...room.typists]
      .filter(([id]) => id !== viewer?.id)
      .map(([id, { name }]) => ({ id, name }));
    return { typing, version: room.version };
  }

  /**
   * `member` is typing in `room`: passed on to every instance at most once per
   * `reportEveryMs` (more often is silently coalesced: the report still counts until expiry).
   */
  async function report(member: Member, room: Room): Promise<void> {
    const key = `${room.id}:${member.id}`;
    const now = Date.now();
    if (now - (lastReport.get(key) ?? -Infinity) < reportEveryMs) return;
    lastReport.set(key, now);
    setTimeout(() => {
      if (lastReport.get(key) === now) lastReport.delete(key);
    }, reportEveryMs);
    await store.publishTyping({
      roomId: room.id,
      memberId: member.id,
      name: member.name,
      typing: true,
    })
      .catch(() => {});
  }

  /** `member` stopped typing in `room` (sent their message). */
  async function stop(member: Member, room: Room): Promise<void> {
    lastReport.delete(`${room.id}:${member.id}`);
    if (!rooms.get(room.id)?.typists.has(member.id)) return;
    await store.publishTyping({
      roomId: room.id,
      memberId: member.id,
      name: member.name,
      typing: false,
    }).catch(() => {});
  }

  /**
   * Who is typing in `room` (the viewer left out); with `wait` seconds and a `since` version
   * equal to the current one, held until the set changes (long poll).
   */
  async function read(
    room: Room,
    options: {
      viewer?: Member;
      since?: number;
      wait?: number;
      signal?: AbortSignal;
      address?: string;
    },
  ): Promise<TypingState> {
    const current = state(room.id, options.viewer);
    if (!options.wait || options.since !== current.version) return current;
    const leave = polls.enter(options.address ?? "unknown");
    const signals = [options.signal, shutdown].filter((s) => s !== undefined);
    const signal = signals.length ? AbortSignal.any(signals) : undefined;
    const waiting = entry(room.id);
    try {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", wake);
          waiting.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(options.wait!, maxWaitSeconds) * 1000);
        if (signal?.aborted) return wake();
        signal?.addEventListener("abort", wake, { once: true });
        waiting.waiters.add(wake);
      });
    } finally {
      leave();
      forget(room.id, waiting);
    }
    return state(room.id, options.viewer);
  }

  return { report, stop, read };
}
