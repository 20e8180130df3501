// Runs wrk (when installed) as the load generator: a C client that leaves the cores to the server.
import type { ThroughputResult } from "./http.ts";

/** Options for {@link wrkLoop}. */
export interface WrkOptions {
  url: string;
  method?: "GET" | "POST";
  headers: Record<string, string>;
  /**
   * For POST (letters, digits and `-`): each request's JSON body is
   * `{"body": "<prefix> <n>", "clientId": "<prefix>-<thread>-<n>"}`.
   */
  postPrefix?: string;
  connections: number;
  seconds: number;
}

/** Whether `wrk` is on the PATH. */
export async function hasWrk(): Promise<boolean> {
  try {
    // `wrk --version` exits with 1; that it ran at all is what counts.
    await new Deno.Command("wrk", { args: ["--version"], stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

/** A Lua script that makes every POST a new message (a client id of its own). */
function postScript(prefix: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(prefix)) {
    throw new Error("A wrk post prefix is letters, digits and -");
  }
  return `
local prefix = "${prefix}"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
function request()
  n = n + 1
  local body = '{"body":"' .. prefix .. ' ' .. n .. '","clientId":"' .. prefix .. '-' ..
    tid .. '-' .. n .. '"}'
  return wrk.format("POST", nil, nil, body)
end
`;
}

/** One wrk run with one thread: what it completed and how many answers were not 2xx/3xx. */
export async function wrkLoop(options: WrkOptions): Promise<ThroughputResult> {
  const args = ["-t1", `-c${options.connections}`, `-d${options.seconds}s`, "--latency"];
  for (const [name, value] of Object.entries(options.headers)) args.push("-H", `${name}: ${value}`);
  let script: string | undefined;
  if (options.method === "POST") {
    script = await Deno.makeTempFile({ suffix: ".lua" });
    await Deno.writeTextFile(script, postScript(options.postPrefix ?? "wrk"));
    args.push("-s", script);
  }
  args.push(options.url);
  try {
    const output = await new Deno.Command("wrk", { args, stdout: "piped", stderr: "piped" })
      .output();
    const text = new TextDecoder().decode(output.stdout);
    const total = Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN);
    const failed = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0) +
      Number(
        /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text)
          ?.slice(1).reduce((sum, n) => sum + Number(n), 0) ?? 0,
      );
    if (!Number.isFinite(total)) {
      throw new Error(`wrk said:\n${text}\n${new TextDecoder().decode(output.stderr)}`);
    }
    const ok = total - failed;
    return { rps: ok / options.seconds, ok, failed, seconds: options.seconds, total };
  } finally {
    if (script) await Deno.remove(script).catch(() => {});
  }
}
