// Upload memory benchmark: the real server process takes 10 simultaneous 25 MB uploads (twice) while its RSS is sampled.
import { parseArgs } from "node:util";

const ROOT = new URL("..", import.meta.url).pathname;
const MB = 1024 * 1024;
const BOUNDARY = "----parley-bench-boundary";
const encoder = new TextEncoder();

/** The server process and how to read its memory. */
interface Server {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts `main.ts` as `deno task start` does, on a free port with SQLite in a temp folder. */
async function startServer(dir: string, env: Record<string, string>): Promise<Server> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd: ROOT,
    env: {
      PORT: "0",
      HOSTNAME: "127.0.0.1",
      SQLITE_PATH: `${dir}/parley.db`,
      PARLEY_FILES_DIR: `${dir}/files`,
      NO_COLOR: "1",
      ...env,
    },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let out = "";
  const listening = /listening on (http:\/\/[^/]+)\//;
  while (!listening.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`The server exited:\n${out}`);
    out += decoder.decode(value);
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  return {
    url: listening.exec(out)![1],
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

/** The server's resident memory now, in MiB (Linux: VmRSS in /proc/<pid>/status). */
function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 1024 * 10) / 10;
}

/** The form around the file: what comes before its bytes and after them. */
function formParts(name: string): { head: Uint8Array; tail: Uint8Array } {
  const head = encoder.encode(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = encoder.encode(`\r\n--${BOUNDARY}--\r\n`);
  return { head, tail };
}

/** `size` bytes of file content in 64 KiB chunks, made as they are asked for. */
function* fileChunks(size: number, name: string): Generator<Uint8Array> {
  const piece = new Uint8Array(64 * 1024);
  crypto.getRandomValues(piece);
  for (let sent = 0; sent < size;) {
    const chunk = piece.slice(0, Math.min(piece.length, size - sent));
    // Different bytes per upload and chunk: nothing is stored once for all.
    chunk[0] = sent & 255;
    chunk[1] = (sent >> 8) & 255;
    chunk[2] = name.charCodeAt(name.length - 1);
    sent += chunk.length;
    yield chunk;
  }
}

/** A multipart/form-data body of `size` bytes of file content, generated as it is sent. */
function multipartBody(size: number, name: string): ReadableStream<Uint8Array> {
  const { head, tail } = formParts(name);
  const chunks = fileChunks(size, name);
  let started = false;
  return new ReadableStream({
    pull(controller) {
      if (!started) {
        controller.enqueue(head);
        started = true;
        return;
      }
      const next = chunks.next();
      if (!next.done) return controller.enqueue(next.value);
      controller.enqueue(tail);
      controller.close();
    },
  });
}

/**
 * Sends the upload as a browser does (a `FormData` body has a `Content-Length`), over a
 * socket of its own: `fetch` sends a stream body chunked. The body is generated as it is
 * sent; returns the answer's status.
 */
async function postWithLength(
  url: string,
  path: string,
  headers: Record<string, string>,
  size: number,
  name: string,
): Promise<number> {
  const { hostname, port } = new URL(url);
  const { head, tail } = formParts(name);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    const lines = Object.entries(headers).map(([key, value]) => `${key}: ${value}\r\n`).join("");
    const length = head.byteLength + size + tail.byteLength;
    const writeAll = async (bytes: Uint8Array) => {
      for (let at = 0; at < bytes.byteLength;) at += await conn.write(bytes.subarray(at));
    };
    const answer = (async () => {
      // The status line is all that is wanted.
      const buffer = new Uint8Array(4096);
      let text = "";
      while (!text.includes("\r\n")) {
        const n = await conn.read(buffer);
        if (n === null) break;
        text += new TextDecoder().decode(buffer.subarray(0, n));
      }
      return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
    })();
    try {
      await writeAll(encoder.encode(
        `POST ${path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-length: ${length}\r\n` +
          `${lines}connection: close\r\n\r\n`,
      ));
      await writeAll(head);
      for (const chunk of fileChunks(size, name)) await writeAll(chunk);
      await writeAll(tail);
    } catch {
      // Answered (and closed) before the end: the status says why.
    }
    return await answer;
  } finally {
    conn.close();
  }
}

async function guestCookie(url: string): Promise<string> {
  const response = await fetch(`${url}/`);
  await response.body?.cancel();
  return response.headers.get("set-cookie")!.split(";")[0];
}

/** One round: every client uploads `size` bytes at once; returns the statuses and seconds. */
async function round(
  server: Server,
  cookies: string[],
  size: number,
  label: string,
): Promise<{ statuses: number[]; seconds: number }> {
  const started = performance.now();
  const statuses = await Promise.all(cookies.map(async (cookie, i) => {
    const headers = {
      cookie,
      origin: server.url,
      "content-type": `multipart/form-data; boundary=${BOUNDARY}`,
    };
    const path = "/api/rooms/general/files";
    if (!chunked) return await postWithLength(server.url, path, headers, size, `${label}-${i}.bin`);
    const response = await fetch(`${server.url}${path}`, {
      method: "POST",
      headers,
      body: multipartBody(size, `${label}-${i}.bin`),
    });
    await response.body?.cancel();
    return response.status;
  }));
  return { statuses, seconds: (performance.now() - started) / 1000 };
}

const args = parseArgs({
  options: {
    clients: { type: "string", default: "10" },
    mb: { type: "string", default: "25" },
    rounds: { type: "string", default: "2" },
    // Send the bodies chunked (`Transfer-Encoding: chunked`, as `fetch` sends a stream) instead
    // of with a `Content-Length` (as browsers send a form).
    chunked: { type: "boolean", default: false },
  },
});
const chunked = args.values.chunked;
const clients = Number(args.values.clients);
const size = Number(args.values.mb) * MB;
const rounds = Number(args.values.rounds);

const dir = await Deno.makeTempDir({ prefix: "parley-upload-bench-" });
const server = await startServer(dir, { PARLEY_MAX_UPLOAD_MB: String(args.values.mb) });
try {
  const cookies = await Promise.all(Array.from({ length: clients }, () => guestCookie(server.url)));
  // Warm up: one small upload, so that the code paths are loaded before "before" is taken.
  await round(server, cookies.slice(0, 1), 64 * 1024, "warm");
  await new Promise((r) => setTimeout(r, 1000));
  const before = rssMiB(server.pid);
  let peak = before;
  const sampler = setInterval(() => peak = Math.max(peak, rssMiB(server.pid)), 20);
  const results = [];
  for (let r = 1; r <= rounds; r++) {
    const { statuses, seconds } = await round(server, cookies, size, `round${r}`);
    results.push({
      round: r,
      statuses: [...new Set(statuses)],
      seconds: Math.round(seconds * 10) / 10,
      peak_rss_mib: peak,
    });
  }
  clearInterval(sampler);
  await new Promise((r) => setTimeout(r, 2000));
  const after = rssMiB(server.pid);
  const uploadedMiB = clients * rounds * size / MB;
  const report = {
    clients,
    body: chunked ? "chunked" : "content-length",
    mb_each: size / MB,
    rounds,
    uploaded_mib: uploadedMiB,
    rss_before_mib: before,
    rss_peak_mib: peak,
    rss_after_mib: after,
    peak_over_before_mib: Math.round((peak - before) * 10) / 10,
    results,
  };
  console.log(JSON.stringify(report, null, 2));
  if (results.some((r) => r.statuses.length !== 1 || r.statuses[0] !== 201)) {
    console.error("Some uploads failed");
    Deno.exitCode = 1;
  }
} finally {
  await server.stop();
  await Deno.remove(dir, { recursive: true });
}
