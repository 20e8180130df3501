// The browser side of the typing indicator: reports my typing (at most every few seconds) and
// follows who else is typing with a long poll of its own (the message feed is not disturbed).
import { signal } from "@preact/signals";
import type { Typist } from "../chat/typing.ts";
import { sleep } from "./sleep.ts";

/** How often (ms) typing is reported while the person types: reports count for 6 s. */
export const REPORT_EVERY_MS = 3000;

/** Options for {@link createTypingClient}. */
export interface TypingClientOptions {
  room: { slug: string };
  meId: number;
  /** Seconds a poll waits for a change. */
  pollWait: number;
  /** `fetch`, replaceable in tests. */
  fetch?: typeof fetch;
}

/** "Ada is typing…", "Ada and Bea are typing…", "Several people are typing…", or "". */
export function typingText(names: string[]): string {
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return "Several people are typing…";
}

export function createTypingClient(options: TypingClientOptions) {
  const base = `/api/rooms/${encodeURIComponent(options.room.slug)}/typing`;
  const http = options.fetch ?? ((input, init) => fetch(input, init));
  /** Who else is typing now. */
  const typists = signal<Typist[]>([]);
  let lastReport = 0;

  /** The composer's text changed: report typing if there is text and it is time to. */
  function typed(text: string): void {
    if (text.trim() === "") {
      lastReport = 0;
      return;
    }
    const now = Date.now();
    if (now - lastReport < REPORT_EVERY_MS) return;
    lastReport = now;
    http(base, { method: "POST" }).then((r) => r.body?.cancel(), () => {});
  }

  /** The text was sent (the server ends the indicator): the next keystroke reports at once. */
  function sent(): void {
    lastReport = 0;
  }

  /** Follows who is typing until the returned function is called. */
  function start(): () => void {
    const stop = new AbortController();
    (async () => {
      let version = 0;
      let failures = 0;
      while (!stop.signal.aborted) {
        const started = Date.now();
        try {
          const response = await http(`${base}?since=${version}&wait=${options.pollWait}`, {
            signal: stop.signal,
            headers: { accept: "application/json" },
          });
          if (!response.ok) throw new Error(String(response.status));
          const body = await response.json() as { typing: Typist[]; version: number };
          failures = 0;
          typists.value = body.typing.filter((t) => t.id !== options.meId);
          // A server answering an unchanged set at once (shutting down) is not hammered.
          if (body.version === version && Date.now() - started < 1000) {
            await sleep(1000, stop.signal);
          }
          version = body.version;
        } catch {
          if (stop.signal.aborted) return;
          typists.value = [];
          version = 0;
          await sleep(Math.min(30_000, 1000 * 2 ** failures++), stop.signal);
        }
      }
    })();
    return () => stop.abort();
  }

  return { typists, typed, sent, start };
}
