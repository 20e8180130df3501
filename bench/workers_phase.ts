// The benchmark's "every core" phase: the same throughput loops against Parley run with 1, 2, … workers.
import { CpuMeter, cpuPerRequestUs, type CpuUse } from "./cpu.ts";
import {
  closedLoop,
  latestCursor,
  MESSAGES_PATH,
  newGuests,
  postHeaders,
  type ThroughputResult,
} from "./http.ts";
import type { ServerProcess } from "./servers.ts";

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

/**
 * For each worker count: starts Parley, then runs room-page, empty-poll and POST loops in
 * turn, each with `concurrency` requests in flight for `seconds`, and stops it.
 */
export async function runWorkersPhase(options: WorkersPhaseOptions): Promise<WorkersRow[]> {
  const rows: WorkersRow[] = [];
  for (const workers of options.counts) {
    options.log(`Workers: ${workers}…`);
    const server = await options.start(workers);
    try {
      const guests = await newGuests([server.origin], options.concurrency);
      const guestOf = (worker: number) => guests[worker % guests.length];
      const loop = (
        request: (worker: number, index: number, client: Deno.HttpClient) => Promise<boolean>,
      ) =>
        metered(
          server,
          () => closedLoop({ concurrency: options.concurrency, seconds: options.seconds, request }),
        );
      const page = await loop(async (worker, _index, client) => {
        const response = await fetch(server.origin + "/", {
          headers: { accept: "text/html", cookie: guestOf(worker).cookie },
          client,
          signal: AbortSignal.timeout(30_000),
        });
        await response.arrayBuffer();
        return response.status === 200;
      });
      const latest = await latestCursor(guests[0]);
      const emptyPoll = await loop(async (worker, _index, client) => {
        const response = await fetch(`${server.origin}${MESSAGES_PATH}?since=${latest}`, {
          headers: { accept: "application/json", cookie: guestOf(worker).cookie },
          client,
          signal: AbortSignal.timeout(30_000),
        });
        await response.arrayBuffer();
        return response.status === 200;
      });
      const post = await loop(async (worker, index, client) => {
        const response = await fetch(server.origin + MESSAGES_PATH, {
          method: "POST",
          headers: postHeaders(guestOf(worker)),
          body: JSON.stringify({
            body: `workers ${workers}: ${worker} ${index}`,
            clientId: `w-${options.runId}-${workers}-${worker}-${index}`,
          }),
          client,
          signal: AbortSignal.timeout(30_000),
        });
        await response.arrayBuffer();
        return response.status === 201;
      });
      rows.push({ workers, page, emptyPoll, post });
      options.log(
        `  page ${Math.round(page.result.rps)}/s, empty poll ${
          Math.round(emptyPoll.result.rps)
        }/s, ` +
          `POST ${Math.round(post.result.rps)}/s`,
      );
    } finally {
      await server.stop();
    }
  }
  return rows;
}
