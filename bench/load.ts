// Load-generation helpers for the benchmark: closed-loop request loops, percentiles, processes.

/** Runs `concurrency` loops of `request` for `seconds`; returns successful requests per second. */
export async function closedLoop(
  options: {
    concurrency: number;
    seconds: number;
    request: (worker: number) => Promise<boolean>;
  },
): Promise<number> {
  const until = performance.now() + options.seconds * 1000;
  let ok = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: options.concurrency }, async (_, worker) => {
    while (performance.now() < until) {
      if (await options.request(worker)) ok++;
    }
  }));
  return ok / ((performance.now() - started) / 1000);
}

/** The `p`-th percentile (0–100) of sorted numbers. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

/** A child process we started, with its output kept for error reports. */
export interface Child {
  pid: number;
  stop(): Promise<void>;
  output(): string;
}

/** Starts a Deno script as a child process and waits until `ready` resolves true. */
export async function startChild(
  options: {
    script: string;
    args?: string[];
    env?: Record<string, string>;
    ready: () => Promise<boolean>;
  },
): Promise<Child> {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", options.script, ...(options.args ?? [])],
    env: options.env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let log = "";
  const decoder = new TextDecoder();
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) log = (log + decoder.decode(chunk)).slice(-20_000);
  };
  const drained = Promise.all([drain(process.stdout), drain(process.stderr)]);
  let exited = false;
  const status = process.status.then((s) => (exited = true, s));
  const child: Child = {
    pid: process.pid,
    output: () => log,
    async stop() {
      if (!exited) {
        try {
          process.kill("SIGTERM");
        } catch { /* already gone */ }
        const timer = setTimeout(() => !exited && process.kill("SIGKILL"), 5000);
        await status;
        clearTimeout(timer);
      }
      await drained;
    },
  };
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    if (exited) break;
    if (await options.ready().catch(() => false)) return child;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await child.stop();
  throw new Error(`${options.script} did not start:\n${log}`);
}

/** Resident memory of a process in MB (Linux /proc), or NaN. */
export function rssMb(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = Number(status.match(/VmRSS:\s+(\d+) kB/)?.[1]);
    return kb / 1024;
  } catch {
    return NaN;
  }
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
