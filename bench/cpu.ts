// Accounting from /proc: CPU used by the benchmark, its servers and everything else; TCP drops.

/** CPU used during a phase, in CPUs (1.0 = one core busy all the time). */
export interface CpuUse {
  /** The benchmark itself (the load generator). */
  client: number;
  /** The server processes measured. */
  servers: number;
  /** Every other process on the machine: the noise in the figures. */
  others: number;
  /**
   * CPU-seconds the server processes used during the phase, all together: whole /proc ticks
   * (10 ms), so each process's figure is off by up to {@link TICK_SECONDS} × 2 (user and system).
   */
  serverSeconds: number;
  /** How many server processes were measured (for the tick error). */
  serverCount: number;
  /** Wall-clock duration of the phase, in seconds. */
  seconds: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux
/** One /proc tick, in seconds: the resolution of every CPU figure. */
export const TICK_SECONDS = 1 / TICKS_PER_SECOND;

function machineBusyTicks(): number {
  const fields = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/)
    .slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user).
  const [user, nice, system, , , irq, softirq, steal] = fields;
  return user + nice + system + irq + softirq + (steal ?? 0);
}

function processTicks(pid: number | "self"): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return 0;
  }
}

/** Measures CPU use from now until {@link CpuMeter.stop}; NaNs where /proc is missing. */
export class CpuMeter {
  #pids: number[];
  #started = performance.now();
  #machine: number;
  #client: number;
  #servers: number;

  constructor(serverPids: number[]) {
    this.#pids = serverPids;
    this.#machine = this.#read(machineBusyTicks);
    this.#client = this.#read(() => processTicks("self"));
    this.#servers = this.#read(() => this.#serverTicks());
  }

  #read(read: () => number): number {
    try {
      return read();
    } catch {
      return NaN;
    }
  }

  #serverTicks(): number {
    return this.#pids.reduce((sum, pid) => sum + processTicks(pid), 0);
  }

  /** CPU use since the meter was made. */
  stop(): CpuUse {
    const seconds = (performance.now() - this.#started) / 1000;
    const per = (ticks: number) => ticks / TICKS_PER_SECOND / seconds;
    const machine = per(this.#read(machineBusyTicks) - this.#machine);
    const client = per(this.#read(() => processTicks("self")) - this.#client);
    const serverTicks = this.#read(() => this.#serverTicks()) - this.#servers;
    const servers = per(serverTicks);
    return {
      client,
      servers,
      others: Math.max(0, machine - client - servers),
      serverSeconds: serverTicks / TICKS_PER_SECOND,
      serverCount: this.#pids.length,
      seconds,
    };
  }
}

/** Server CPU per request, in µs, of a phase that completed `requests`; NaN when unknown. */
export function cpuPerRequestUs(use: CpuUse | undefined, requests: number): number {
  if (!use || !Number.isFinite(use.serverSeconds) || requests <= 0) return NaN;
  return use.serverSeconds / requests * 1e6;
}

/**
 * The worst relative error of {@link CpuUse.serverSeconds} from /proc's whole ticks: user and
 * system time of each process are each rounded to a tick, at the start and at the end.
 */
export function tickError(use: CpuUse): number {
  const error = 2 * use.serverCount * TICK_SECONDS;
  return use.serverSeconds > 0 ? error / use.serverSeconds : Infinity;
}

/** "client 0.9, servers 1.0, others 0.3 CPUs". */
export function formatCpu(use: CpuUse): string {
  const f = (n: number) => Number.isFinite(n) ? n.toFixed(2) : "?";
  return `client ${f(use.client)}, server ${f(use.servers)}, others ${f(use.others)} CPUs`;
}

/** Kernel TCP counters (whole machine) that explain stalls: SYNs dropped by full accept queues. */
export interface TcpCounters {
  listenOverflows: number;
  listenDrops: number;
  synRetransmits: number;
}

/** The kernel's TCP counters now (zeros where /proc/net/netstat is missing). */
export function tcpCounters(): TcpCounters {
  const counters: TcpCounters = { listenOverflows: 0, listenDrops: 0, synRetransmits: 0 };
  try {
    const lines = Deno.readTextFileSync("/proc/net/netstat").split("\n");
    const header = lines.findIndex((line) => line.startsWith("TcpExt:"));
    const names = lines[header].split(/\s+/);
    const values = lines[header + 1].split(/\s+/).map(Number);
    const get = (name: string) => values[names.indexOf(name)] ?? 0;
    counters.listenOverflows = get("ListenOverflows");
    counters.listenDrops = get("ListenDrops");
    counters.synRetransmits = get("TCPSynRetrans");
  } catch {
    // Not Linux, or no /proc: zeros.
  }
  return counters;
}

/** The counters' growth from `before` to `after`. */
export function tcpDelta(before: TcpCounters, after: TcpCounters): TcpCounters {
  return {
    listenOverflows: after.listenOverflows - before.listenOverflows,
    listenDrops: after.listenDrops - before.listenDrops,
    synRetransmits: after.synRetransmits - before.synRetransmits,
  };
}
