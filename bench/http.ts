// HTTP load helpers: guest sessions as a browser gets them, and a closed-loop throughput runner.
import { Samples } from "./stats.ts";

/** The room every benchmark request goes to. */
export const ROOM = "general";
/** The messages API path of {@link ROOM}. */
export const MESSAGES_PATH = `/api/rooms/${ROOM}/messages`;
const SESSION_COOKIE = "parley_session";

/** A guest of one server: its origin and its session cookie (`name=value`). */
export interface Guest {
  origin: string;
  cookie: string;
}

/** Opens the room page as a first-time visitor and returns the session cookie it sets. */
export async function newGuest(origin: string, client?: Deno.HttpClient): Promise<Guest> {
  const response = await fetch(origin + "/", {
    headers: { accept: "text/html" },
    client,
    signal: AbortSignal.timeout(30_000),
  });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`GET ${origin}/ answered ${response.status}`);
  const cookie = response.headers.getSetCookie()
    .map((header) => header.split(";")[0].trim())
    .find((pair) => pair.startsWith(`${SESSION_COOKIE}=`));
  if (!cookie) throw new Error(`GET ${origin}/ set no ${SESSION_COOKIE} cookie`);
  return { origin, cookie };
}

/** Creates `count` guests spread over `origins`, `concurrency` page loads at a time. */
export async function newGuests(
  origins: string[],
  count: number,
  concurrency = 16,
): Promise<Guest[]> {
  const guests: Guest[] = new Array(count);
  const client = Deno.createHttpClient({});
  let next = 0;
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        guests[i] = await newGuest(origins[i % origins.length], client);
      }
    }));
  } finally {
    client.close();
  }
  return guests;
}

/** The room's change number now (the `cursor` of its latest page; 0 when nothing happened). */
export async function latestCursor(guest: Guest): Promise<number> {
  const response = await fetch(`${guest.origin}${MESSAGES_PATH}?limit=1`, {
    headers: { accept: "application/json", cookie: guest.cookie },
  });
  if (!response.ok) throw new Error(`GET ${MESSAGES_PATH}?limit=1 answered ${response.status}`);
  const page = await response.json() as { messages: { seq?: number }[]; cursor?: number };
  if (typeof page.cursor !== "number") {
    throw new Error(`GET ${MESSAGES_PATH}?limit=1 answered no cursor (is the change feed in?)`);
  }
  return page.cursor;
}

/** Headers of a POST as the browser's island sends it (same origin, JSON, session cookie). */
export function postHeaders(guest: Guest): Record<string, string> {
  return {
    "content-type": "application/json",
    accept: "application/json",
    origin: guest.origin,
    cookie: guest.cookie,
  };
}

/** Answers a request's body is read to the end (as a browser would) and says whether it was `status`. */
async function answered(request: Promise<Response>, status: number): Promise<boolean> {
  const response = await request;
  await response.arrayBuffer();
  return response.status === status;
}

/** `guest` opens the room page; true when it answered 200. */
export function requestPage(guest: Guest, client?: Deno.HttpClient): Promise<boolean> {
  return answered(
    fetch(guest.origin + "/", {
      headers: { accept: "text/html", cookie: guest.cookie },
      client,
      signal: AbortSignal.timeout(30_000),
    }),
    200,
  );
}

/** `guest` polls for changes after `since`, without waiting; true when it answered 200. */
export function requestPoll(
  guest: Guest,
  since: number,
  client?: Deno.HttpClient,
): Promise<boolean> {
  return answered(
    fetch(`${guest.origin}${MESSAGES_PATH}?since=${since}`, {
      headers: { accept: "application/json", cookie: guest.cookie },
      client,
      signal: AbortSignal.timeout(30_000),
    }),
    200,
  );
}

/** `guest` posts `body` as a new message with `clientId`; true when it answered 201. */
export function requestPost(
  guest: Guest,
  message: { body: string; clientId: string },
  client?: Deno.HttpClient,
): Promise<boolean> {
  return answered(
    fetch(guest.origin + MESSAGES_PATH, {
      method: "POST",
      headers: postHeaders(guest),
      body: JSON.stringify(message),
      client,
      signal: AbortSignal.timeout(30_000),
    }),
    201,
  );
}

/** Options for {@link closedLoop}. */
export interface ClosedLoopOptions {
  /** Requests in flight at any time. */
  concurrency: number;
  /** Measured duration, in seconds (after the warm-up). */
  seconds: number;
  /** Unmeasured warm-up, in seconds. */
  warmupSeconds?: number;
  /** Upper bound on requests per worker, whatever the time. */
  maxPerWorker?: number;
  /**
   * Sends one request with the phase's HTTP client, reads the whole answer, and returns
   * whether it succeeded (network errors count as failures).
   */
  request: (worker: number, index: number, client: Deno.HttpClient) => Promise<boolean>;
}

/** What {@link closedLoop} measured. */
export interface ThroughputResult {
  /** Successful requests per second in the measured window. */
  rps: number;
  ok: number;
  failed: number;
  seconds: number;
  /**
   * Every request that completed (answered or failed) during the whole run, warm-up and the
   * requests still in flight at the window's end included: what the server's CPU over the
   * whole phase was spent on.
   */
  total: number;
}

/**
 * Runs `concurrency` workers that each send one request after another for the warm-up plus
 * `seconds`, and counts the requests that completed inside the measured window.
 */
export async function closedLoop(options: ClosedLoopOptions): Promise<ThroughputResult> {
  const client = Deno.createHttpClient({});
  const start = performance.now();
  const measureFrom = start + (options.warmupSeconds ?? 0.5) * 1000;
  const end = measureFrom + options.seconds * 1000;
  const maxPerWorker = options.maxPerWorker ?? 10_000_000;
  let ok = 0;
  let failed = 0;
  let total = 0;
  try {
    await Promise.all(Array.from({ length: options.concurrency }, async (_, worker) => {
      for (let i = 0; i < maxPerWorker && performance.now() < end; i++) {
        let success = false;
        try {
          success = await options.request(worker, i, client);
        } catch {
          success = false;
        }
        total++;
        const done = performance.now();
        if (done < measureFrom || done > end) continue;
        if (success) ok++;
        else failed++;
      }
    }));
  } finally {
    client.close();
  }
  return { rps: ok / options.seconds, ok, failed, seconds: options.seconds, total };
}

/** What {@link sequentialLatency} measured. */
export interface LatencyResult {
  /** Each measured request's duration, in ms. */
  ms: Float64Array;
  failed: number;
  /** Every request sent, warm-up included (what the server's CPU was spent on). */
  total: number;
}

/**
 * Sends `count` requests one after another (after `warmup` unmeasured ones), and more until
 * `minSeconds` have passed since the start (so that the phase is long enough for /proc's
 * 10 ms CPU ticks); returns each measured request's ms.
 */
export async function sequentialLatency(
  count: number,
  warmup: number,
  request: (client: Deno.HttpClient) => Promise<boolean>,
  minSeconds = 0,
): Promise<LatencyResult> {
  const client = Deno.createHttpClient({});
  const ms = new Samples(count);
  const until = performance.now() + minSeconds * 1000;
  let failed = 0;
  let total = 0;
  try {
    for (let i = 0; i < warmup; i++, total++) await request(client);
    for (let i = 0; i < count || performance.now() < until; i++, total++) {
      const started = performance.now();
      if (!await request(client)) failed++;
      ms.push(performance.now() - started);
    }
  } finally {
    client.close();
  }
  return { ms: ms.values(), failed, total };
}
