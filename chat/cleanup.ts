// Periodic cleanup: idle sessions, expired invitations, forgotten guests and unsent uploads are removed (Store.pruneStale).
import type { PruneCounts, Store } from "../db/store.ts";

/** How often the cleanup runs by default. */
export const CLEANUP_EVERY_MS = 3600_000;

/** Options for {@link startCleanup}. */
export interface CleanupOptions {
  store: Store;
  /** Sessions unused for longer than this are removed (`PARLEY_SESSION_IDLE_DAYS`). */
  sessionIdleMs: number;
  /** Guests with no message and no live session are removed after this (`PARLEY_GUEST_RETENTION_DAYS`). */
  guestRetentionMs: number;
  /** Uploads never attached to a message are removed after this (default a day). */
  uploadRetentionMs?: number;
  /** Time between runs; default one hour. */
  intervalMs?: number;
  /** Whether to run on a timer (default true); when false, only {@link Cleanup.run} runs it. */
  timer?: boolean;
  /** The clock (tests pass a fake one). */
  now?: () => number;
  /** Where the one-line summaries go; default `console.log` (failures: `console.warn`). */
  log?: (line: string) => void;
}

/** A running cleanup. */
export interface Cleanup {
  /** Runs once now (or joins the run under way); null when another instance was at it. */
  run(): Promise<PruneCounts | null>;
  /** Stops the timer; resolves when a run under way has ended. */
  stop(): Promise<void>;
}

/** The summary line of a run, or null when it removed nothing. */
export function describeCleanup(counts: PruneCounts | null): string | null {
  if (!counts || counts.sessions + counts.invites + counts.guests + counts.files === 0) {
    return null;
  }
  return `Cleanup removed ${counts.sessions} idle sessions, ${counts.invites} expired invitations, ` +
    `${counts.guests} guests who never wrote and ${counts.files} uploads never sent`;
}

/**
 * Runs the cleanup now and then every `intervalMs`, on a timer that does not keep the process
 * alive; a failed run is logged and tried again at the next tick.
 */
export function startCleanup(options: CleanupOptions): Cleanup {
  const now = options.now ?? Date.now;
  const log = options.log ?? console.log;
  let running: Promise<PruneCounts | null> | undefined;
  let stopped = false;

  function run(): Promise<PruneCounts | null> {
    running ??= options.store.pruneStale({
      now: now(),
      sessionIdleMs: options.sessionIdleMs,
      guestRetentionMs: options.guestRetentionMs,
      uploadRetentionMs: options.uploadRetentionMs,
    }).then((counts) => {
      const line = describeCleanup(counts);
      if (line) log(line);
      return counts;
    }).finally(() => running = undefined);
    return running;
  }

  function tick(): void {
    if (stopped) return;
    run().catch((error) => console.warn(`Cleanup failed; trying again later: ${error}`));
  }

  const timer = options.timer === false
    ? undefined
    : setInterval(tick, options.intervalMs ?? CLEANUP_EVERY_MS);
  if (timer !== undefined) {
    Deno.unrefTimer(timer);
    tick();
  }
  return {
    run,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
