// Delivery under load: readers run the chat island's long-poll loop while posters send at a rate.
import { type Guest, MESSAGES_PATH, postHeaders } from "./http.ts";
import { RawHttpConnection } from "./raw_http.ts";
import { Samples } from "./stats.ts";

/** Options for {@link runDelivery}. */
export interface DeliveryOptions {
  /** One reader per guest, polling the guest's server with its cookie. */
  readers: Guest[];
  /** Posters; message `n` is sent by poster `n % posters.length`. */
  posters: Guest[];
  /** Messages per second, all posters together. */
  rate: number;
  /** How long to post, in seconds. */
  seconds: number;
  /** The newest message id before the phase: where every reader starts. */
  afterId: number;
  /** The `wait` the readers ask for, in seconds (the island's `pollWait`). */
  pollWait: number;
  /** How long to keep reading after the last post was sent, in ms. */
  drainMs: number;
  /** Marks this run's messages (other messages in the room are read but not counted). */
  runId: string;
  /** Progress lines. */
  log: (line: string) => void;
  /**
   * Readers speak HTTP/1.1 over their own sockets instead of using fetch (same requests, about
   * a tenth of the client CPU per poll).
   */
  rawReaders?: boolean;
  /** Called once every reader is connected and polling, before the first measured post. */
  onConnected?: () => void | Promise<void>;
}

/** What {@link runDelivery} measured. */
export interface DeliveryResult {
  readers: number;
  /** Messages the schedule asked for. */
  planned: number;
  /** Messages the server acknowledged with 201. */
  posted: number;
  /** POSTs that failed (network error or a status other than 201). */
  postFailed: number;
  /** Statuses of failed POSTs (`error` for network errors), with counts. */
  postFailures: Record<string, number>;
  /** posted × readers. */
  expected: number;
  /** Distinct (acknowledged message, reader) pairs received. */
  delivered: number;
  lost: number;
  /** Messages a reader received again after having them. */
  duplicates: number;
  /** Received messages whose POST was not acknowledged (neither expected nor lost). */
  unacknowledgedDeliveries: number;
  /** ms from sending the POST to a reader having the message parsed, one per delivery. */
  latency: Float64Array;
  /** ms from sending a POST to its 201. */
  postMs: Float64Array;
  /** Long-poll requests answered, and failed. */
  polls: number;
  pollErrors: number;
  /** Long polls answered empty within a second (each makes the island pause for a second). */
  earlyEmpty: number;
  /** ms from sending a long poll to having its answer, every answered poll. */
  pollMs: Float64Array;
  /** The messages that took longest to reach their last reader. */
  slowestMessages: { seq: number; sentAtMs: number; lastReaderMs: number }[];
  /** ms until every reader had the warm-up message; readers that never got it. */
  warmupMs: number;
  warmupMissing: number;
  /** Seconds from the first to the last measured POST being sent. */
  sendSeconds: number;
}

interface Shared {
  prefix: string;
  planned: number;
  sentAt: Float64Array;
  unique: Uint32Array;
  latency: Samples;
  duplicates: number;
  polls: number;
  pollErrors: number;
  /** Long polls answered with no message before a second had passed (the island then pauses). */
  earlyEmpty: number;
  /** Per message: the slowest delivery to any reader, in ms. */
  slowest: Float64Array;
  /** ms from sending each poll to having its answer. */
  pollMs: Samples;
}

const MAX_BACKOFF_MS = 10_000;
const MAX_POLLS_PER_READER = 1_000_000;

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
  body: string;
}

/**
 * One reader: the loop of `client/room_client.ts` — one poll in flight, `after` the newest id the
 * polls delivered, `wait` while live and 0 after a failure, backoff on errors, a pause after an
 * early empty answer. Instead of keeping the messages it keeps which of this run's it has.
 */
async function readLoop(
  guest: Guest,
  afterId: number,
  pollWait: number,
  shared: Shared,
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
  const seen = new Uint8Array(shared.planned + 1);
  const { prefix, sentAt, unique, latency, slowest } = shared;
  let lastId = afterId;
  let live = true;
  let failures = 0;
  for (let polls = 0; polls < MAX_POLLS_PER_READER && !stop.aborted; polls++) {
    const started = Date.now();
    const sent = performance.now();
    try {
      const wait = live ? pollWait : 0;
      const response = await get(`after=${lastId}&wait=${wait}`);
      if (response.status !== 200) throw new Error(`status ${response.status}`);
      const { messages } = JSON.parse(response.body) as { messages: WireMessage[] };
      const now = performance.now();
      shared.pollMs.push(now - sent);
      shared.polls++;
      live = true;
      failures = 0;
      for (const message of messages) {
        if (message.id > lastId) lastId = message.id;
        if (!message.body.startsWith(prefix)) continue;
        const seq = parseInt(message.body.slice(prefix.length), 10);
        if (!(seq >= 0 && seq <= shared.planned)) continue;
        if (seen[seq]) {
          shared.duplicates++;
          continue;
        }
        seen[seq] = 1;
        unique[seq]++;
        if (seq > 0) {
          const ms = now - sentAt[seq];
          latency.push(ms);
          if (ms > slowest[seq]) slowest[seq] = ms;
        }
      }
      if (wait > 0 && messages.length === 0 && Date.now() - started < 1000) {
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

/**
 * Starts the readers, waits until each has a warm-up message (so all are connected and
 * polling), posts `rate × seconds` messages on a fixed schedule, keeps reading for `drainMs`
 * after the last one, then stops the readers and counts.
 */
export async function runDelivery(options: DeliveryOptions): Promise<DeliveryResult> {
  const planned = Math.max(0, Math.round(options.rate * options.seconds));
  const readers = options.readers.length;
  const shared: Shared = {
    prefix: `bench ${options.runId} `,
    planned,
    sentAt: new Float64Array(planned + 1),
    unique: new Uint32Array(planned + 1),
    latency: new Samples(Math.min(readers * planned, 4_000_000)),
    duplicates: 0,
    polls: 0,
    pollErrors: 0,
    earlyEmpty: 0,
    slowest: new Float64Array(planned + 1),
    pollMs: new Samples(readers * 8),
  };
  const acknowledged = new Uint8Array(planned + 1);
  const postMs = new Samples(planned + 1);
  const postFailures: Record<string, number> = {};
  let postFailed = 0;

  const readerClient = Deno.createHttpClient({});
  const postClient = Deno.createHttpClient({});
  const stopReaders = new AbortController();
  const loops: Promise<void>[] = [];

  async function post(seq: number): Promise<void> {
    const guest = options.posters[seq % options.posters.length];
    const body = JSON.stringify({
      body: `${shared.prefix}${seq} ${Date.now()}`,
      clientId: `bench-${options.runId}-${seq}`,
    });
    const sent = performance.now();
    shared.sentAt[seq] = sent;
    let status = "error";
    try {
      const response = await fetch(guest.origin + MESSAGES_PATH, {
        method: "POST",
        headers: postHeaders(guest),
        body,
        client: postClient,
        signal: AbortSignal.timeout(30_000),
      });
      await response.arrayBuffer();
      status = String(response.status);
    } catch {
      // Counted as "error" below.
    }
    if (status === "201") {
      acknowledged[seq] = 1;
      if (seq > 0) postMs.push(performance.now() - sent);
    } else if (seq > 0) {
      postFailed++;
      postFailures[status] = (postFailures[status] ?? 0) + 1;
    }
  }

  try {
    // Readers join in batches, as page loads would, not in one SYN flood.
    for (let i = 0; i < readers; i++) {
      loops.push(
        readLoop(
          options.readers[i],
          options.afterId,
          options.pollWait,
          shared,
          options.rawReaders ? "raw" : readerClient,
          stopReaders.signal,
        ),
      );
      if (i % 100 === 99) await sleep(10);
    }
    await sleep(500);

    const warmupStarted = performance.now();
    await post(0);
    const warmupDeadline = warmupStarted + 60_000;
    while (shared.unique[0] < readers && performance.now() < warmupDeadline) await sleep(20);
    const warmupMs = performance.now() - warmupStarted;
    const warmupMissing = readers - shared.unique[0];
    options.log(
      `  ${readers - warmupMissing}/${readers} readers connected (warm-up message in ` +
        `${Math.round(warmupMs)} ms); posting ${planned} messages at ${options.rate}/s`,
    );
    await sleep(500);
    await options.onConnected?.();

    const interval = 1000 / options.rate;
    const posts: Promise<void>[] = [];
    const start = performance.now();
    let lastSent = start;
    for (let seq = 1; seq <= planned; seq++) {
      const due = start + (seq - 1) * interval;
      const ahead = due - performance.now();
      if (ahead > 1) await sleep(ahead);
      lastSent = performance.now();
      posts.push(post(seq));
    }
    await Promise.all(posts);
    const drainLeft = lastSent + options.drainMs - performance.now();
    if (drainLeft > 0) await sleep(drainLeft);
    stopReaders.abort();
    await Promise.all(loops);

    let posted = 0;
    let delivered = 0;
    let unacknowledgedDeliveries = 0;
    for (let seq = 1; seq <= planned; seq++) {
      if (acknowledged[seq]) {
        posted++;
        delivered += shared.unique[seq];
      } else unacknowledgedDeliveries += shared.unique[seq];
    }
    const expected = posted * readers;
    const slowestMessages = [...shared.slowest.keys()].slice(1)
      .sort((a, b) => shared.slowest[b] - shared.slowest[a]).slice(0, 5)
      .map((seq) => ({
        seq,
        sentAtMs: Math.round(shared.sentAt[seq] - start),
        lastReaderMs: Math.round(shared.slowest[seq]),
      }));
    return {
      readers,
      planned,
      posted,
      postFailed,
      postFailures,
      expected,
      delivered,
      lost: expected - delivered,
      duplicates: shared.duplicates,
      unacknowledgedDeliveries,
      latency: shared.latency.values(),
      postMs: postMs.values(),
      polls: shared.polls,
      pollErrors: shared.pollErrors,
      earlyEmpty: shared.earlyEmpty,
      pollMs: shared.pollMs.values(),
      slowestMessages,
      warmupMs,
      warmupMissing,
      sendSeconds: (lastSent - start) / 1000,
    };
  } finally {
    stopReaders.abort();
    await Promise.allSettled(loops);
    readerClient.close();
    postClient.close();
  }
}
