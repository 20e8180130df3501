// The API's request guards through a real socket: bodyless POST/DELETE, body size and time
// limits, and the Host check — HTTP/1.1 written by hand, as curl and browsers send it.
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "./helpers.ts";

/** An HTTP answer read off the socket. */
interface RawAnswer {
  status: number;
  headers: Headers;
  body: string;
  /** Milliseconds from the first byte written to the answer. */
  ms: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Writes `head` (request line and headers, without the blank line) and then each part of
 * `body` (strings are written as they are; numbers are pauses in ms), and reads the answer.
 */
async function raw(
  port: number,
  head: string,
  body: (string | number)[] = [],
): Promise<RawAnswer> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const started = performance.now();
  try {
    const answer = readAnswer(conn);
    const writing = (async () => {
      await conn.write(encoder.encode(head.replaceAll("\n", "\r\n") + "\r\n\r\n"));
      for (const part of body) {
        if (typeof part === "number") await new Promise((r) => setTimeout(r, part));
        else await conn.write(encoder.encode(part));
      }
    })().catch(() => {}); // the server may answer and close before everything is written
    let timer: ReturnType<typeof setTimeout> | undefined;
    const result = await Promise.race([
      answer,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("No answer within 10 s")), 10_000);
      }),
    ]).finally(() => clearTimeout(timer));
    await Promise.race([writing, new Promise((r) => setTimeout(r, 50))]);
    return { ...result, ms: performance.now() - started };
  } finally {
    conn.close();
  }
}

async function readAnswer(conn: Deno.Conn): Promise<Omit<RawAnswer, "ms">> {
  let bytes = new Uint8Array(0);
  const buffer = new Uint8Array(16 * 1024);
  const more = async () => {
    const n = await conn.read(buffer);
    if (n === null) return false;
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
  const [statusLine, ...lines] = decoder.decode(bytes).slice(0, end).split("\r\n");
  const headers = new Headers(lines.map((line) => {
    const at = line.indexOf(":");
    return [line.slice(0, at).trim(), line.slice(at + 1).trim()] as [string, string];
  }));
  const length = Number(headers.get("content-length") ?? 0);
  const bodyStart = end + 4;
  while (encoder.encode(decoder.decode(bytes)).length - bodyStart < length) {
    if (!await more()) break;
  }
  const body = decoder.decode(bytes.subarray(bodyStart));
  return { status: Number(statusLine.split(" ")[1]), headers, body };
}

/** A server on a temporary SQLite file for one test. */
async function withServer(
  env: Record<string, string>,
  fn: (server: TestServer) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const server = await startTestServer({ sqlitePath: `${dir}/parley.db`, env });
  try {
    await fn(server);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A guest's cookie from a first visit. */
async function guestCookie(server: TestServer): Promise<string> {
  const response = await fetch(`${server.url}/`);
  await response.body?.cancel();
  return response.headers.get("set-cookie")!.split(";")[0];
}

function errorCode(answer: RawAnswer): string {
  return JSON.parse(answer.body).error.code;
}

Deno.test("guards: a bodyless POST or DELETE without Content-Length is no body (not 415)", async () => {
  await withServer({}, async (server) => {
    const host = `127.0.0.1:${server.port}`;
    const origin = `http://${host}`;
    const cookie = await guestCookie(server);
    const everywhere = await raw(
      server.port,
      `DELETE /api/auth/sessions HTTP/1.1\nHost: ${host}\nOrigin: ${origin}\nCookie: ${cookie}\nConnection: close`,
    );
    assert.notEqual(everywhere.status, 415, everywhere.body);
    assert.ok(everywhere.status < 300, `${everywhere.status} ${everywhere.body}`);
    const other = await guestCookie(server);
    const logout = await raw(
      server.port,
      `POST /api/auth/logout HTTP/1.1\nHost: ${host}\nOrigin: ${origin}\nCookie: ${other}\nConnection: close`,
    );
    assert.ok(logout.status < 300, `${logout.status} ${logout.body}`);
    const me = await fetch(`${server.url}/api/me`, { headers: { cookie: other } });
    assert.equal(me.status, 401, "logged out");
    await me.body?.cancel();
    const typeless = await raw(
      server.port,
      `POST /api/rooms/general/messages HTTP/1.1\nHost: ${host}\nOrigin: ${origin}\nCookie: ${cookie}\nContent-Length: 2\nConnection: close`,
      ["{}"],
    );
    assert.equal(typeless.status, 415, "a body still needs a JSON type");
  });
});

Deno.test("guards: a chunked body over 64 KiB is 413, a stalled body 408 in time", async () => {
  await withServer({ PARLEY_BODY_SECONDS: "1" }, async (server) => {
    const host = `127.0.0.1:${server.port}`;
    const cookie = await guestCookie(server);
    const head =
      `POST /api/rooms/general/messages HTTP/1.1\nHost: ${host}\nOrigin: http://${host}\n` +
      `Cookie: ${cookie}\nContent-Type: application/json\nConnection: close`;
    const chunk = (text: string) => `${text.length.toString(16)}\r\n${text}\r\n`;
    const parts = [chunk(`{"body":"`)];
    for (let i = 0; i < 70; i++) parts.push(chunk("x".repeat(1024)));
    parts.push(chunk(`"}`), "0\r\n\r\n");
    const large = await raw(server.port, `${head}\nTransfer-Encoding: chunked`, parts);
    assert.equal(large.status, 413, large.body);
    assert.equal(errorCode(large), "too_large");

    const stalled = await raw(server.port, `${head}\nContent-Length: 100`, ['{"body":"', 5_000]);
    assert.equal(stalled.status, 408, stalled.body);
    assert.equal(errorCode(stalled), "body_timeout");
    assert.ok(stalled.ms < 3_000, `answered after ${stalled.ms} ms`);

    const fine = await raw(server.port, `${head}\nTransfer-Encoding: chunked`, [
      chunk(`{"body":`),
      100,
      chunk(`"in pieces"}`),
      "0\r\n\r\n",
    ]);
    assert.equal(fine.status, 201, fine.body);
    assert.equal(JSON.parse(fine.body).body, "in pieces");
  });
});

Deno.test("guards: with a public URL, other hosts get 421 and their origin is not trusted", async () => {
  await withServer({ PARLEY_PUBLIC_URL: "https://chat.example.com" }, async (server) => {
    const request = (host: string, origin: string, path = "/api/auth/logout") =>
      raw(
        server.port,
        `POST ${path} HTTP/1.1\nHost: ${host}\nOrigin: ${origin}\nContent-Type: application/json\nContent-Length: 2\nConnection: close`,
        ["{}"],
      );
    const rebound = await request("evil.example", "http://evil.example");
    assert.equal(rebound.status, 421, rebound.body);
    assert.equal(errorCode(rebound), "misdirected_request");
    const page = await raw(server.port, `GET / HTTP/1.1\nHost: evil.example\nConnection: close`);
    assert.equal(page.status, 421);
    assert.match(page.headers.get("content-type")!, /text\/html/);
    const local = await raw(
      server.port,
      `GET / HTTP/1.1\nHost: 127.0.0.1:${server.port}\nConnection: close`,
    );
    assert.equal(local.status, 421, "the public URL is the only host");

    const right = await request("chat.example.com", "https://chat.example.com");
    assert.equal(right.status, 204, right.body);
    const withPort = await request("chat.example.com:443", "https://chat.example.com");
    assert.equal(withPort.status, 204, "the default port may be written out");
    const foreign = await request("chat.example.com", "http://chat.example.com");
    assert.equal(foreign.status, 403, "only the public origin may send");
    assert.equal(errorCode(foreign), "cross_origin");
    const pageOk = await raw(
      server.port,
      `GET / HTTP/1.1\nHost: chat.example.com\nConnection: close`,
    );
    assert.equal(pageOk.status, 200);
  });
});

Deno.test("guards: without a public URL or origins any Host is served, its own origin allowed", async () => {
  await withServer({}, async (server) => {
    const answer = await raw(
      server.port,
      `POST /api/auth/logout HTTP/1.1\nHost: anything.example:8080\nOrigin: http://anything.example:8080\nConnection: close`,
    );
    assert.equal(answer.status, 204, answer.body);
    const foreign = await raw(
      server.port,
      `POST /api/auth/logout HTTP/1.1\nHost: anything.example:8080\nOrigin: http://evil.example\nConnection: close`,
    );
    assert.equal(foreign.status, 403);
  });
});
