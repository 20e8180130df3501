// Uploads and downloads over a real socket: a chunked upload streamed to the store, an upload over the limit cut off before it is all sent, a stalled upload, and byte ranges.
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "./helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An HTTP answer read off the socket. */
interface RawAnswer {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/** A request written by hand: its head, then its body parts (numbers are pauses in ms). */
interface RawRequest {
  head: string;
  body?: AsyncIterable<Uint8Array | number> | (Uint8Array | number)[];
}

/**
 * Writes a request and reads the answer, while writing goes on; returns the answer and how
 * many body bytes had been written when it arrived.
 */
async function exchange(
  port: number,
  request: RawRequest,
): Promise<{ answer: RawAnswer; written: number; ms: number }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const started = performance.now();
  let written = 0;
  let answered = false;
  try {
    const writing = (async () => {
      await conn.write(encoder.encode(request.head.replaceAll("\n", "\r\n") + "\r\n\r\n"));
      for await (const part of request.body ?? []) {
        if (answered) return;
        if (typeof part === "number") await new Promise((r) => setTimeout(r, part));
        else {
          let at = 0;
          while (at < part.length) at += await conn.write(part.subarray(at));
          written += part.length;
        }
      }
    })().catch(() => {}); // the server may answer and close before everything is written
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer = await Promise.race([
      readAnswer(conn),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("No answer within 20 s")), 20_000);
      }),
    ]).finally(() => clearTimeout(timer));
    const at = written;
    answered = true;
    const ms = performance.now() - started;
    await Promise.race([writing, new Promise((r) => setTimeout(r, 50))]);
    return { answer, written: at, ms };
  } finally {
    conn.close();
  }
}

async function readAnswer(conn: Deno.Conn): Promise<RawAnswer> {
  const chunks: Uint8Array[] = [];
  let bytes = new Uint8Array(0);
  const buffer = new Uint8Array(64 * 1024);
  const more = async () => {
    const n = await conn.read(buffer);
    if (n === null) return false;
    chunks.push(buffer.slice(0, n));
    const joined = new Uint8Array(bytes.length + n);
    joined.set(bytes);
    joined.set(buffer.subarray(0, n), bytes.length);
    bytes = joined;
    return true;
  };
  let end = -1;
  while ((end = decoder.decode(bytes).indexOf("\r\n\r\n")) === -1) {
    if (!await more()) throw new Error(`Connection closed: ${decoder.decode(bytes)}`);
  }
  const headText = decoder.decode(bytes).slice(0, end);
  const headLength = encoder.encode(headText).length + 4;
  const [statusLine, ...lines] = headText.split("\r\n");
  const headers = new Headers(lines.map((line) => {
    const at = line.indexOf(":");
    return [line.slice(0, at).trim(), line.slice(at + 1).trim()] as [string, string];
  }));
  const length = Number(headers.get("content-length") ?? 0);
  while (bytes.length - headLength < length) {
    if (!await more()) break;
  }
  return {
    status: Number(statusLine.split(" ")[1]),
    headers,
    body: bytes.subarray(headLength, headLength + length),
  };
}

/** A chunk of HTTP/1.1 chunked transfer coding. */
function chunked(data: Uint8Array): Uint8Array {
  const size = encoder.encode(`${data.length.toString(16)}\r\n`);
  const out = new Uint8Array(size.length + data.length + 2);
  out.set(size);
  out.set(data, size.length);
  out.set(encoder.encode("\r\n"), size.length + data.length);
  return out;
}

const LAST_CHUNK = encoder.encode("0\r\n\r\n");
const BOUNDARY = "----parley-test-boundary";

function partHead(name: string): Uint8Array {
  return encoder.encode(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n`,
  );
}

const PART_END = encoder.encode(`\r\n--${BOUNDARY}--\r\n`);

/** Deterministic bytes: `size` of them, as `chunkSize` pieces. */
function* pieces(size: number, chunkSize: number): Generator<Uint8Array> {
  for (let at = 0; at < size; at += chunkSize) {
    const piece = new Uint8Array(Math.min(chunkSize, size - at));
    for (let i = 0; i < piece.length; i++) piece[i] = (at + i) * 7 % 256;
    yield piece;
  }
}

async function sha256(chunks: Iterable<Uint8Array>): Promise<string> {
  const all = [...chunks];
  const joined = new Uint8Array(all.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of all) {
    joined.set(c, at);
    at += c.length;
  }
  const digest = await crypto.subtle.digest("SHA-256", joined);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function withServer(
  env: Record<string, string>,
  fn: (server: TestServer, host: string, cookie: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const server = await startTestServer({ sqlitePath: `${dir}/parley.db`, env });
  try {
    const first = await fetch(`${server.url}/`);
    await first.body?.cancel();
    const cookie = first.headers.get("set-cookie")!.split(";")[0];
    await fn(server, `127.0.0.1:${server.port}`, cookie);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

function uploadHead(host: string, cookie: string, extra: string): string {
  return `POST /api/rooms/general/files HTTP/1.1\nHost: ${host}\nOrigin: http://${host}\n` +
    `Cookie: ${cookie}\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\n${extra}`;
}

Deno.test("files socket: a chunked upload without Content-Length is streamed to the store", async () => {
  await withServer({}, async (server, host, cookie) => {
    const size = 3 * 1024 * 1024 + 123;
    async function* body() {
      yield chunked(partHead("stream.bin"));
      let n = 0;
      for (const piece of pieces(size, 64 * 1024)) {
        yield chunked(piece);
        if (++n % 16 === 0) yield 5; // now and then a pause, as on a real network
      }
      yield chunked(PART_END);
      yield LAST_CHUNK;
    }
    const { answer } = await exchange(server.port, {
      head: uploadHead(host, cookie, "Transfer-Encoding: chunked\nConnection: close"),
      body: body(),
    });
    const json = JSON.parse(decoder.decode(answer.body));
    assert.equal(answer.status, 201, JSON.stringify(json));
    assert.equal(json.size, size);
    assert.equal(json.name, "stream.bin");
    const stored = await server.app.store.getFile(json.id);
    assert.equal(stored?.sha256, await sha256(pieces(size, 64 * 1024)), "the bytes as sent");

    // The same bytes come back, whole and by ranges, over the socket.
    const whole = await exchange(server.port, {
      head: `GET ${json.url} HTTP/1.1\nHost: ${host}\nCookie: ${cookie}\nConnection: close`,
    });
    assert.equal(whole.answer.status, 200);
    assert.equal(whole.answer.headers.get("content-length"), String(size));
    assert.equal(await sha256([whole.answer.body]), stored?.sha256);
    const ranged = await exchange(server.port, {
      head:
        `GET ${json.url} HTTP/1.1\nHost: ${host}\nCookie: ${cookie}\nRange: bytes=1048570-1048585\nConnection: close`,
    });
    assert.equal(ranged.answer.status, 206);
    assert.equal(ranged.answer.headers.get("content-range"), `bytes 1048570-1048585/${size}`);
    assert.equal(ranged.answer.headers.get("content-length"), "16");
    const expected = Uint8Array.from({ length: 16 }, (_, i) => (1048570 + i) * 7 % 256);
    assert.deepEqual(ranged.answer.body, expected);
    const suffix = await exchange(server.port, {
      head:
        `GET ${json.url} HTTP/1.1\nHost: ${host}\nCookie: ${cookie}\nRange: bytes=-3\nConnection: close`,
    });
    assert.equal(suffix.answer.status, 206);
    assert.deepEqual(
      suffix.answer.body,
      Uint8Array.from({ length: 3 }, (_, i) => (size - 3 + i) * 7 % 256),
    );
    const past = await exchange(server.port, {
      head:
        `GET ${json.url} HTTP/1.1\nHost: ${host}\nCookie: ${cookie}\nRange: bytes=${size}-\nConnection: close`,
    });
    assert.equal(past.answer.status, 416);
    assert.equal(past.answer.headers.get("content-range"), `bytes */${size}`);
  });
});

Deno.test("files socket: an upload over the limit is cut off with 413 before it is all sent", async () => {
  await withServer({ PARLEY_MAX_UPLOAD_MB: "1" }, async (server, host, cookie) => {
    const total = 64 * 1024 * 1024;
    async function* body() {
      yield chunked(partHead("huge.bin"));
      for (const piece of pieces(total, 256 * 1024)) yield chunked(piece);
      yield chunked(PART_END);
      yield LAST_CHUNK;
    }
    const cut = await exchange(server.port, {
      head: uploadHead(host, cookie, "Transfer-Encoding: chunked"),
      body: body(),
    });
    assert.equal(cut.answer.status, 413);
    assert.equal(JSON.parse(decoder.decode(cut.answer.body)).error.code, "file_too_large");
    assert.equal(cut.answer.headers.get("connection"), "close");
    assert.ok(cut.written < total / 2, `answered after ${cut.written} of ${total} bytes`);
    assert.equal(await server.app.store.uploadedBytes(1, 0), 0);

    // A Content-Length over the limit is refused before any of the body is sent.
    const declared = await exchange(server.port, {
      head: uploadHead(host, cookie, `Content-Length: ${total}`),
      body: [1000, encoder.encode("never read")],
    });
    assert.equal(declared.answer.status, 413);
    assert.equal(declared.written, 0, "answered at once");
  });
});

Deno.test("files socket: an upload that stalls is 408 after PARLEY_BODY_SECONDS", async () => {
  await withServer({ PARLEY_BODY_SECONDS: "1" }, async (server, host, cookie) => {
    const head = partHead("slow.bin");
    const stalled = await exchange(server.port, {
      head: uploadHead(host, cookie, `Content-Length: ${head.length + 100_000}`),
      body: [head, new Uint8Array(50_000), 5000, new Uint8Array(50_000)],
    });
    assert.equal(stalled.answer.status, 408);
    assert.equal(JSON.parse(decoder.decode(stalled.answer.body)).error.code, "body_timeout");
    assert.ok(stalled.ms < 4000, `answered in ${Math.round(stalled.ms)} ms`);

    // A slow upload that keeps coming is fine, however long it takes in all: 1.5 s here, in
    // pauses of 300 ms (well inside the 1 s limit, even on a busy machine).
    const steady = await exchange(server.port, {
      head: uploadHead(
        server.url.slice(7),
        cookie,
        `Content-Length: ${head.length + 5000 + PART_END.length}\nConnection: close`,
      ),
      body: [
        head,
        ...Array.from({ length: 5 }, () => [new Uint8Array(1000).fill(65), 300]).flat(),
        PART_END,
      ],
    });
    assert.equal(steady.answer.status, 201, decoder.decode(steady.answer.body));
  });
});
