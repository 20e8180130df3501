// The benchmark's "every core" phase: the same throughput loops against Parley run with 1, 2, … workers.
import { CpuMeter, cpuPerRequestUs, type CpuUse } from "./cpu.ts";
import {
  closedLoop,
  type Guest,
  latestCursor,
  MESSAGES_PATH,
  newGuests,
  postHeaders,
  requestPage,
  requestPoll,
  requestPost,
  type ThroughputResult,
} from "./http.ts";
import type { ServerProcess } from "./servers.ts";
import { wrkLoop } from "./wrk.ts";

/** One loop's result at one worker count. */
export interface WorkersLoop {
  result: ThroughputResult;
  cpu: CpuUse;
  /** Server CPU per request, µs. */
  cpuUs: number;
}

/** The loops' results at one worker count. */
export interface WorkersRow {
  workers: number;
  generator: "wrk" | "fetch";
  page: WorkersLoop;
  emptyPoll: WorkersLoop;
  post: WorkersLoop;
}

/** Options for {@link runWorkersPhase}. */
export interface WorkersPhaseOptions {
  /** The worker counts to compare, each with a server of its own on the same database. */
  counts: number[];
  /** Starts Parley with `workers` workers (one process). */
  start: (workers: number) => Promise<ServerProcess>;
  concurrency: number;
  seconds: number;
  runId: string;
  log: (line: string) => void;
  /** The load generator: wrk (a C client, when installed) or this process's fetch. */
  generator: "wrk" | "fetch";
}

/** Runs `loop` for the phase's length, metering the server's CPU. */
async function metered(
  server: ServerProcess,
  loop: () => Promise<ThroughputResult>,
): Promise<WorkersLoop> {
  const meter = new CpuMeter([server.pid]);
  const result = await loop();
  const cpu = meter.stop();
  return { result, cpu, cpuUs: cpuPerRequestUs(cpu, result.total) };
}

/** The three loops driven by wrk, one connection set per loop, all as one guest. */
async function wrkRow(
  server: ServerProcess,
  guest: Guest,
  workers: number,
  options: WorkersPhaseOptions,
): Promise<WorkersRow> {
  const common = { connections: options.concurrency, seconds: options.seconds };
  const page = await metered(server, () =>
    wrkLoop({
      ...common,
      url: server.origin + "/",
      headers: { accept: "text/html", "accept-encoding": "gzip", cookie: guest.cookie },
    }));
  const latest = await latestCursor(guest);
  const emptyPoll = await metered(server, () =>
    wrkLoop({
      ...common,
      url: `${server.origin}${MESSAGES_PATH}?since=${latest}`,
      headers: { accept: "application/json", cookie: guest.cookie },
    }));
  const post = await metered(server, () =>
    wrkLoop({
      ...common,
      url: server.origin + MESSAGES_PATH,
      method: "POST",
      headers: postHeaders(guest),
      postPrefix: `w-${options.runId}-${workers}`,
    }));
  return { workers, generator: "wrk", page, emptyPoll, post };
}

/** The three loops driven by this process's fetch, spread over `concurrency` guests. */
async function fetchRow(
  server: ServerProcess,
  guests: Guest[],
  workers: number,
  options: WorkersPhaseOptions,
): Promise<WorkersRow> {
  const guestOf = (worker: number) => guests[worker % guests.length];
  const loop = (
    request: (worker: number, index: number, client: Deno.HttpClient) => Promise<boolean>,
  ) =>
    metered(
      server,
      () => closedLoop({ concurrency: options.concurrency, seconds: options.seconds, request }),
    );
  const page = await loop((worker, _index, client) => requestPage(guestOf(worker), client));
  const latest = await latestCursor(guests[0]);
  const emptyPoll = await loop((worker, _index, client) =>
    requestPoll(guestOf(worker), latest, client)
  );
  const post = await loop((worker, index, client) =>
    requestPost(guestOf(worker), {
      body: `workers ${workers}: ${worker} ${index}`,
      clientId: `w-${options.runId}-${workers}-${worker}-${index}`,
    }, client)
  );
  return { workers, generator: "fetch", page, emptyPoll, post };
}

/**
 * For each worker count: starts Parley, then runs room-page, empty-poll and POST loops in
 * turn, each with `concurrency` requests in flight for `seconds`, and stops it.
 */
export async function runWorkersPhase(options: WorkersPhaseOptions): Promise<WorkersRow[]> {
  const rows: WorkersRow[] = [];
  for (const workers of options.counts) {
    options.log(`Workers: ${workers} (load from ${options.generator})…`);
    const server = await options.start(workers);
    try {
      const guests = await newGuests([server.origin], options.concurrency);
      const row = options.generator === "wrk"
        ? await wrkRow(server, guests[0], workers, options)
        : await fetchRow(server, guests, workers, options);
      rows.push(row);
      const rps = (loop: WorkersLoop) => Math.round(loop.result.rps);
      options.log(
        `  page ${rps(row.page)}/s, empty poll ${rps(row.emptyPoll)}/s, POST ${rps(row.post)}/s`,
      );
    } finally {
      await server.stop();
    }
  }
  return rows;
}
