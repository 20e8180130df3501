// Child server processes for the benchmark: start, wait until they answer, measure RSS, stop.

/** Options for {@link startServer}. */
export interface ServerOptions {
  /** A name for messages ("parley #1", "hello"). */
  name: string;
  /** The script to run with `deno run -A`. */
  script: string;
  /** Working directory (the project root, so that deno.json applies). */
  cwd: string;
  /** Port on 127.0.0.1. */
  port: number;
  /** Variables added to (or, when empty, removed from) the inherited environment. */
  env: Record<string, string>;
  /** Path that answers once the server is ready. */
  readyPath: string;
  /** How long to wait for the first answer. */
  readyTimeoutMs?: number;
  /** Port for the V8 inspector (for CPU profiles), or none. */
  inspectPort?: number;
  /** More flags for `deno run` (before the script). */
  flags?: string[];
}

/** A running child server. */
export interface ServerProcess {
  name: string;
  pid: number;
  port: number;
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  inspectPort?: number;
  /** The end of what the process wrote to stderr. */
  stderr(): string;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s); safe to call twice. */
  stop(): Promise<void>;
}

const TAIL_CHARS = 16_000;

/** A server did not start: it exited or did not answer in time (the message has its stderr). */
export class ServerStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ServerStartError";
  }
}
const running = new Set<ServerProcess>();

/** A port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function collect(stream: ReadableStream<Uint8Array>, append: (text: string) => void) {
  try {
    const decoder = new TextDecoder();
    for await (const chunk of stream) append(decoder.decode(chunk, { stream: true }));
  } catch {
    // The process went away; what was read is kept.
  }
}

/** Starts `deno run -A <script>` and resolves once `readyPath` answers; throws with its stderr. */
export async function startServer(options: ServerOptions): Promise<ServerProcess> {
  const env: Record<string, string> = { ...Deno.env.toObject(), NO_COLOR: "1", ...options.env };
  for (const [key, value] of Object.entries(options.env)) if (value === "") delete env[key];
  const args = ["run", "-A"];
  if (options.inspectPort) args.push(`--inspect=127.0.0.1:${options.inspectPort}`);
  args.push(...options.flags ?? []);
  args.push(options.script);
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: options.cwd,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let stderr = "";
  const stderrDone = collect(child.stderr, (text) => {
    stderr = (stderr + text).slice(-TAIL_CHARS);
  });
  const stdoutDone = collect(child.stdout, () => {});
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then((s) => exited = s);

  let stopping: Promise<void> | undefined;
  const server: ServerProcess = {
    name: options.name,
    pid: child.pid,
    port: options.port,
    origin: `http://127.0.0.1:${options.port}`,
    inspectPort: options.inspectPort,
    stderr: () => stderr,
    stop() {
      stopping ??= (async () => {
        if (!exited) {
          try {
            child.kill("SIGTERM");
          } catch {
            // Already gone.
          }
          const timer = setTimeout(() => {
            try {
              if (!exited) child.kill("SIGKILL");
            } catch {
              // Already gone.
            }
          }, 5000);
          await status;
          clearTimeout(timer);
        }
        await Promise.all([stderrDone, stdoutDone]);
        running.delete(server);
      })();
      return stopping;
    },
  };
  running.add(server);

  const deadline = performance.now() + (options.readyTimeoutMs ?? 60_000);
  while (true) {
    if (exited) {
      await Promise.all([stderrDone, stdoutDone]);
      running.delete(server);
      throw new ServerStartError(
        `${options.name} exited with code ${exited.code} before answering. Its stderr:\n` +
          indent(stderr || "(empty)"),
      );
    }
    try {
      const response = await fetch(server.origin + options.readyPath, {
        signal: AbortSignal.timeout(2000),
      });
      await response.body?.cancel();
      if (response.status < 500) return server;
    } catch {
      // Not listening yet.
    }
    if (performance.now() > deadline) {
      await server.stop();
      throw new ServerStartError(
        `${options.name} did not answer ${options.readyPath} within ` +
          `${options.readyTimeoutMs ?? 60_000} ms. Its stderr:\n${indent(stderr || "(empty)")}`,
      );
    }
    await sleep(100);
  }
}

function indent(text: string): string {
  return text.trimEnd().split("\n").map((line) => `  | ${line}`).join("\n");
}

/** Stops every server this module started and that is still running. */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...running].map((server) => server.stop()));
}

/** The resident set size of a process in MB (VmRSS from /proc), or NaN when unavailable. */
export function rssMb(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Samples the RSS of processes every `everyMs` and keeps each one's peak. */
export class RssSampler {
  #pids: number[];
  #peaks: number[];
  #timer: ReturnType<typeof setInterval>;

  constructor(pids: number[], everyMs = 200) {
    this.#pids = pids;
    this.#peaks = pids.map(() => 0);
    this.sample();
    this.#timer = setInterval(() => this.sample(), everyMs);
  }

  /** Takes a sample now. */
  sample(): void {
    this.#pids.forEach((pid, i) => {
      const mb = rssMb(pid);
      if (mb > this.#peaks[i]) this.#peaks[i] = mb;
    });
  }

  /** Stops sampling and returns the peak of each process, in MB. */
  stop(): number[] {
    clearInterval(this.#timer);
    this.sample();
    return this.#peaks;
  }
}
