// The real server process under hostile clients: connection floods, low open-files limits, idle
// and slow sockets, long-poll hoarding, and SIGTERM while a client dawdles. Over real sockets.
import assert from "node:assert/strict";
import net from "node:net";
import { SqliteStore } from "../db/sqlite_store.ts";
import { guestCookie, httpFrom, serverTest, startServer } from "./server_process.ts";

/** Opens `count` sockets from this process and keeps them (they send nothing). */
async function holdSockets(port: number, count: number): Promise<Deno.Conn[]> {
  const held: Deno.Conn[] = [];
  for (let i = 0; i < count; i++) {
    try {
      held.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    } catch {
      // A full accept backlog refuses or resets: that is the server protecting itself.
    }
  }
  return held;
}

/** How many of `sockets` the server has closed (a read gives EOF or an error within `ms`). */
async function closedByServer(sockets: Deno.Conn[], ms: number): Promise<number> {
  const results = await Promise.all(sockets.map(async (socket) => {
    const buffer = new Uint8Array(64);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"open">((resolve) => timer = setTimeout(() => resolve("open"), ms));
    const read = socket.read(buffer).then((n) => n === null ? "closed" : "data", () => "closed");
    const result = await Promise.race([read, timeout]);
    clearTimeout(timer);
    return result;
  }));
  return results.filter((r) => r === "closed").length;
}

function closeAll(sockets: Deno.Conn[]): void {
  for (const socket of sockets) {
    try {
      socket.close();
    } catch { /* closed by the server */ }
  }
}

/** A socket from `localAddress` that sends nothing, and whether the server has closed it. */
interface HeldSocket {
  socket: net.Socket;
  closed: boolean;
}

/** Opens `count` idle sockets from `localAddress` (another client address on loopback). */
async function holdFrom(port: number, localAddress: string, count: number): Promise<HeldSocket[]> {
  const held: HeldSocket[] = [];
  for (let i = 0; i < count; i++) {
    const entry = await new Promise<HeldSocket | null>((resolve) => {
      const socket = net.connect({ host: "127.0.0.1", port, localAddress });
      const item: HeldSocket = { socket, closed: false };
      socket.on("connect", () => resolve(item));
      socket.on("error", () => resolve(null));
      socket.on("close", () => item.closed = true);
    });
    if (entry) held.push(entry);
  }
  return held;
}

function releaseAll(held: HeldSocket[]): void {
  for (const { socket } of held) socket.destroy();
}

serverTest(
  "one address holding more connections than its cap locks nobody else out (default caps)",
  async () => {
    // 256 files: 192 connections in all, 48 per address by default.
    const server = await startServer({ openFiles: 256 });
    try {
      // Someone already chatting, from another address.
      const cookie = await guestCookie(server.port, "127.0.0.2");
      const flood = await holdSockets(server.port, 300);
      assert.ok(flood.length >= 250, `only ${flood.length} sockets opened`);
      const closed = await closedByServer(flood, 1500);
      assert.ok(closed >= flood.length - 48, `the server closed ${closed} of ${flood.length}`);
      assert.ok(server.alive(), "the server is still running");
      // The flooded address holds its share; a second address still reads and writes.
      const sent = await httpFrom(server.port, "127.0.0.2", "POST", "/api/rooms/general/messages", {
        cookie,
        body: { body: "still here", clientId: crypto.randomUUID() },
      });
      assert.equal(sent.status, 201, sent.body);
      const read = await httpFrom(server.port, "127.0.0.3", "GET", "/api/rooms/general/messages");
      assert.equal(read.status, 200);
      assert.match(read.body, /still here/);
      closeAll(flood);
    } finally {
      await server.kill();
    }
  },
);

serverTest(
  "several addresses filling every connection with idle sockets cannot lock a newcomer out",
  async () => {
    const server = await startServer({ openFiles: 256 });
    try {
      // Five addresses, 48 each: more than the 192 connections there are.
      const flood: HeldSocket[] = [];
      for (let i = 10; i < 15; i++) flood.push(...await holdFrom(server.port, `127.0.0.${i}`, 48));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const open = flood.filter((s) => !s.closed).length;
      assert.ok(open <= 192, `${open} idle sockets held`);
      // A newcomer gets in: an idle socket of the biggest holder makes room.
      const page = await httpFrom(server.port, "127.0.0.2", "GET", "/api/rooms/general/messages");
      assert.equal(page.status, 200);
      assert.ok(server.alive());
      releaseAll(flood);
    } finally {
      await server.kill();
    }
  },
);

serverTest(
  "out of file descriptors, the server waits instead of exiting, warns at most once a minute, and recovers",
  async () => {
    // Caps above the open-files limit: accepting itself runs out of descriptors.
    const server = await startServer({
      openFiles: 200,
      env: { PARLEY_MAX_CONNECTIONS: "100000", PARLEY_MAX_CONNECTIONS_PER_ADDRESS: "100000" },
    });
    try {
      const flood = await holdSockets(server.port, 400);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.ok(server.alive(), `the server exited:\n${server.stderr()}`);
      const warnings = server.stderr().match(/Out of file descriptors/g) ?? [];
      assert.equal(warnings.length, 1, server.stderr());
      closeAll(flood);
      // Freed descriptors: it serves again without a restart.
      let page = { status: 0 };
      for (let i = 0; i < 20 && page.status !== 200; i++) {
        page = await httpFrom(server.port, "127.0.0.2", "GET", "/api/rooms/general/messages")
          .catch(() => ({ status: 0, headers: "", body: "" }));
        if (page.status !== 200) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.equal(page.status, 200);
      assert.ok(server.alive());
    } finally {
      await server.kill();
    }
  },
);

serverTest(
  "idle and slow-header connections close after the idle timeout; long polls do not",
  async () => {
    const server = await startServer({ env: { PARLEY_IDLE_SECONDS: "1" } });
    try {
      const idle = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      const slow = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      await slow.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n"));
      const started = Date.now();
      const poll = httpFrom(
        server.port,
        "127.0.0.2",
        "GET",
        "/api/rooms/general/messages?after=999999&wait=3",
      );
      assert.equal(await closedByServer([idle, slow], 4000), 2);
      const closedAfter = Date.now() - started;
      assert.ok(closedAfter < 3500, `closed after ${closedAfter} ms`);
      const answer = await poll;
      assert.equal(answer.status, 200, "the long poll ran its full wait");
      assert.ok(Date.now() - started >= 2900);
      closeAll([idle, slow]);
    } finally {
      await server.kill();
    }
  },
);

serverTest("one address can hold only so many waiting long polls; others still poll", async () => {
  const server = await startServer({ env: { PARLEY_MAX_POLLS_PER_ADDRESS: "3" } });
  try {
    const poll = (from: string) =>
      httpFrom(server.port, from, "GET", "/api/rooms/general/messages?after=999999&wait=2");
    const waiting = [poll("127.0.0.2"), poll("127.0.0.2"), poll("127.0.0.2")];
    await new Promise((resolve) => setTimeout(resolve, 300));
    const refused = await poll("127.0.0.2");
    assert.equal(refused.status, 429);
    assert.match(refused.headers, /retry-after: \d+/i);
    assert.match(refused.body, /"too_many_polls"/);
    const other = await poll("127.0.0.3");
    assert.equal(other.status, 200);
    for (const answer of await Promise.all(waiting)) assert.equal(answer.status, 200);
    // Their polls ended: the address may poll again.
    assert.equal((await poll("127.0.0.2")).status, 200);
  } finally {
    await server.kill();
  }
});

serverTest(
  "SIGTERM ends the process in bounded time while a client dawdles over a body; acknowledged messages stay",
  async () => {
    const server = await startServer({
      env: { PARLEY_SHUTDOWN_SECONDS: "2", PARLEY_BODY_SECONDS: "60" },
    });
    try {
      const cookie = await guestCookie(server.port, "127.0.0.2");
      const sent = await httpFrom(server.port, "127.0.0.2", "POST", "/api/rooms/general/messages", {
        cookie,
        body: { body: "acknowledged before shutdown", clientId: crypto.randomUUID() },
      });
      assert.equal(sent.status, 201);
      const slow = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      await slow.write(new TextEncoder().encode(
        `POST /api/rooms/general/messages HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n` +
          `Cookie: ${cookie}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"bo`,
      ));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const stopping = Date.now();
      server.child.kill("SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const status = await Promise.race([
        server.status,
        new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), 10_000)),
      ]);
      clearTimeout(timer);
      const took = Date.now() - stopping;
      assert.ok(status, "the process still runs 10 s after SIGTERM");
      assert.ok(took < 6000, `the process took ${took} ms to stop`);
      assert.equal(status.code, 0, server.stderr());
      closeAll([slow]);
      const store = new SqliteStore(server.sqlitePath);
      try {
        const room = await store.getRoom("general");
        const { messages } = await store.listMessages(room!, { latest: true, limit: 10 });
        assert.deepEqual(messages.map((m) => m.body), ["acknowledged before shutdown"]);
      } finally {
        await store.close();
      }
    } finally {
      await server.kill();
    }
  },
);
