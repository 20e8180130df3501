// Load benchmark: starts Parley (and a hello-world baseline) as child processes and measures them.
import { parseArgs } from "node:util";
import {
  CpuMeter,
  cpuPerRequestUs,
  type CpuUse,
  formatCpu,
  type TcpCounters,
  tcpCounters,
  tcpDelta,
  tickError,
} from "./cpu.ts";
import { DEFAULT_LIMITS } from "../chat/limits.ts";
import { CHANGE_KINDS, type DeliveryResult, runDelivery } from "./delivery.ts";
import { fillPostgresHistory, fillSqliteHistory } from "./history.ts";
import { type IdlePollsResult, runIdlePolls } from "./idle_polls.ts";
import {
  closedLoop,
  latestCursor,
  MESSAGES_PATH,
  newGuest,
  newGuests,
  requestPage,
  requestPoll,
  requestPost,
  sequentialLatency,
  type ThroughputResult,
} from "./http.ts";
import { type CpuProfile, Profiler, summarizeProfile } from "./profile.ts";
import { formatTable, formatTargets, type TargetCheck, verdict } from "./report.ts";
import {
  freePort,
  rssMb,
  RssSampler,
  type ServerProcess,
  ServerStartError,
  startServer,
  stopAllServers,
} from "./servers.ts";
import { int, percentiles, round } from "./stats.ts";
import { runWorkersPhase, type WorkersLoop, type WorkersRow } from "./workers_phase.ts";
import { hasWrk } from "./wrk.ts";

const USAGE = `Usage: deno task bench [options]

  --clients N        readers running the island's long-poll loop (default 200)
  --rate R           changes per second in the delivery phase, all posters together (default 20)
  --seconds S        how long to make changes (default 10)
  --mix N,R,E        percent of new messages, reactions and edits among the changes
                     (default 70,20,10; 100,0,0 is the new-messages-only workload of before
                     issue 8). Readers always follow the change feed (since and the cursor).
  --history N        messages stored before the run (default 0)
  --db D             sqlite (default) or postgres (uses DATABASE_URL)
  --instances N      app processes sharing the database: 1, or 2 with postgres (default 1)
  --posters N        members making changes during the delivery phase (default 4)
  --concurrency N    requests in flight in the throughput phases (default 32)
  --phase-seconds S  measured duration of each throughput phase (default 3)
  --page-requests N  room page requests for the page latency, at least (default 200); the page
                     phase goes on for --phase-seconds at least, for its CPU per request
  --drain-ms MS      reading time after the last change was answered, at least (default 2000)
  --settle-ms MS     then readers go on until each has the room's final state, at most this long
                     after the last answer; a reader still behind then is lost (default 30000)
  --profile DIR      CPU-profile the (first) server in each phase into DIR (slows it down)
  --server-flags=F   extra deno flags for the app servers, e.g. --server-flags=--v8-flags=--jitless
                     (added to the --v8-flags of \`deno task start\`, which they always get)
  --no-floor         skip the delivery floor: the same delivery phase against an in-memory
                     server (bench/ideal_server.ts), which shows what the load generator allows
  --raw-readers      readers send the same HTTP/1.1 requests over their own sockets instead of
                     fetch, which costs this process ~100 µs per poll at 2,000 connections
  --idle-polls N     after the POST phase, restart the servers, open N connections to the
                     (first), each with one long poll waiting (no changes meanwhile), and
                     measure the server's RSS per waiting poll (default 0: skipped; the target run uses 10000, which
                     needs an open-files limit, ulimit -n, above 10000)
  --workers LIST     PARLEY_WORKERS of the app servers: the first count for every phase above
                     (default 1); with more than one (e.g. 1,2), a last phase starts one
                     process at each count on the same database and runs the room-page,
                     empty-poll and POST loops against it, for --phase-seconds each (driven
                     by wrk when it is installed: this process's fetch cannot load two cores)
  --anonymous-readers  readers poll without their session cookie (a browser always sends it;
                     this shows what the session lookup costs the long polls)
`;

/** The benchmark's options. */
interface Options {
  clients: number;
  rate: number;
  seconds: number;
  history: number;
  db: "sqlite" | "postgres";
  instances: number;
  posters: number;
  concurrency: number;
  phaseSeconds: number;
  pageRequests: number;
  drainMs: number;
  settleMs: number;
  profileDir?: string;
  serverFlags: string[];
  anonymousReaders: boolean;
  floor: boolean;
  rawReaders: boolean;
  mix: [number, number, number];
  idlePolls: number;
  workers: number[];
}

const POLL_WAIT = 25;
const ROOT = new URL("..", import.meta.url).pathname;
const TARGET = { clients: 2000, rate: 20, seconds: 20, history: 1_000_000, idlePolls: 10_000 };

function log(line: string): void {
  console.error(line);
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      clients: { type: "string", default: "200" },
      rate: { type: "string", default: "20" },
      seconds: { type: "string", default: "10" },
      history: { type: "string", default: "0" },
      db: { type: "string", default: "sqlite" },
      instances: { type: "string", default: "1" },
      posters: { type: "string", default: "4" },
      concurrency: { type: "string", default: "32" },
      "phase-seconds": { type: "string", default: "3" },
      "page-requests": { type: "string", default: "200" },
      "drain-ms": { type: "string", default: "2000" },
      "settle-ms": { type: "string", default: "30000" },
      profile: { type: "string" },
      "server-flags": { type: "string", default: "" },
      "anonymous-readers": { type: "boolean", default: false },
      "no-floor": { type: "boolean", default: false },
      "raw-readers": { type: "boolean", default: false },
      mix: { type: "string", default: "70,20,10" },
      "idle-polls": { type: "string", default: "0" },
      workers: { type: "string", default: "1" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const number = (name: string, value: string, min: number, max: number) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new Error(`--${name} must be a number from ${min} to ${max} (got "${value}")`);
    }
    return n;
  };
  const mix = values.mix.split(",").map((part) => Number(part.trim()));
  if (
    mix.length !== 3 || mix.some((n) => !Number.isFinite(n) || n < 0) || mix[0] <= 0 ||
    mix[0] + mix[1] + mix[2] !== 100
  ) {
    throw new Error(
      `--mix must be three percentages (new, reactions, edits) adding up to 100, new above 0 ` +
        `(got "${values.mix}")`,
    );
  }
  const db = values.db;
  if (db !== "sqlite" && db !== "postgres") throw new Error(`--db must be sqlite or postgres`);
  const options: Options = {
    clients: Math.round(number("clients", values.clients, 1, 20_000)),
    rate: number("rate", values.rate, 0.1, 10_000),
    seconds: number("seconds", values.seconds, 0.1, 600),
    history: Math.round(number("history", values.history, 0, 100_000_000)),
    db,
    instances: Math.round(number("instances", values.instances, 1, 2)),
    posters: Math.round(number("posters", values.posters, 1, 1000)),
    concurrency: Math.round(number("concurrency", values.concurrency, 1, 1000)),
    phaseSeconds: number("phase-seconds", values["phase-seconds"], 0.5, 120),
    pageRequests: Math.round(number("page-requests", values["page-requests"], 1, 100_000)),
    drainMs: number("drain-ms", values["drain-ms"], 0, 60_000),
    settleMs: number("settle-ms", values["settle-ms"], 0, 600_000),
    profileDir: values.profile,
    serverFlags: [
      ...startTaskV8Flags(),
      ...values["server-flags"].split(/\s+/).filter(Boolean),
    ],
    anonymousReaders: values["anonymous-readers"],
    floor: !values["no-floor"],
    rawReaders: values["raw-readers"],
    mix: mix as [number, number, number],
    idlePolls: Math.round(number("idle-polls", values["idle-polls"], 0, 100_000)),
    workers: values.workers.split(",").map((part) =>
      Math.round(number("workers", part.trim(), 1, 64))
    ),
  };
  if (options.instances > 1 && db !== "postgres") {
    throw new Error("--instances 2 needs --db postgres (SQLite is one process's file)");
  }
  if (db === "postgres" && !Deno.env.get("DATABASE_URL")) {
    throw new Error("--db postgres needs DATABASE_URL in the environment");
  }
  if (options.clients * options.rate * options.seconds > 50_000_000) {
    throw new Error("clients × rate × seconds is above 50,000,000 deliveries; use a smaller run");
  }
  return options;
}

/** The `--v8-flags=…` of the `start` task in deno.json: the app servers run as it does. */
function startTaskV8Flags(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`)) as {
    tasks: Record<string, string>;
  };
  return config.tasks.start.split(/\s+/).filter((flag) => flag.startsWith("--v8-flags="));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "?";
  }
}

/** Per phase: the CPU it used and, when profiling, the summary of the first server's profile. */
interface PhaseRecords {
  cpu: Record<string, CpuUse>;
  /** Growth of the kernel's TCP drop counters during each phase (whole machine). */
  tcp: Record<string, TcpCounters>;
  profiles: string[];
  /** The profiler of the phase running now, if profiling. */
  profiler?: Profiler;
  /** V8 heap readings taken while profiling, by moment. */
  heap: Record<string, { usedMb: number; totalMb: number }>;
}

/** Runs one phase: measures CPU use and profiles the first server when profiling is on. */
async function phase<T>(
  name: string,
  servers: ServerProcess[],
  options: Options,
  records: PhaseRecords,
  work: () => Promise<T>,
): Promise<T> {
  const meter = new CpuMeter(servers.map((s) => s.pid));
  const tcp = tcpCounters();
  try {
    return await profiled(name, servers[0], options, work, records);
  } finally {
    records.cpu[name] = meter.stop();
    records.tcp[name] = tcpDelta(tcp, tcpCounters());
  }
}

/** Profiles `work` on `server` when it has an inspector; prints and saves the profile. */
async function profiled<T>(
  phase: string,
  server: ServerProcess,
  options: Options,
  work: () => Promise<T>,
  records: PhaseRecords,
): Promise<T> {
  if (!options.profileDir || !server.inspectPort) return await work();
  const summaries = records.profiles;
  const profiler = await Profiler.connect(server.inspectPort);
  records.profiler = profiler;
  await profiler.start();
  let profile: CpuProfile | undefined;
  try {
    return await work();
  } finally {
    records.heap[`${phase} end`] = await profiler.heapUsage();
    profile = await profiler.stop();
    records.profiler = undefined;
    profiler.close();
    const file = `${options.profileDir}/${phase}.cpuprofile`;
    await Deno.writeTextFile(file, JSON.stringify(profile));
    summaries.push(`CPU profile of ${server.name} during "${phase}" (${file}):`);
    summaries.push(...summarizeProfile(profile, "file://" + ROOT));
    summaries.push("");
  }
}

async function startParley(
  options: Options,
  dataDir: string,
  workers = options.workers[0],
  instances = options.instances,
): Promise<ServerProcess[]> {
  const servers: ServerProcess[] = [];
  for (let i = 0; i < instances; i++) {
    const port = freePort();
    const started = performance.now();
    servers.push(
      await startServer({
        name: `parley #${i + 1} (${options.db}${workers > 1 ? `, ${workers} workers` : ""})`,
        script: "main.ts",
        cwd: ROOT,
        port,
        readyPath: `${MESSAGES_PATH}?limit=1`,
        inspectPort: options.profileDir && i === 0 ? freePort() : undefined,
        flags: options.serverFlags,
        env: {
          PORT: String(port),
          HOSTNAME: "127.0.0.1",
          SQLITE_PATH: `${dataDir}/parley.db`,
          // Empty removes a DATABASE_URL from the environment: SQLite runs stay on SQLite.
          DATABASE_URL: options.db === "postgres" ? Deno.env.get("DATABASE_URL")! : "",
          // Every guest comes from 127.0.0.1: lift the per-member and per-address limits.
          PARLEY_BURST_MESSAGES: "1000000",
          // Edits and reactions have a fixed budget per window (30): a 1 s window makes it 30/s
          // per member, above what the posters' share of the mixed workload asks for.
          PARLEY_BURST_SECONDS: "1",
          PARLEY_NEW_GUESTS_PER_MINUTE: "1000000",
          PARLEY_MAX_CONNECTIONS_PER_ADDRESS: "1000000",
          PARLEY_MAX_POLLS_PER_ADDRESS: "1000000",
          PARLEY_GUESTS: "on",
          PARLEY_DEV: "0",
          PARLEY_WORKERS: String(workers),
        },
      }),
    );
    log(
      `  ${servers[i].name} answering on ${servers[i].origin} (pid ${servers[i].pid}, ` +
        `${Math.round(performance.now() - started)} ms)`,
    );
  }
  return servers;
}

async function helloBaseline(
  options: Options,
  records: PhaseRecords,
): Promise<ThroughputResult> {
  const port = freePort();
  const hello = await startServer({
    name: "hello world",
    script: "bench/hello.ts",
    cwd: ROOT,
    port,
    readyPath: "/",
    env: { PORT: String(port), HOSTNAME: "127.0.0.1" },
  });
  try {
    return await phase("hello", [hello], options, records, () =>
      closedLoop({
        concurrency: options.concurrency,
        seconds: options.phaseSeconds,
        request: async (_worker, _index, client) => {
          const response = await fetch(hello.origin + "/", { client });
          await response.arrayBuffer();
          return response.status === 200;
        },
      }));
  } finally {
    await hello.stop();
  }
}

/** The delivery phase against the in-memory server: the load generator's own latency. */
async function deliveryFloor(
  options: Options,
  records: PhaseRecords,
  runId: string,
): Promise<DeliveryResult> {
  const port = freePort();
  const ideal = await startServer({
    name: "in-memory messages API",
    script: "bench/ideal_server.ts",
    cwd: ROOT,
    port,
    readyPath: `${MESSAGES_PATH}?limit=1`,
    env: { PORT: String(port), HOSTNAME: "127.0.0.1" },
  });
  try {
    const guests = await newGuests([ideal.origin], options.posters + options.clients);
    return await phase("floor", [ideal], options, records, () =>
      runDelivery({
        readers: guests.slice(options.posters),
        posters: guests.slice(0, options.posters),
        rate: options.rate,
        seconds: options.seconds,
        since: 0,
        mix: options.mix,
        pollWait: POLL_WAIT,
        drainMs: options.drainMs,
        settleMs: options.settleMs,
        runId: `${runId}-floor`,
        log,
        rawReaders: options.rawReaders,
      }));
  } finally {
    await ideal.stop();
  }
}

async function main(options: Options): Promise<void> {
  const runId = crypto.randomUUID().slice(0, 8);
  const dataDir = await Deno.makeTempDir({ prefix: "parley-bench-" });
  if (options.profileDir) await Deno.mkdir(options.profileDir, { recursive: true });
  const records: PhaseRecords = { cpu: {}, tcp: {}, profiles: [], heap: {} };
  const loadBefore = loadAverage();
  log(
    `Parley benchmark ${runId}: ${options.db}, ${options.instances} instance(s), ` +
      `${options.clients} clients, ${options.rate} changes/s (mix ${options.mix.join("/")}) ` +
      `for ${options.seconds} s, ` +
      `history ${int(options.history)} (load average ${loadBefore})`,
  );
  if (options.profileDir) log("  profiling is on: the figures of this run are slowed down");

  let cleanedUp = false;
  const cleanUp = async () => {
    if (cleanedUp) return;
    cleanedUp = true;
    await stopAllServers();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  };
  const onSignal = () => {
    log("Interrupted: stopping the servers.");
    cleanUp().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  try {
    log("Hello-world baseline…");
    const hello = await helloBaseline(options, records);
    log(`  ${int(hello.rps)} req/s`);

    let floor: DeliveryResult | undefined;
    if (options.floor) {
      log(`Delivery floor: ${options.clients} readers against an in-memory server…`);
      floor = await deliveryFloor(options, records, runId);
      log(`  p99 ${percentiles(floor.latency).p99} ms`);
    }

    let historyMs = 0;
    if (options.history > 0) log(`Storing ${int(options.history)} messages of history…`);
    if (options.db === "sqlite") {
      historyMs = await fillSqliteHistory(`${dataDir}/parley.db`, options.history);
    } else if (options.history > 0) {
      historyMs = await fillPostgresHistory(Deno.env.get("DATABASE_URL")!, options.history);
    }
    if (options.history > 0) log(`  done in ${int(historyMs)} ms`);

    log("Starting Parley…");
    let servers = await startParley(options, dataDir);
    const origins = servers.map((s) => s.origin);
    let first = servers[0];
    const rssIdle = servers.map((s) => rssMb(s.pid));

    const guestCount = options.posters + options.concurrency + options.clients;
    log(`Opening the room page for ${int(guestCount)} guests (sessions)…`);
    const started = performance.now();
    const guests = await newGuests(origins, guestCount);
    const posters = guests.slice(0, options.posters);
    const workers = guests.slice(options.posters, options.posters + options.concurrency);
    const readers = guests.slice(options.posters + options.concurrency)
      .map((guest) => options.anonymousReaders ? { ...guest, cookie: "" } : guest);
    log(`  done in ${int(performance.now() - started)} ms`);

    log(`Room page latency (${options.pageRequests} × GET / with a cookie)…`);
    const pageGuest = await newGuest(first.origin);
    const page = await phase(
      "page",
      servers,
      options,
      records,
      () =>
        sequentialLatency(
          options.pageRequests,
          10,
          (client) => requestPage(pageGuest, client),
          options.phaseSeconds,
        ),
    );
    const pageMs = percentiles(page.ms);
    log(`  p50 ${pageMs.p50} ms`);

    log("Empty-poll throughput (GET ?since=<cursor>, no wait)…");
    const latest = await latestCursor(pageGuest);
    const check = await fetch(`${first.origin}${MESSAGES_PATH}?since=${latest}`, {
      headers: { accept: "application/json", cookie: workers[0].cookie },
    });
    const checkBody = await check.text();
    const empty = check.status === 200 && (() => {
      const page = JSON.parse(checkBody) as { messages: unknown[]; cursor: number };
      return page.messages.length === 0 && page.cursor === latest;
    })();
    if (!empty) {
      throw new Error(`An empty poll answered ${check.status} ${checkBody.slice(0, 200)}`);
    }
    const emptyPoll = await phase("empty-poll", servers, options, records, () =>
      closedLoop({
        concurrency: options.concurrency,
        seconds: options.phaseSeconds,
        request: (worker, _index, client) =>
          requestPoll(workers[worker % workers.length], latest, client),
      }));
    log(`  ${int(emptyPoll.rps)} req/s`);

    log(`Delivery: ${options.clients} readers, ${options.posters} posters…`);
    const sampler = new RssSampler(servers.map((s) => s.pid));
    let rssConnected: number[] = [];
    const delivery = await phase("delivery", servers, options, records, () =>
      runDelivery({
        readers,
        posters,
        rate: options.rate,
        seconds: options.seconds,
        since: latest,
        mix: options.mix,
        pollWait: POLL_WAIT,
        drainMs: options.drainMs,
        settleMs: options.settleMs,
        runId,
        log,
        rawReaders: options.rawReaders,
        onConnected: async () => {
          rssConnected = servers.map((s) => rssMb(s.pid));
          const heap = await records.profiler?.heapUsage();
          if (heap) records.heap["all readers connected"] = heap;
        },
      }));
    const rssPeaks = sampler.stop();
    const latency = percentiles(delivery.latency);
    const postLatency = percentiles(delivery.postMs);
    const latencyFromSend = percentiles(delivery.latencyFromSend);
    const pollMs = percentiles(delivery.pollMs);
    log(
      `  ${int(delivery.delivered)}/${int(delivery.expected)} delivered, p99 ${latency.p99} ms`,
    );
    await sleep(1000); // let the servers close the readers' connections

    log("POST throughput…");
    const posts = await phase("post", servers, options, records, () =>
      closedLoop({
        concurrency: options.concurrency,
        seconds: options.phaseSeconds,
        request: (worker, index, client) =>
          requestPost(workers[worker % workers.length], {
            body: `throughput ${worker} ${index}`,
            clientId: `t-${runId}-${worker}-${index}`,
          }, client),
      }));
    log(`  ${int(posts.rps)} req/s`);

    let idlePolls: IdlePollsResult | undefined;
    if (options.idlePolls > 0) {
      // On servers started afresh (on the same database, the same sessions): what the idle
      // polls hold, not what the delivery phase's garbage left behind.
      for (const server of servers) await server.stop();
      servers = await startParley(options, dataDir);
      first = servers[0];
      log(`Idle long polls: ${int(options.idlePolls)} connections to ${first.name}, restarted…`);
      const { hostname, port } = new URL(first.origin);
      // The workers' and readers' sessions, round-robin (with their cookies even when the
      // delivery readers polled without them: a browser always sends it).
      const cookies = guests.slice(options.posters).map((guest) => guest.cookie);
      const stderrBefore = first.stderr();
      idlePolls = await phase(
        "idle-polls",
        servers,
        options,
        records,
        async () =>
          await runIdlePolls({
            hostname,
            port: Number(port),
            pids: servers.map((s) => s.pid),
            count: options.idlePolls,
            cookies,
            since: await latestCursor({ ...pageGuest, origin: first.origin }),
            pollWait: POLL_WAIT,
            log,
            onWaiting: async () => {
              const heap = await records.profiler?.heapUsage();
              if (heap) records.heap["idle polls waiting"] = heap;
            },
          }),
      );
      const stderrAfter = first.stderr();
      const serverEmfile = /too many open files|os error 24|EMFILE/i.test(
        stderrAfter.startsWith(stderrBefore) ? stderrAfter.slice(stderrBefore.length) : stderrAfter,
      );
      idlePolls.serverTooManyFiles = serverEmfile;
      if (serverEmfile) log(`  ${first.name} reported TOO MANY OPEN FILES (see its stderr)`);
      log(
        `  ${int(idlePolls.waiting)} waiting; RSS ${mb(idlePolls.rssBefore[0])} → ` +
          `${mb(idlePolls.rssPeak[0])} MB (${mb(idlePollKb(idlePolls))} KB per poll)`,
      );
    }

    let workerRows: WorkersRow[] = [];
    if (options.workers.length > 1) {
      for (const server of servers) await server.stop();
      workerRows = await runWorkersPhase({
        counts: options.workers,
        start: async (workers) => (await startParley(options, dataDir, workers, 1))[0],
        concurrency: options.concurrency,
        seconds: options.phaseSeconds,
        runId,
        log,
        generator: await hasWrk() ? "wrk" : "fetch",
      });
    }

    await cleanUp();
    report({
      workerRows,
      options,
      hello,
      emptyPoll,
      posts,
      pageMs,
      pageFailed: page.failed,
      pageTotal: page.total,
      delivery,
      latency,
      latencyFromSend,
      postLatency,
      pollMs,
      floor,
      rssIdle,
      rssConnected,
      rssPeaks,
      idlePolls,
      historyMs,
      loadBefore,
      loadAfter: loadAverage(),
      records,
    });
  } finally {
    await cleanUp();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

interface Figures {
  options: Options;
  workerRows: WorkersRow[];
  hello: ThroughputResult;
  emptyPoll: ThroughputResult;
  posts: ThroughputResult;
  pageMs: ReturnType<typeof percentiles>;
  pageFailed: number;
  /** Room page requests sent in the page phase, warm-up included. */
  pageTotal: number;
  delivery: Awaited<ReturnType<typeof runDelivery>>;
  latency: ReturnType<typeof percentiles>;
  latencyFromSend: ReturnType<typeof percentiles>;
  postLatency: ReturnType<typeof percentiles>;
  pollMs: ReturnType<typeof percentiles>;
  floor?: DeliveryResult;
  rssIdle: number[];
  rssConnected: number[];
  rssPeaks: number[];
  idlePolls?: IdlePollsResult;
  historyMs: number;
  loadBefore: string;
  loadAfter: string;
  records: PhaseRecords;
}

/** The "every core" phase: throughput and CPU at each worker count, side by side. */
function workersTable(rows: WorkersRow[], o: Options): string[] {
  const cell = (loop: WorkersLoop) =>
    `${int(loop.result.rps)}/s` + (loop.result.failed ? ` (${loop.result.failed} failed)` : "");
  const cpus = (loop: WorkersLoop) =>
    `${loop.cpu.servers.toFixed(2)} / ${(loop.cpu.client + loop.cpu.others).toFixed(2)}`;
  const us = (loop: WorkersLoop) => Number.isFinite(loop.cpuUs) ? int(loop.cpuUs) : "?";
  return [
    `Every core: one process with PARLEY_WORKERS = ${rows.map((r) => r.workers).join(", ")} ` +
    `on the same database, load from ${rows[0].generator} with ${o.concurrency} requests in ` +
    `flight, ${o.phaseSeconds} s a loop; CPUs used by the server / by the rest of the ` +
    `machine, the load generator included (${navigator.hardwareConcurrency} = all)`,
    formatTable([
      [
        "workers",
        "page",
        "CPUs",
        "µs/req",
        "empty poll",
        "CPUs",
        "µs/req",
        "POST",
        "CPUs",
        "µs/req",
      ],
      ...rows.map((row) => [
        String(row.workers),
        cell(row.page),
        cpus(row.page),
        us(row.page),
        cell(row.emptyPoll),
        cpus(row.emptyPoll),
        us(row.emptyPoll),
        cell(row.post),
        cpus(row.post),
        us(row.post),
      ]),
    ]),
  ];
}

/** A figure rounded to 0.1, or "?" when it could not be measured. */
function mb(value: number): string {
  return Number.isFinite(value) ? String(round(value)) : "?";
}

/** The server's RSS growth per waiting idle poll, in KB (NaN when none waited). */
function idlePollKb(r: IdlePollsResult): number {
  return r.waiting > 0 ? (r.rssPeak[0] - r.rssBefore[0]) * 1024 / r.waiting : NaN;
}

function report(f: Figures): void {
  const { options: o, delivery: d } = f;
  const ratio = (rps: number) => f.hello.rps > 0 ? rps / f.hello.rps : 0;
  const pct = (rps: number) => `${Math.round(100 * ratio(rps))} % of hello`;
  const rssMax = Math.max(...f.rssPeaks);
  const rssTotal = f.rssPeaks.reduce((a, b) => a + b, 0);
  const belowScale = o.clients < TARGET.clients || o.rate < TARGET.rate ||
    o.seconds < TARGET.seconds;
  const scaleNote = belowScale
    ? `run is smaller than the target's ${int(TARGET.clients)} clients × ${TARGET.rate}/s × ` +
      `${TARGET.seconds} s`
    : undefined;

  const floor = f.floor ? percentiles(f.floor.latency) : undefined;
  const floorNote = floor && floor.p99 >= 100
    ? `the load generator alone (floor) has p99 ${floor.p99} ms`
    : undefined;
  const notes = (...parts: (string | undefined)[]) => parts.filter(Boolean).join("; ") || undefined;

  // Idle long polls (issue 12, target 4): the polled server's RSS while they all wait.
  const ip = f.idlePolls;
  const ipKb = ip ? idlePollKb(ip) : NaN;
  const ipPeak = ip ? ip.rssPeak[0] : NaN;
  const ipBefore = ip ? ip.rssBefore[0] : NaN;
  const ipEmfile = ip
    ? notes(
      ip.tooManyFiles
        ? `TOO MANY OPEN FILES in the load generator (ulimit -n ${ip.openFilesLimit ?? "?"}): ` +
          `${int(ip.opened)} opened`
        : "",
      ip.serverTooManyFiles ? "TOO MANY OPEN FILES in the server (its stderr)" : "",
    )
    : undefined;

  // Server CPU per request (issue 12): the server processes' CPU-seconds over the whole phase
  // divided by every request completed in it (warm-up included, as the meter covers it).
  const cpuPhases: [string, number][] = [
    ["hello", f.hello.total],
    ["page", f.pageTotal],
    ["empty-poll", f.emptyPoll.total],
    ["post", f.posts.total],
  ];
  const perRequest: Record<string, number> = {};
  for (const [name, total] of cpuPhases) {
    perRequest[name] = Math.round(cpuPerRequestUs(f.records.cpu[name], total));
  }
  const us = (name: string) =>
    Number.isFinite(perRequest[name]) ? `${int(perRequest[name])} µs` : "?";
  // Both figures are whole µs off by a few % (ticks): no more digits than that supports.
  const times = (ratio: number) => ratio < 10 ? ratio.toFixed(1) : String(Math.round(ratio));
  const timesHello = (name: string) =>
    Number.isFinite(perRequest[name]) && perRequest.hello > 0
      ? `${times(perRequest[name] / perRequest.hello)}× hello`
      : "?× hello";
  const tickPct = (name: string) => {
    const use = f.records.cpu[name];
    return use ? Math.ceil(100 * tickError(use)) : NaN;
  };
  const cpuNote = (name: string) =>
    notes(
      tickPct(name) > 5 ? `±${tickPct(name)} % from 10 ms ticks: use longer phases` : undefined,
      o.db === "postgres" ? "PostgreSQL's own CPU is not counted" : undefined,
      o.profileDir ? "profiling was on" : undefined,
    );
  const cpuCheck = (name: string, max: number) =>
    Number.isFinite(perRequest[name]) ? perRequest[name] <= max : null;
  // The page phase runs before the delivery and POST phases: its room holds the history only.
  const pageMessages = Math.min(o.history, DEFAULT_LIMITS.pageSize);

  const checks: TargetCheck[] = [
    {
      key: "delivery_loss",
      name: "delivery: lost, duplicates",
      figure: `${int(d.lost)} lost, ${int(d.duplicates)} duplicates, ` +
        `${int(d.outOfOrder)} out of order`,
      target: "0, 0 and 0",
      pass: d.lost === 0 && d.duplicates === 0 && d.outOfOrder === 0 && d.expected > 0,
      note: scaleNote,
    },
    {
      key: "delivery_p99",
      name: "delivery p99",
      figure: `${f.latency.p99} ms`,
      target: "< 100 ms",
      pass: f.latency.count > 0 && f.latency.p99 < 100,
      note: notes(scaleNote, floorNote),
    },
    {
      key: "empty_poll",
      name: "empty_poll_rps",
      figure: `${int(f.emptyPoll.rps)}/s (${pct(f.emptyPoll.rps)})`,
      target: `≥ 40 % of hello (${int(0.4 * f.hello.rps)}/s)`,
      pass: ratio(f.emptyPoll.rps) >= 0.4,
    },
    {
      key: "post_rps",
      name: "post_rps",
      figure: `${int(f.posts.rps)}/s`,
      target: "≥ 3,000/s on SQLite",
      pass: o.db === "sqlite" ? f.posts.rps >= 3000 : null,
      note: o.db === "sqlite" ? undefined : "the target is for SQLite",
    },
    {
      key: "page_ms",
      name: "page_ms_p50",
      figure: `${f.pageMs.p50} ms`,
      target: `< 15 ms with ${int(TARGET.history)} messages`,
      pass: f.pageMs.p50 < 15,
      note: o.history < TARGET.history ? `history is ${int(o.history)}` : undefined,
    },
    {
      key: "cpu_empty_poll",
      name: "cpu_empty_poll (server CPU/request)",
      figure: `${us("empty-poll")} (${timesHello("empty-poll")})`,
      target: "≤ 30 µs",
      pass: cpuCheck("empty-poll", 30),
      note: cpuNote("empty-poll"),
    },
    {
      key: "cpu_post",
      name: "cpu_post (server CPU/request)",
      figure: `${us("post")} (${timesHello("post")})`,
      target: "≤ 100 µs",
      pass: cpuCheck("post", 100),
      note: cpuNote("post"),
    },
    {
      key: "cpu_page",
      name: "cpu_page (server CPU/request)",
      figure: `${us("page")} (${timesHello("page")})`,
      target: "≤ 400 µs with 50 formatted messages",
      pass: cpuCheck("page", 400),
      note: notes(
        pageMessages < 50
          ? `the page showed ${pageMessages} messages (history ${int(o.history)}; it shows ` +
            `the latest 50 when there are at least 50): run with --history 50 or more`
          : undefined,
        cpuNote("page"),
      ),
    },
    {
      key: "rss",
      name: "rss_mb (peak, largest process)",
      figure: `${round(rssMax)} MB`,
      target: `< 300 MB at ${int(TARGET.clients)} clients`,
      pass: rssMax < 300,
      note: o.clients < TARGET.clients ? `${int(o.clients)} clients` : undefined,
    },
    {
      key: "rss_idle_polls",
      name: `rss_mb with ${ip ? int(ip.waiting) : "N"} idle long polls`,
      figure: ip ? `${mb(ipPeak)} MB (${mb(ipKb)} KB per poll)` : "not run",
      target: `< 600 MB at ${int(TARGET.idlePolls)}`,
      pass: ip && ip.waiting > 0 && Number.isFinite(ipPeak) ? ipPeak < 600 : null,
      note: ip
        ? notes(
          ipEmfile,
          ip.waiting < TARGET.idlePolls
            ? `${int(ip.waiting)} polls waited, not ${int(TARGET.idlePolls)}` +
              (Number.isFinite(ipKb)
                ? `; at ${int(TARGET.idlePolls)}: ~${
                  mb(ipBefore + ipKb * TARGET.idlePolls / 1024)
                } MB from this run's KB per poll`
                : "")
            : undefined,
          ip.waiting < ip.requested ? `${int(ip.requested)} asked for` : undefined,
        )
        : `run with --idle-polls ${TARGET.idlePolls}`,
    },
  ];

  const figures = formatTable([
    ["figure", "value", "detail"],
    ["hello_rps", int(f.hello.rps), `bare Deno.serve, concurrency ${o.concurrency}`],
    [
      "empty_poll_rps",
      int(f.emptyPoll.rps),
      `${pct(f.emptyPoll.rps)}; ${f.emptyPoll.failed} failed`,
    ],
    [
      "post_rps",
      int(f.posts.rps),
      `${pct(f.posts.rps)}; 201s only, ${f.posts.failed} failed`,
    ],
    [
      "page_ms",
      `p50 ${f.pageMs.p50}`,
      `p95 ${f.pageMs.p95}, max ${f.pageMs.max}; ${f.pageFailed} failed`,
    ],
    [
      "delivery_ms",
      `p50 ${f.latency.p50}`,
      `p95 ${f.latency.p95}, p99 ${f.latency.p99}, max ${f.latency.max}: from a change's ` +
      `answer to a reader having that seq or a later one (${int(f.latency.count)} ` +
      `deliveries, ${int(d.beforeAnswer)} before the answer counted as 0)`,
    ],
    [
      "delivery from send",
      `p50 ${f.latencyFromSend.p50}`,
      `p95 ${f.latencyFromSend.p95}, p99 ${f.latencyFromSend.p99}, ` +
      `max ${f.latencyFromSend.max}: from sending the request (as measured before issue 8)`,
    ],
    ...(f.floor && floor
      ? [[
        "delivery floor",
        `p50 ${floor.p50}`,
        `p95 ${floor.p95}, p99 ${floor.p99}, max ${floor.max}; ` +
        `${int(f.floor.delivered)}/${int(f.floor.expected)} final states, ` +
        `${int(f.floor.lost)} lost: same readers and changes against an in-memory server ` +
        `(bench/ideal_server.ts)`,
      ]]
      : []),
    [
      "final states",
      `${int(d.delivered)}/${int(d.expected)}`,
      `${int(d.finalMessages)} messages changed × ${int(d.readers)} readers; ` +
      `${int(d.lost)} lost (a reader's view older than the server's final state ` +
      `${int(o.settleMs)} ms after the last answer); all caught up ` +
      `${
        Number.isNaN(d.settledMs) ? "never" : int(d.settledMs) + " ms"
      } after the last answer, which came ${int(d.lastAnswerMs)} ms after the last request; ` +
      `${int(d.duplicates)} duplicates, ` +
      `${int(d.outOfOrder)} out of order`,
    ],
    [
      "changes (delivery phase)",
      `${int(d.posted)}/${int(d.planned)}`,
      `${CHANGE_KINDS.map((k) => `${int(d.made[k])} ${k}`).join(", ")} (mix ` +
      `${o.mix.join("/")}); ${d.postFailed} failed ${JSON.stringify(d.postFailures)}, ` +
      `${d.unchanged} unchanged; answered in p50 ${f.postLatency.p50} ms, ` +
      `p99 ${f.postLatency.p99} ms`,
    ],
    [
      "long polls",
      int(d.polls),
      `${d.pollErrors} errors, ${d.earlyEmpty} empty within 1 s; warm-up reached all ` +
      `readers in ${int(d.warmupMs)} ms` + (d.warmupMissing ? ` (${d.warmupMissing} missing)` : ""),
    ],
    [
      "long poll answers",
      `p50 ${f.pollMs.p50} ms`,
      `p99 ${f.pollMs.p99} ms, max ${f.pollMs.max} ms (from sending a poll to its answer)`,
    ],
    [
      "slowest changes",
      d.slowestMessages.map((m) => `seq ${m.seq} (${m.kind})`).join(" "),
      d.slowestMessages.map((m) => `${m.lastReaderMs} ms (sent at +${m.sentAtMs} ms)`).join(", "),
    ],
    [
      "rss_mb",
      `${round(rssMax)}`,
      `peak per process ${f.rssPeaks.map((r) => round(r)).join(", ")}; all readers ` +
      `connected, before posting ${f.rssConnected.map((r) => round(r)).join(", ")}; ` +
      `started ${f.rssIdle.map((r) => round(r)).join(", ")}`,
    ],
    ...(ip
      ? [
        [
          "idle_polls",
          int(ip.requested),
          `${int(ip.waiting)} waiting when sampled; ${int(ip.opened)} sent in ` +
          `${int(ip.openMs)} ms, ${int(ip.openFailed)} not opened` +
          (ip.openFailed ? ` ${JSON.stringify(ip.openErrors)}` : "") +
          `, ${int(ip.answeredEarly)} answered within 1 s` +
          (ip.answeredEarly ? ` (statuses ${JSON.stringify(ip.earlyStatuses)})` : "") +
          `, ${int(ip.answeredLate)} answered later, ${int(ip.closedByServer)} closed by ` +
          `the server unanswered` + (ipEmfile ? `; ${ipEmfile}` : ""),
        ],
        [
          "rss_mb_idle_polls",
          mb(ipPeak),
          `peak over 3 s while they waited (per process ` +
          `${ip.rssPeak.map(mb).join(", ")}); before ${mb(ipBefore)} ` +
          `(${ip.rssBefore.map(mb).join(", ")}); ${mb(ipKb)} KB per waiting poll`,
        ],
      ]
      : []),
  ]);

  const lines = [
    "",
    `Parley load benchmark: ${o.db}, ${o.instances} instance(s), ${int(o.clients)} clients, ` +
    `${o.rate} changes/s (new/reactions/edits ${o.mix.join("/")} %) for ${o.seconds} s, ` +
    `${o.posters} posters, history ${int(o.history)}` +
    (o.anonymousReaders ? ", readers without cookies" : "") +
    (o.rawReaders ? ", readers on raw sockets" : ", readers on fetch") +
    (o.serverFlags.length ? `, server flags ${o.serverFlags.join(" ")}` : "") +
    (o.history ? ` (stored in ${int(f.historyMs)} ms)` : ""),
    `Load average before ${f.loadBefore}, after ${f.loadAfter} on ` +
    `${navigator.hardwareConcurrency} CPUs; other work on the machine makes figures noisy.`,
    "",
    figures,
    "",
    `CPU per request (server process${o.instances > 1 ? "es, summed" : ""}; /proc ticks of ` +
    `10 ms, whole phase with its warm-up)`,
    formatTable([
      ["phase", "requests", "server CPU s", "µs per request", "× hello", "tick error", "note"],
      ...cpuPhases.map(([name, total]) => {
        const use = f.records.cpu[name];
        const seconds = use && Number.isFinite(use.serverSeconds) ? use.serverSeconds : NaN;
        return [
          name,
          int(total),
          Number.isFinite(seconds) ? seconds.toFixed(2) : "?",
          Number.isFinite(perRequest[name]) ? int(perRequest[name]) : "?",
          name === "hello" ? "" : timesHello(name).replace(" hello", ""),
          Number.isFinite(tickPct(name)) ? `±${tickPct(name)} %` : "?",
          use ? `${use.seconds.toFixed(1)} s, server at ${use.servers.toFixed(2)} CPUs` : "",
        ];
      }),
    ]),
    "",
    formatTargets(checks),
    "",
  ];
  lines.push(
    formatTable([
      [
        "phase",
        `CPU used (${navigator.hardwareConcurrency} = the whole machine` +
        (o.db === "postgres" ? "; others include PostgreSQL)" : ")"),
        "SYNs dropped, accept queue full (whole machine)",
      ],
      ...Object.entries(f.records.cpu).map(([name, use]) => [
        name,
        formatCpu(use),
        String(f.records.tcp[name]?.listenOverflows ?? "?"),
      ]),
    ]),
    "",
  );
  if (f.workerRows.length) lines.push(...workersTable(f.workerRows, o), "");
  if (f.records.profiles.length) lines.push(...f.records.profiles);
  for (const [moment, heap] of Object.entries(f.records.heap)) {
    lines.push(
      `V8 heap of ${o.db} server #1, ${moment}: ${round(heap.usedMb)} MB used of ` +
        `${round(heap.totalMb)} MB`,
    );
  }
  console.log(lines.join("\n"));

  const json = {
    db: o.db,
    instances: o.instances,
    clients: o.clients,
    rate: o.rate,
    seconds: o.seconds,
    history: o.history,
    posters: o.posters,
    mix: o.mix.join(","),
    planned: d.planned,
    posted: d.posted,
    changes: d.made,
    post_failed: d.postFailed,
    unchanged: d.unchanged,
    final_messages: d.finalMessages,
    expected: d.expected,
    delivered: d.delivered,
    lost: d.lost,
    duplicates: d.duplicates,
    out_of_order: d.outOfOrder,
    delivery_ms: {
      p50: f.latency.p50,
      p95: f.latency.p95,
      p99: f.latency.p99,
      max: f.latency.max,
    },
    delivery_from_send_ms: {
      p50: f.latencyFromSend.p50,
      p95: f.latencyFromSend.p95,
      p99: f.latencyFromSend.p99,
      max: f.latencyFromSend.max,
    },
    deliveries_before_answer: d.beforeAnswer,
    last_answer_ms: Math.round(d.lastAnswerMs),
    settled_ms: Number.isNaN(d.settledMs) ? null : Math.round(d.settledMs),
    poll_errors: d.pollErrors,
    floor_delivery_ms: floor
      ? { p50: floor.p50, p95: floor.p95, p99: floor.p99, max: floor.max }
      : null,
    floor_lost: f.floor ? f.floor.lost : null,
    floor_duplicates: f.floor ? f.floor.duplicates : null,
    floor_out_of_order: f.floor ? f.floor.outOfOrder : null,
    post_rps: Math.round(f.posts.rps),
    empty_poll_rps: Math.round(f.emptyPoll.rps),
    hello_rps: Math.round(f.hello.rps),
    post_vs_hello: round(ratio(f.posts.rps), 3),
    empty_poll_vs_hello: round(ratio(f.emptyPoll.rps), 3),
    page_ms_p50: f.pageMs.p50,
    rss_mb: round(rssMax),
    rss_mb_total: round(rssTotal),
    rss_mb_connected: round(Math.max(...f.rssConnected, 0)),
    idle_polls: o.idlePolls,
    idle_polls_waiting: ip ? ip.waiting : null,
    idle_polls_answered_early: ip ? ip.answeredEarly : null,
    idle_polls_not_opened: ip ? ip.openFailed : null,
    idle_polls_emfile: ip ? ip.tooManyFiles || !!ip.serverTooManyFiles : null,
    rss_mb_idle_polls: ip && Number.isFinite(ipPeak) ? round(ipPeak) : null,
    rss_mb_before_idle_polls: ip && Number.isFinite(ipBefore) ? round(ipBefore) : null,
    kb_per_idle_poll: Number.isFinite(ipKb) ? round(ipKb, 1) : null,
    workers: o.workers[0],
    workers_compared: f.workerRows.map((row) => ({
      workers: row.workers,
      page_rps: Math.round(row.page.result.rps),
      empty_poll_rps: Math.round(row.emptyPoll.result.rps),
      post_rps: Math.round(row.post.result.rps),
      page_server_cpus: round(row.page.cpu.servers, 2),
      empty_poll_server_cpus: round(row.emptyPoll.cpu.servers, 2),
      post_server_cpus: round(row.post.cpu.servers, 2),
    })),
    concurrency: o.concurrency,
    readers_transport: o.rawReaders ? "raw" : "fetch",
    anonymous_readers: o.anonymousReaders,
    server_flags: o.serverFlags.join(" "),
    targets: Object.fromEntries(checks.map((c) => [c.key, verdict(c.pass)])),
    load_average: { before: f.loadBefore, after: f.loadAfter },
    syn_drops: Object.fromEntries(
      Object.entries(f.records.tcp).map(([name, tcp]) => [name, tcp.listenOverflows]),
    ),
    cpu: Object.fromEntries(
      Object.entries(f.records.cpu).map(([name, use]) => [name, {
        client: round(use.client, 2),
        server: round(use.servers, 2),
        others: round(use.others, 2),
        server_s: round(use.serverSeconds, 2),
      }]),
    ),
    cpu_us_per_request: Object.fromEntries(
      Object.entries(perRequest).map(([name, us]) => [name, Number.isFinite(us) ? us : null]),
    ),
    cpu_requests: Object.fromEntries(cpuPhases),
  };
  console.log(JSON.stringify(json));
}

if (import.meta.main) {
  let options: Options;
  try {
    options = parseOptions(Deno.args);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    Deno.exit(2);
  }
  try {
    await main(options);
  } catch (error) {
    await stopAllServers();
    const text = error instanceof ServerStartError
      ? error.message
      : (error as Error).stack ?? String(error);
    console.error(`\nBenchmark failed: ${text}`);
    Deno.exit(1);
  }
  Deno.exit(0);
}
