// Sessions and rooms as both stores keep them in memory: read through, dropped whenever one changes.
import { type ChangeCounters, ReadCache, ROOMS_SLOT, SESSIONS_SLOT } from "./read_cache.ts";
import type { Room, Session } from "./store.ts";

/** Sessions and rooms kept at most (changes drop them at once). */
const CACHED_SESSIONS = 10_000;
const CACHED_ROOMS = 1_000;

/**
 * Sessions by token hash, and rooms by slug and by `#<id>`. A read starts by taking the
 * counter's value, so that a change landing while it runs leaves what it read already stale.
 */
export class CachedRows {
  #sessions: ReadCache<string, Session>;
  /** Which token hash each cached session id has (for {@link touched}). */
  #sessionTokens = new Map<number, string>();
  #rooms: ReadCache<string, Room>;

  /** Caches invalidated through `counters`, each entry read again after `maxAgeMs` at most. */
  constructor(options: { counters: ChangeCounters; maxAgeMs: number }) {
    const { counters, maxAgeMs } = options;
    this.#sessions = new ReadCache({
      counters,
      slot: SESSIONS_SLOT,
      maxEntries: CACHED_SESSIONS,
      maxAgeMs,
    });
    this.#rooms = new ReadCache({ counters, slot: ROOMS_SLOT, maxEntries: CACHED_ROOMS, maxAgeMs });
  }

  /** The session of `tokenHash`: cached, or read by `read` (and kept when there is one). */
  session(tokenHash: string, read: () => Promise<Session | null>): Promise<Session | null> {
    const cached = this.#sessions.get(tokenHash);
    if (cached) return Promise.resolve(cached);
    const version = this.#sessions.version();
    return read().then((session) => {
      if (!session) return null;
      const kept = this.#sessions.set(tokenHash, session, version);
      if (this.#sessionTokens.size >= CACHED_SESSIONS) this.#sessionTokens.clear();
      this.#sessionTokens.set(kept.id, tokenHash);
      return kept;
    });
  }

  /** The room under `key` (a slug, or `#<id>`): cached, or read by `read` (and kept when found). */
  room(key: string, read: () => Promise<Room | null>): Promise<Room | null> {
    const cached = this.#rooms.get(key);
    if (cached) return Promise.resolve(cached);
    const version = this.#rooms.version();
    return read().then((room) => room && this.#rooms.set(key, room, version));
  }

  /** Session `id` was just used at `at`: its cached copy says so too. */
  touched(id: number, at: number): void {
    const token = this.#sessionTokens.get(id);
    if (token) this.#sessions.update(token, (session) => ({ ...session, lastSeenAt: at }));
  }

  /** Drops every cached session, here and wherever the counters are shared. */
  dropSessions(): void {
    this.#sessions.invalidate();
    this.#sessionTokens.clear();
  }

  /** Drops every cached room, here and wherever the counters are shared. */
  dropRooms(): void {
    this.#rooms.invalidate();
  }
}
