// The real server process for tests: started as `deno task start` runs it, and spoken to over raw sockets.
import assert from "node:assert/strict";
import net from "node:net";

const ROOT = new URL("..", import.meta.url).pathname;

/** The Parley server as `deno task start` runs it, in a child process. */
export interface ServerProcess {
  port: number;
  child: Deno.ChildProcess;
  sqlitePath: string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Whether the process is still running. */
  alive(): boolean;
  status: Promise<Deno.CommandStatus>;
  kill(): Promise<void>;
}

/** Starts main.ts with `env`, under `ulimit -n openFiles` when given. */
export async function startServer(
  options: { env?: Record<string, string>; openFiles?: number } = {},
): Promise<ServerProcess> {
  const dir = await Deno.makeTempDir({ prefix: "parley-server-" });
  const sqlitePath = `${dir}/parley.db`;
  const deno = Deno.execPath();
  const start = `exec "${deno}" run -A main.ts`;
  const script = options.openFiles ? `ulimit -n ${options.openFiles} && ${start}` : start;
  const child = new Deno.Command("bash", {
    args: ["-c", script],
    cwd: ROOT,
    env: {
      PORT: "0",
      HOSTNAME: "127.0.0.1",
      SQLITE_PATH: sqlitePath,
      NO_COLOR: "1",
      ...options.env,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let errors = "";
  const decoder = new TextDecoder();
  (async () => {
    for await (const chunk of child.stderr) errors += decoder.decode(chunk);
  })();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  // The first line on stdout names the port.
  let out = "";
  const reader = child.stdout.getReader();
  const deadline = Date.now() + 60_000;
  while (!/listening on http:\/\/[^:]+:(\d+)\//.test(out)) {
    if (Date.now() > deadline || exited) {
      throw new Error(`The server did not start:\n${out}\n${errors}`);
    }
    const { value, done } = await reader.read();
    if (done) throw new Error(`The server exited:\n${out}\n${errors}`);
    out += decoder.decode(value);
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  const port = Number(/listening on http:\/\/[^:]+:(\d+)\//.exec(out)![1]);
  return {
    port,
    child,
    sqlitePath,
    stderr: () => errors,
    alive: () => !exited,
    status,
    async kill() {
      if (!exited) child.kill("SIGKILL");
      await status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** An HTTP/1.1 exchange over a socket bound to `localAddress` (another client address). */
export function rawRequest(
  port: number,
  request: string,
  localAddress = "127.0.0.1",
): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress }, () => {
      socket.write(request);
    });
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => data += chunk);
    socket.on("error", reject);
    socket.on("close", () => {
      const [head, ...rest] = data.split("\r\n\r\n");
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0);
      resolve({ status, headers: head, body: rest.join("\r\n\r\n") });
    });
  });
}

/** A GET or POST as a browser from `localAddress` would send it, closing the connection after. */
export function httpFrom(
  port: number,
  localAddress: string,
  method: string,
  path: string,
  options: { cookie?: string; body?: unknown } = {},
) {
  const body = options.body === undefined ? "" : JSON.stringify(options.body);
  const lines = [
    `${method} ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    "Connection: close",
    ...(options.cookie ? [`Cookie: ${options.cookie}`] : []),
    ...(body
      ? [
        "Content-Type: application/json",
        `Origin: http://127.0.0.1:${port}`,
        `Content-Length: ${new TextEncoder().encode(body).length}`,
      ]
      : []),
  ];
  return rawRequest(port, lines.join("\r\n") + "\r\n\r\n" + body, localAddress);
}

/** Visits the page as a new guest from `localAddress`; returns the session cookie. */
export async function guestCookie(port: number, localAddress: string): Promise<string> {
  const page = await httpFrom(port, localAddress, "GET", "/");
  assert.equal(page.status, 200, page.headers);
  const cookie = /set-cookie: ([^;]+)/i.exec(page.headers)?.[1];
  assert.ok(cookie, "the first visit sets a cookie");
  return cookie;
}

/** A test of a real server process (its sockets and child outlive single steps). */
export function serverTest(name: string, fn: () => Promise<void>) {
  Deno.test({ name: `server: ${name}`, sanitizeOps: false, sanitizeResources: false, fn });
}
