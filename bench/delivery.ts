// Delivery under load: readers run the chat island's change-feed loop (`since` and the cursor)
// while members make changes at a rate: new messages, reactions and edits in a chosen mix.
import { type Guest, MESSAGES_PATH, postHeaders } from "./http.ts";
import { RawHttpConnection } from "./raw_http.ts";
import { Samples } from "./stats.ts";

/** The kinds of change the workload makes, in the order of `--mix`. */
export const CHANGE_KINDS = ["new", "reaction", "edit"] as const;
export type ChangeKind = typeof CHANGE_KINDS[number];

/** Options for {@link runDelivery}. */
export interface DeliveryOptions {
  /** One reader per guest, polling the guest's server with its cookie. */
  readers: Guest[];
  /** The members making changes: new messages round-robin, edits by the author. */
  posters: Guest[];
  /** Changes per second, all posters together. */
  rate: number;
  /** How long to make changes, in seconds. */
  seconds: number;
  /** Share of each kind of change, in percent: new messages, reactions, edits. */
  mix: [number, number, number];
  /** The room's change number (cursor) before the phase: where every reader starts. */
  since: number;
  /** The `wait` the readers ask for, in seconds (the island's `pollWait`). */
  pollWait: number;
  /** How long to keep reading after the last change was answered, in ms, at least. */
  drainMs: number;
  /**
   * How long after the last answer readers may take to reach the server's final state, in ms;
   * a reader still behind then counts as lost.
   */
  settleMs: number;
  /** Marks this run's messages. */
  runId: string;
  /** Progress lines. */
  log: (line: string) => void;
  /**
   * Readers speak HTTP/1.1 over their own sockets instead of using fetch (same requests, about
   * a tenth of the client CPU per poll).
   */
  rawReaders?: boolean;
  /** Called once every reader is connected and polling, before the first measured change. */
  onConnected?: () => void | Promise<void>;
}

/** What {@link runDelivery} measured. */
export interface DeliveryResult {
  readers: number;
  /** Changes the schedule asked for. */
  planned: number;
  /** Changes the server acknowledged (201 for new messages, 200 with a new seq otherwise). */
  posted: number;
  /** Acknowledged changes by kind. */
  made: Record<ChangeKind, number>;
  /** Requests that failed (network error or another status), and skipped (no target yet). */
  postFailed: number;
  /** Statuses of failed requests (`kind status`, `error` for network errors), with counts. */
  postFailures: Record<string, number>;
  /** Reactions and edits answered 200 without a new seq (changed nothing). */
  unchanged: number;
  /** Messages in the room's final state that changed during the phase. */
  finalMessages: number;
  /** readers × finalMessages: (reader, message) pairs that must end in the final state. */
  expected: number;
  /** Pairs whose reader ended with the message's final seq. */
  delivered: number;
  /** Pairs whose reader ended with an older seq, or never had the message. */
  lost: number;
  /** The same (id, seq) delivered twice to one reader. */
  duplicates: number;
  /** An older seq of a message arriving after a newer one, or a seq not above `since`. */
  outOfOrder: number;
  /** Deliveries seen before the change's request was answered (latency counted as 0). */
  beforeAnswer: number;
  /**
   * ms from a change's request being answered to a reader having that seq of the message or a
   * later one, one per (acknowledged change after the warm-up, reader) covered.
   */
  latency: Float64Array;
  /** The same from sending the request (the pre-issue-8 definition). */
  latencyFromSend: Float64Array;
  /** ms from sending a change's request to its answer. */
  postMs: Float64Array;
  /** Long-poll requests answered, and failed. */
  polls: number;
  pollErrors: number;
  /** Long polls answered empty within a second (each makes the island pause for a second). */
  earlyEmpty: number;
  /** ms from sending a long poll to having its answer, every answered poll. */
  pollMs: Float64Array;
  /** The changes that took longest to reach their last reader (from their answer). */
  slowestMessages: { seq: number; kind: ChangeKind; sentAtMs: number; lastReaderMs: number }[];
  /** ms until every reader had the warm-up message; readers that never got it. */
  warmupMs: number;
  warmupMissing: number;
  /** Seconds from the first to the last measured request being sent. */
  sendSeconds: number;
  /** ms from sending the last measured request to the last answer arriving. */
  lastAnswerMs: number;
  /** ms from the last answer until every reader had the final state (NaN: some never did). */
  settledMs: number;
}

/** What one reader received, in order: message id, its seq, and when (performance.now()). */
class ReceptionLog {
  ids = new Int32Array(64);
  seqs = new Int32Array(64);
  times = new Float64Array(64);
  length = 0;

  push(id: number, seq: number, time: number): void {
    if (this.length === this.ids.length) {
      const grow = <T extends Int32Array | Float64Array>(old: T, make: (n: number) => T) => {
        const bigger = make(old.length * 2);
        bigger.set(old);
        return bigger;
      };
      this.ids = grow(this.ids, (n) => new Int32Array(n));
      this.seqs = grow(this.seqs, (n) => new Int32Array(n));
      this.times = grow(this.times, (n) => new Float64Array(n));
    }
    this.ids[this.length] = id;
    this.seqs[this.length] = seq;
    this.times[this.length] = time;
    this.length++;
  }
}

/** One reader's state: its view (id → highest seq seen) and what it received when. */
interface ReaderState {
  view: Map<number, number>;
  log: ReceptionLog;
  warm: boolean;
}

interface Shared {
  warmBody: string;
  warmed: number;
  duplicates: number;
  outOfOrder: number;
  polls: number;
  pollErrors: number;
  /** Long polls answered with no message before a second had passed (the island then pauses). */
  earlyEmpty: number;
  /** ms from sending each poll to having its answer. */
  pollMs: Samples;
}

const MAX_BACKOFF_MS = 10_000;
const MAX_POLLS_PER_READER = 1_000_000;
const FINAL_PAGE = 200;
/** Reactions and edits go to one of this many newest acknowledged messages. */
const RECENT_TARGETS = 20;
const EMOJI = ["👍", "🎉", "😂", "👀", "🚀", "🙏", "🔥", "💯"];

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** The island's backoff after failed polls. */
function backoff(attempt: number): number {
  const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(attempt, 10));
  return base / 2 + Math.random() * base / 2;
}

interface WireMessage {
  id: number;
  seq: number;
  body: string;
}

interface WirePage {
  messages: WireMessage[];
  cursor?: number;
}

/**
 * The kinds of changes 1…`count` (index 0 is the warm-up message): smooth weighted round-robin,
 * so that every stretch of the schedule has about the mix's shares (70,20,10 gives
 * new, reaction, new, edit, new, reaction, new, …).
 */
export function schedule(count: number, mix: [number, number, number]): ChangeKind[] {
  const total = mix[0] + mix[1] + mix[2];
  const current = [0, 0, 0];
  const kinds: ChangeKind[] = ["new"];
  for (let n = 1; n <= count; n++) {
    let best = 0;
    for (let k = 0; k < 3; k++) {
      current[k] += mix[k];
      if (current[k] > current[best]) best = k;
    }
    current[best] -= total;
    kinds.push(CHANGE_KINDS[best]);
  }
  return kinds;
}

/**
 * One reader: the loop of `client/room_client.ts` — one poll in flight, `since` the cursor of
 * the last answer, `wait` while live and 0 after a failure, backoff on errors, a pause after an
 * early empty answer. Instead of keeping the messages it keeps its view (id → highest seq) and
 * a log of what arrived when.
 */
async function readLoop(
  guest: Guest,
  since: number,
  pollWait: number,
  shared: Shared,
  state: ReaderState,
  client: Deno.HttpClient | "raw",
  stop: AbortSignal,
): Promise<void> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (guest.cookie) headers.cookie = guest.cookie;
  let get: (query: string) => Promise<{ status: number; body: string }>;
  if (client === "raw") {
    const { hostname, port } = new URL(guest.origin);
    const connection = new RawHttpConnection(hostname, Number(port));
    stop.addEventListener("abort", () => connection.close(), { once: true });
    get = (query) => connection.get(`${MESSAGES_PATH}?${query}`, headers);
  } else {
    const url = `${guest.origin}${MESSAGES_PATH}?`;
    get = async (query) => {
      const response = await fetch(url + query, { headers, client, signal: stop });
      return { status: response.status, body: await response.text() };
    };
  }
  const { view, log } = state;
  let cursor = since;
  let live = true;
  let failures = 0;
  for (let polls = 0; polls < MAX_POLLS_PER_READER && !stop.aborted; polls++) {
    const started = Date.now();
    const sent = performance.now();
    try {
      const wait = live ? pollWait : 0;
      const response = await get(`since=${cursor}&wait=${wait}`);
      if (response.status !== 200) throw new Error(`status ${response.status}`);
      const page = JSON.parse(response.body) as WirePage;
      const now = performance.now();
      shared.pollMs.push(now - sent);
      shared.polls++;
      live = true;
      failures = 0;
      const asked = cursor;
      for (const message of page.messages) {
        const { id, seq } = message;
        if (seq > cursor) cursor = seq;
        if (!(seq > asked)) shared.outOfOrder++;
        const had = view.get(id);
        if (had !== undefined && seq <= had) {
          if (seq === had) shared.duplicates++;
          else shared.outOfOrder++;
          continue;
        }
        view.set(id, seq);
        log.push(id, seq, now);
        if (!state.warm && message.body === shared.warmBody) {
          state.warm = true;
          shared.warmed++;
        }
      }
      if (typeof page.cursor === "number" && page.cursor > cursor) cursor = page.cursor;
      if (wait > 0 && page.messages.length === 0 && Date.now() - started < 1000) {
        shared.earlyEmpty++;
        await sleep(1000, stop);
      }
    } catch {
      if (stop.aborted) return;
      shared.pollErrors++;
      live = false;
      await sleep(backoff(failures++), stop);
    }
  }
}

/** An acknowledged change: which message, the seq the answer gave it, and when. */
interface Change {
  n: number;
  kind: ChangeKind;
  id: number;
  seq: number;
  sentAt: number;
  answeredAt: number;
}

/** The room's final state after `since`: id → seq, read with `since` paging. */
async function finalState(guest: Guest, since: number): Promise<Map<number, number>> {
  const state = new Map<number, number>();
  let cursor = since;
  for (;;) {
    const response = await fetch(
      `${guest.origin}${MESSAGES_PATH}?since=${cursor}&limit=${FINAL_PAGE}`,
      { headers: { accept: "application/json", cookie: guest.cookie } },
    );
    if (response.status !== 200) {
      throw new Error(`GET ?since=${cursor} answered ${response.status} ${await response.text()}`);
    }
    const page = await response.json() as WirePage;
    for (const message of page.messages) state.set(message.id, message.seq);
    const next = Math.max(page.cursor ?? cursor, page.messages.at(-1)?.seq ?? cursor);
    if (page.messages.length === 0 || next <= cursor) break;
    cursor = next;
  }
  return state;
}

/**
 * Starts the readers, waits until each has a warm-up message (so all are connected and
 * polling), makes `rate × seconds` changes on a fixed schedule (new messages, reactions and
 * edits in the chosen mix), keeps reading for `drainMs` after the last answer and then until every reader has the room's final state (at most `settleMs` after the last answer), stops the
 * readers, reads the room's final state and compares every reader's view with it.
 */
export async function runDelivery(options: DeliveryOptions): Promise<DeliveryResult> {
  const planned = Math.max(0, Math.round(options.rate * options.seconds));
  const readers = options.readers.length;
  const shared: Shared = {
    warmBody: `bench ${options.runId} warm-up`,
    warmed: 0,
    duplicates: 0,
    outOfOrder: 0,
    polls: 0,
    pollErrors: 0,
    earlyEmpty: 0,
    pollMs: new Samples(readers * 8),
  };
  const states: ReaderState[] = options.readers.map(() => ({
    view: new Map(),
    log: new ReceptionLog(),
    warm: false,
  }));
  const changes: Change[] = [];
  const postMs = new Samples(planned + 1);
  const postFailures: Record<string, number> = {};
  const made: Record<ChangeKind, number> = { new: 0, reaction: 0, edit: 0 };
  let postFailed = 0;
  let unchanged = 0;
  /** This run's acknowledged messages, oldest first, with the poster who wrote each. */
  const ours: { id: number; poster: number }[] = [];
  /** Reactions already made: `id poster emoji`. */
  const reacted = new Set<string>();
  /** `id seq` of every answer so far (an answer repeating one changed nothing). */
  const answered = new Set<string>();

  const readerClient = Deno.createHttpClient({});
  const postClient = Deno.createHttpClient({});
  const stopReaders = new AbortController();
  const loops: Promise<void>[] = [];

  function fail(what: string): void {
    postFailed++;
    postFailures[what] = (postFailures[what] ?? 0) + 1;
  }

  /** Sends one request for change `n` (0 is the warm-up message); records what it changed. */
  async function change(n: number, kind: ChangeKind): Promise<void> {
    let poster = n % options.posters.length;
    let path = MESSAGES_PATH;
    let method = "POST";
    let body: string | undefined;
    let ok = 201;
    if (kind === "new") {
      body = JSON.stringify({
        body: n === 0 ? shared.warmBody : `bench ${options.runId} ${n} ${Date.now()}`,
        clientId: `bench-${options.runId}-${n}`,
      });
    } else {
      const recent = ours.slice(-RECENT_TARGETS);
      let target: { id: number; poster: number } | undefined;
      let emoji = "";
      if (kind === "edit") {
        target = recent[Math.floor(Math.random() * recent.length)];
        if (target) poster = target.poster;
      } else {
        // A reaction this member has not made on this message yet (else it changes nothing).
        for (let tries = 0; tries < 50 && !target; tries++) {
          const candidate = recent[Math.floor(Math.random() * recent.length)];
          if (!candidate) break;
          const choice = EMOJI[Math.floor(Math.random() * EMOJI.length)];
          const key = `${candidate.id} ${poster} ${choice}`;
          if (reacted.has(key)) continue;
          reacted.add(key);
          target = candidate;
          emoji = choice;
        }
      }
      if (!target) {
        fail(`${kind} skipped (no target)`);
        return;
      }
      ok = 200;
      if (kind === "edit") {
        method = "PATCH";
        path = `${MESSAGES_PATH}/${target.id}`;
        body = JSON.stringify({ body: `bench ${options.runId} edit ${n}` });
      } else {
        method = "PUT";
        path = `${MESSAGES_PATH}/${target.id}/reactions/${encodeURIComponent(emoji)}`;
      }
    }
    const guest = options.posters[poster];
    const sentAt = performance.now();
    let status = "error";
    let message: WireMessage | undefined;
    try {
      const response = await fetch(guest.origin + path, {
        method,
        headers: postHeaders(guest),
        body,
        client: postClient,
        signal: AbortSignal.timeout(30_000),
      });
      status = String(response.status);
      if (response.status === ok) message = await response.json() as WireMessage;
      else await response.arrayBuffer();
    } catch {
      status = "error";
    }
    const answeredAt = performance.now();
    if (!message) {
      if (n > 0) fail(`${kind} ${status}`);
      return;
    }
    if (kind === "new") ours.push({ id: message.id, poster });
    const key = `${message.id} ${message.seq}`;
    if (answered.has(key)) {
      // Reactions are idempotent: an answer without a new seq changed nothing.
      unchanged++;
      return;
    }
    answered.add(key);
    if (n === 0) return;
    made[kind]++;
    postMs.push(answeredAt - sentAt);
    changes.push({ n, kind, id: message.id, seq: message.seq, sentAt, answeredAt });
  }

  try {
    // Readers join in batches, as page loads would, not in one SYN flood.
    for (let i = 0; i < readers; i++) {
      loops.push(
        readLoop(
          options.readers[i],
          options.since,
          options.pollWait,
          shared,
          states[i],
          options.rawReaders ? "raw" : readerClient,
          stopReaders.signal,
        ),
      );
      if (i % 100 === 99) await sleep(10);
    }
    await sleep(500);

    const warmupStarted = performance.now();
    await change(0, "new");
    const warmupDeadline = warmupStarted + 60_000;
    while (shared.warmed < readers && performance.now() < warmupDeadline) await sleep(20);
    const warmupMs = performance.now() - warmupStarted;
    const warmupMissing = readers - shared.warmed;
    const mix = options.mix.join("/");
    options.log(
      `  ${readers - warmupMissing}/${readers} readers connected (warm-up message in ` +
        `${Math.round(warmupMs)} ms); making ${planned} changes at ${options.rate}/s ` +
        `(new/reactions/edits ${mix} %)`,
    );
    await sleep(500);
    await options.onConnected?.();

    const kinds = schedule(planned, options.mix);
    const interval = 1000 / options.rate;
    const requests: Promise<void>[] = [];
    const start = performance.now();
    let lastSent = start;
    for (let n = 1; n <= planned; n++) {
      const due = start + (n - 1) * interval;
      const ahead = due - performance.now();
      if (ahead > 1) await sleep(ahead);
      lastSent = performance.now();
      requests.push(change(n, kinds[n]));
    }
    await Promise.all(requests);
    // Latency counts from the answers, so the readers get `drainMs` after the last one (under
    // load an answer can come seconds after its request was sent).
    const lastAnswer = performance.now();

    // The server's final state of everything changed in the phase; readers go on for `drainMs`
    // and until each view has it (or until the settle time is over): one still behind is lost.
    const final = await finalState(options.posters[0], options.since);
    const matched = () => {
      let count = 0;
      for (const { view } of states) {
        for (const [id, seq] of final) if (view.get(id) === seq) count++;
      }
      return count;
    };
    const expected = final.size * readers;
    let delivered = matched();
    let settledMs = delivered === expected ? performance.now() - lastAnswer : NaN;
    for (;;) {
      const since = performance.now() - lastAnswer;
      if (since >= options.settleMs || (since >= options.drainMs && delivered === expected)) break;
      await sleep(100);
      delivered = matched();
      if (delivered === expected && Number.isNaN(settledMs)) {
        settledMs = performance.now() - lastAnswer;
      }
    }
    stopReaders.abort();
    await Promise.all(loops);

    // Latency: for each reader, each acknowledged change is covered by the first reception of
    // its message at that seq or a later one (coalesced changes are covered together).
    const byMessage = new Map<number, Change[]>();
    for (const c of changes) {
      const list = byMessage.get(c.id);
      if (list) list.push(c);
      else byMessage.set(c.id, [c]);
    }
    for (const list of byMessage.values()) list.sort((a, b) => a.seq - b.seq);
    const total = changes.length * readers;
    const latency = new Samples(Math.min(total, 4_000_000));
    const latencyFromSend = new Samples(Math.min(total, 4_000_000));
    const slowest = new Map<Change, number>();
    let beforeAnswer = 0;
    for (const { log } of states) {
      const next = new Map<number, number>();
      for (let i = 0; i < log.length; i++) {
        const list = byMessage.get(log.ids[i]);
        if (!list) continue;
        const seq = log.seqs[i];
        const time = log.times[i];
        let at = next.get(log.ids[i]) ?? 0;
        while (at < list.length && list[at].seq <= seq) {
          const c = list[at++];
          let ms = time - c.answeredAt;
          if (ms < 0) {
            beforeAnswer++;
            ms = 0;
          }
          latency.push(ms);
          latencyFromSend.push(time - c.sentAt);
          if (ms > (slowest.get(c) ?? -1)) slowest.set(c, ms);
        }
        next.set(log.ids[i], at);
      }
    }
    const slowestMessages = [...slowest.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5)
      .map(([c, ms]) => ({
        seq: c.seq,
        kind: c.kind,
        sentAtMs: Math.round(c.sentAt - start),
        lastReaderMs: Math.round(ms),
      }));
    return {
      readers,
      planned,
      posted: changes.length,
      made,
      postFailed,
      postFailures,
      unchanged,
      finalMessages: final.size,
      expected,
      delivered,
      lost: expected - delivered,
      duplicates: shared.duplicates,
      outOfOrder: shared.outOfOrder,
      beforeAnswer,
      latency: latency.values(),
      latencyFromSend: latencyFromSend.values(),
      postMs: postMs.values(),
      polls: shared.polls,
      pollErrors: shared.pollErrors,
      earlyEmpty: shared.earlyEmpty,
      pollMs: shared.pollMs.values(),
      slowestMessages,
      warmupMs,
      warmupMissing,
      sendSeconds: (lastSent - start) / 1000,
      lastAnswerMs: lastAnswer - lastSent,
      settledMs,
    };
  } finally {
    stopReaders.abort();
    await Promise.allSettled(loops);
    readerClient.close();
    postClient.close();
  }
}
