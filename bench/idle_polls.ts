// Idle long polls: many connections each holding one waiting long poll, for the server's RSS
// per waiting poll (issue 12, target 4).
import { MESSAGES_PATH } from "./http.ts";
import { rssMb, RssSampler } from "./servers.ts";

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");
/** Descriptors kept free in this process (for /proc reads, the servers' pipes, fetch). */
const FD_RESERVE = 64;

/** Options for {@link runIdlePolls}. */
export interface IdlePollsOptions {
  /** The server that gets the polls. */
  hostname: string;
  port: number;
  /** Every server's pid, for their RSS (the first is the one polled). */
  pids: number[];
  /** Connections to open, each with one long poll. */
  count: number;
  /** Session cookies (`name=value`), used round-robin; an empty one sends none. */
  cookies: string[];
  /** The `since` of every poll: the room's latest cursor, so that every poll waits. */
  since: number;
  /** The `wait` of every poll, in seconds (the island's 25). */
  pollWait: number;
  /** Connections opened at once, then a pause, so that the accept queue is not overrun. */
  batch?: number;
  /** The pause after each batch, in ms. */
  pauseMs?: number;
  /** Time from the last poll sent to the start of sampling, in ms. */
  settleMs?: number;
  /** How long to sample the RSS, and how often, in ms. */
  sampleMs?: number;
  everyMs?: number;
  /** Called once every poll is sent and settled, before sampling (e.g. for a heap reading). */
  onWaiting?: () => Promise<void>;
  log: (line: string) => void;
}

/** What the idle-polls phase measured. */
export interface IdlePollsResult {
  /** Connections asked for. */
  requested: number;
  /** Connections opened and with their poll sent. */
  opened: number;
  /** Connections that could not be opened (or the poll not sent), by error. */
  openFailed: number;
  openErrors: Record<string, number>;
  /**
   * Opening stopped at "too many open files" (EMFILE/ENFILE) in this process, or was cut short
   * beforehand because the open-files limit would not allow `requested` connections.
   */
  tooManyFiles: boolean;
  /** This process's soft open-files limit (`ulimit -n`), when readable. */
  openFilesLimit?: number;
  /** The server wrote "too many open files" meanwhile (set by the caller, from its stderr). */
  serverTooManyFiles?: boolean;
  /** Polls answered within 1 s of sending (not waiting: refused, limited, …), by status. */
  answeredEarly: number;
  earlyStatuses: Record<string, number>;
  /** Polls answered later (a `wait` that ran out) before sampling ended. */
  answeredLate: number;
  /** Connections the server closed (or reset) without an answer. */
  closedByServer: number;
  /** Polls still waiting (no answer, connection open) when sampling ended. */
  waiting: number;
  /** RSS per server before opening anything, and peak while the polls waited, in MB. */
  rssBefore: number[];
  rssPeak: number[];
  /** Time to open every connection and send its poll, in ms. */
  openMs: number;
}

interface IdlePoll {
  conn: Deno.TcpConn;
  sentAt: number;
  answeredAt?: number;
  status?: number;
  closed: boolean;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isTooManyFiles(error: unknown): boolean {
  return /too many open files|os error 24|os error 23|EMFILE|ENFILE/i.test(String(error));
}

function errorName(error: unknown): string {
  if (isTooManyFiles(error)) return "EMFILE";
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, 80);
}

/** Reads what the server sends (the answer's status line, then anything) until it closes. */
async function watch(poll: IdlePoll, closing: { now: boolean }): Promise<void> {
  const buffer = new Uint8Array(1024);
  let head = "";
  try {
    while (true) {
      const read = await poll.conn.read(buffer);
      if (read === null) break;
      poll.answeredAt ??= performance.now();
      if (poll.status === undefined && head.length < 64) {
        head += latin1.decode(buffer.subarray(0, read));
        const match = /^HTTP\/1\.[01] (\d{3})/.exec(head);
        if (match) poll.status = Number(match[1]);
      }
    }
  } catch {
    // Reset by the server, or closed by us below.
  }
  if (!closing.now) poll.closed = true;
}

/**
 * Opens `count` connections in batches, each sending one long poll as the browser island does
 * (`GET <messages>?since=<cursor>&wait=<pollWait>`, JSON, session cookie), samples the servers'
 * RSS while they all wait, then closes them. Nothing is posted meanwhile, so every poll waits.
 */
export async function runIdlePolls(options: IdlePollsOptions): Promise<IdlePollsResult> {
  const batch = options.batch ?? 250;
  const pauseMs = options.pauseMs ?? 50;
  const { hostname, port, log } = options;
  const rssBefore = options.pids.map((pid) => rssMb(pid));
  // Every connection is a descriptor here: stay below the limit, with a reserve for reading
  // /proc (the RSS) and the rest of the run, instead of running into EMFILE.
  const limit = openFilesLimit();
  const inUse = openDescriptors();
  const room = limit !== undefined && inUse !== undefined ? limit - inUse - FD_RESERVE : Infinity;
  let count = options.count;
  let tooManyFiles = false;
  if (room < count) {
    count = Math.max(0, room);
    tooManyFiles = true;
    log(
      `  TOO MANY OPEN FILES: the open-files limit of the load generator (ulimit -n ${limit}, ` +
        `${inUse} in use) allows ${count} of the ${options.count} connections; opening ${count}`,
    );
  }
  const polls: IdlePoll[] = [];
  const watchers: Promise<void>[] = [];
  const openErrors: Record<string, number> = {};
  const closing = { now: false };
  let openFailed = 0;
  let hitEmfile = false;
  const path = `${MESSAGES_PATH}?since=${options.since}&wait=${options.pollWait}`;
  // The headers Deno's fetch sends for the island's `fetch(url, { headers: { accept } })`.
  const head = `GET ${path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\n` +
    "accept: application/json\r\naccept-encoding: gzip,br\r\naccept-language: *\r\n" +
    "user-agent: Deno/bench\r\n";
  const requests = options.cookies.length
    ? options.cookies.map((cookie) =>
      encoder.encode(head + (cookie ? `cookie: ${cookie}\r\n` : "") + "\r\n")
    )
    : [encoder.encode(head + "\r\n")];

  const open = async (i: number) => {
    let conn: Deno.TcpConn | undefined;
    try {
      conn = await Deno.connect({ hostname, port });
      conn.setNoDelay(true);
      const bytes = requests[i % requests.length];
      for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
      const poll: IdlePoll = { conn, sentAt: performance.now(), closed: false };
      polls.push(poll);
      watchers.push(watch(poll, closing));
    } catch (error) {
      try {
        conn?.close();
      } catch {
        // Already closed.
      }
      openFailed++;
      const name = errorName(error);
      openErrors[name] = (openErrors[name] ?? 0) + 1;
      if (name === "EMFILE") hitEmfile = true;
    }
  };

  const started = performance.now();
  let asked = 0;
  while (asked < count && !hitEmfile) {
    const size = Math.min(batch, count - asked);
    await Promise.all(Array.from({ length: size }, (_, k) => open(asked + k)));
    asked += size;
    if (asked < count) await sleep(pauseMs);
  }
  const openMs = performance.now() - started;
  if (hitEmfile) {
    tooManyFiles = true;
    // Give back a few descriptors, for reading the servers' RSS from /proc.
    const dropped = polls.splice(Math.max(0, polls.length - FD_RESERVE));
    for (const poll of dropped) {
      try {
        poll.conn.close();
      } catch {
        // Already closed.
      }
    }
    log(
      `  TOO MANY OPEN FILES (EMFILE) in the load generator after ${
        polls.length + dropped.length
      } connections: opening stopped, ${dropped.length} closed again to read the RSS ` +
        `(raise ulimit -n, now ${limit ?? "?"})`,
    );
  }
  log(
    `  ${polls.length}/${options.count} polls sent in ${Math.round(openMs)} ms` +
      (openFailed ? `, ${openFailed} failed ${JSON.stringify(openErrors)}` : ""),
  );

  const lastSent = polls.reduce((last, p) => Math.max(last, p.sentAt), started);
  await sleep(Math.max(0, lastSent + (options.settleMs ?? 2000) - performance.now()));
  await options.onWaiting?.();
  const sampler = new RssSampler(options.pids, options.everyMs ?? 200);
  await sleep(options.sampleMs ?? 3000);
  // The sampler starts at 0 and skips unreadable samples: 0 is "no reading".
  const rssPeak = sampler.stop().map((mb) => mb > 0 ? mb : NaN);

  let answeredEarly = 0;
  let answeredLate = 0;
  let closedByServer = 0;
  let waiting = 0;
  const earlyStatuses: Record<string, number> = {};
  for (const poll of polls) {
    if (poll.answeredAt !== undefined) {
      if (poll.answeredAt - poll.sentAt < 1000) {
        answeredEarly++;
        const status = String(poll.status ?? "?");
        earlyStatuses[status] = (earlyStatuses[status] ?? 0) + 1;
      } else {
        answeredLate++;
      }
    } else if (poll.closed) {
      closedByServer++;
    } else {
      waiting++;
    }
  }

  closing.now = true;
  for (const poll of polls) {
    try {
      poll.conn.close();
    } catch {
      // The server closed it.
    }
  }
  await Promise.all(watchers);
  return {
    requested: options.count,
    opened: polls.length,
    openFailed,
    openErrors,
    tooManyFiles,
    openFilesLimit: limit,
    answeredEarly,
    earlyStatuses,
    answeredLate,
    closedByServer,
    waiting,
    rssBefore,
    rssPeak,
    openMs,
  };
}

/** This process's soft open-files limit (Linux), or undefined. */
function openFilesLimit(): number | undefined {
  try {
    const limits = Deno.readTextFileSync("/proc/self/limits");
    const soft = /^Max open files\s+(\d+)/m.exec(limits)?.[1];
    return soft ? Number(soft) : undefined;
  } catch {
    return undefined;
  }
}

/** Descriptors this process has open now (Linux), or undefined. */
function openDescriptors(): number | undefined {
  try {
    let count = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) count++;
    return count;
  } catch {
    return undefined;
  }
}
