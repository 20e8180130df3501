// An HTTP server that hostile clients cannot knock over: connection caps in all and per address,
// an idle/header timeout, accept errors (EMFILE) survived, and a shutdown that ends in bounded time.
import { type HeldCounts, LocalCounts, SharedCounts } from "./shared_counts.ts";
import { sharedSeconds } from "./shared_table.ts";

/** What a request handler gets besides the request. */
export interface ServeInfo {
  remoteAddr: Deno.NetAddr;
}

/** Options for {@link serveGuarded}. */
export interface GuardedServeOptions {
  hostname: string;
  port: number;
  handler: (request: Request, info: ServeInfo) => Response | Promise<Response>;
  /** Open connections in all; default: the open-files limit less a reserve ({@link defaultMaxConnections}). */
  maxConnections?: number;
  /**
   * Open connections from one address (IPv6: one /64); more are closed at once. Default: a
   * quarter of `maxConnections`, at most 256, so that no one address can take them all.
   */
  maxConnectionsPerAddress?: number;
  /** A connection with no request under way for this long (idle, or still sending headers) is closed, in ms. */
  idleTimeoutMs: number;
  /** Called once listening. */
  onListen?: (addr: Deno.NetAddr) => void;
  /** Where warnings go (default: console.warn). */
  warn?: (message: string) => void;
  /**
   * Serve the port together with other listeners (workers) of this process: the kernel
   * spreads connections among them (Linux `SO_REUSEPORT`; needs `--unstable-net`).
   */
  reusePort?: boolean;
  /** Counts shared with the other workers serving the port (default: this worker's own). */
  shared?: SharedServerState;
}

/** What the workers serving one port count together: connections, and when they last warned. */
export interface SharedServerState {
  /** Open connections per address, and in all under {@link ALL_CONNECTIONS}. */
  counts: HeldCounts;
  /** One slot: when the last "out of file descriptors" warning was given ({@link sharedSeconds}). */
  warnedAt: Int32Array;
}

/** Memory for {@link SharedServerState}, made once and given to every worker. */
export interface ServerStateBuffers {
  counts: SharedArrayBuffer;
  warnedAt: SharedArrayBuffer;
}

/** Shared memory for the connection counts of up to `addresses` addresses at once. */
export function serverStateBuffers(addresses = 65_536): ServerStateBuffers {
  return {
    counts: SharedCounts.buffer(addresses),
    warnedAt: new SharedArrayBuffer(4),
  };
}

/** The shared state over `buffers` (see {@link serverStateBuffers}). */
export function sharedServerState(buffers: ServerStateBuffers): SharedServerState {
  return { counts: new SharedCounts(buffers.counts), warnedAt: new Int32Array(buffers.warnedAt) };
}

/** The key of the count of all connections (no address looks like it). */
const ALL_CONNECTIONS = "*";
const WARN_EVERY_S = 60;

/**
 * Whether to warn now: no warning was given in the last minute by anyone sharing `warnedAt`
 * (the first to claim the slot warns).
 */
function mayWarn(warnedAt: Int32Array): boolean {
  const now = sharedSeconds(Date.now());
  const last = Atomics.load(warnedAt, 0);
  if (last !== 0 && now - last < WARN_EVERY_S) return false;
  return Atomics.compareExchange(warnedAt, 0, last, now) === last;
}

/** A running server. */
export interface GuardedServer {
  readonly addr: Deno.NetAddr;
  /** Whether connections are guarded (false when this Deno cannot serve single connections). */
  readonly guarded: boolean;
  /** Open connections now (served by this worker). */
  connections(): number;
  /**
   * Stops accepting and closes every connection, letting requests under way answer; resolves
   * when all are closed or after `timeoutMs`, whichever comes first (the caller then exits).
   */
  shutdown(timeoutMs: number): Promise<void>;
}

/** One open connection. */
interface Connection {
  key: string;
  /** Requests whose handler has not returned yet. */
  active: number;
  /** When the last request ended (or the connection opened). */
  idleSince: number;
  /** Set once the connection is being closed. */
  closing: boolean;
  /** The address's connections (this one among them). */
  siblings: Set<Connection>;
  server?: { shutdown(): Promise<void>; finished: Promise<void> };
}

type ServeOnConnection = (
  conn: Deno.Conn,
  signal: AbortSignal,
  handler: (request: Request, info: ServeInfo) => Response | Promise<Response>,
  onError: (error: unknown) => Response,
  onListen: () => void,
) => { shutdown(): Promise<void>; finished: Promise<void> };

/** Deno's own per-connection HTTP server (the one `Deno.serve` runs on each accepted socket). */
function serveOnConnection(): ServeOnConnection | undefined {
  const internal = (Deno as unknown as { internal?: symbol }).internal;
  const api = internal === undefined
    ? undefined
    : (Deno as unknown as Record<symbol, { serveHttpOnConnection?: ServeOnConnection }>)[internal];
  return typeof api?.serveHttpOnConnection === "function" ? api.serveHttpOnConnection : undefined;
}

/**
 * The address a connection counts against: IPv4 as is (IPv4-mapped IPv6 unwrapped), IPv6 by
 * its /64 prefix (one host usually holds a whole /64).
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (!address.includes(":")) return address;
  const [head, tail = ""] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = address.includes("::")
    ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right]
    : left;
  return groups.slice(0, 4).map((g) => parseInt(g || "0", 16).toString(16)).join(":") + "::/64";
}

/**
 * The open-files limit of this process (Linux: /proc/self/limits), less a reserve for the
 * database, files and the runtime itself; undefined where it cannot be read.
 */
export function defaultMaxConnections(): number | undefined {
  try {
    const limits = Deno.readTextFileSync("/proc/self/limits");
    const soft = /^Max open files\s+(\d+)/m.exec(limits)?.[1];
    if (!soft) return undefined;
    const files = Number(soft);
    return Math.max(16, files - Math.min(256, Math.floor(files / 4)));
  } catch {
    return undefined;
  }
}

function isTooManyFiles(error: unknown): boolean {
  return /too many open files|os error 24|EMFILE|ENFILE/i.test(String(error));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Serves HTTP with connection limits. Falls back to plain `Deno.serve` (with a warning) where
 * Deno cannot serve single accepted connections.
 */
export function serveGuarded(options: GuardedServeOptions): GuardedServer {
  const warn = options.warn ?? ((message: string) => console.warn(message));
  const found = serveOnConnection();
  if (!found) {
    warn("This Deno cannot serve single connections; connection limits are off.");
    return servePlain(options);
  }
  const serveOn: ServeOnConnection = found;
  const maxConnections = options.maxConnections ?? defaultMaxConnections() ?? 10_000;
  const maxPerAddress = options.maxConnectionsPerAddress ??
    Math.max(1, Math.min(256, Math.floor(maxConnections / 4)));
  const listener = Deno.listen(
    { hostname: options.hostname, port: options.port, reusePort: options.reusePort },
  );
  const addr = listener.addr as Deno.NetAddr;
  const open = new Set<Connection>();
  /** This worker's connections by address (the counts may include other workers'). */
  const perAddress = new Map<string, Set<Connection>>();
  const shared = options.shared ??
    { counts: new LocalCounts(), warnedAt: new Int32Array(1) };
  const counts = shared.counts;
  let stopping = false;
  // Connections are closed with their server's shutdown(), never by aborting this signal: an
  // abort that races the connection's own end throws from inside Deno's listener.
  const never = new AbortController().signal;

  /**
   * Closes a connection: at once when idle or still sending headers; a request under way has
   * its body cut off and its answer sent first.
   */
  function close(connection: Connection): void {
    if (connection.closing) return;
    connection.closing = true;
    connection.server?.shutdown().catch(() => {});
  }

  const onError = (error: unknown) => {
    console.error(error);
    return new Response("Internal Server Error", { status: 500 });
  };

  function release(connection: Connection): void {
    if (!open.delete(connection)) return;
    counts.add(connection.key, -1);
    counts.add(ALL_CONNECTIONS, -1);
    connection.siblings.delete(connection);
    if (connection.siblings.size === 0) perAddress.delete(connection.key);
  }

  /**
   * At the total cap, makes room for a newcomer from another address: closes an idle
   * connection (no request under way: idle keep-alive or still sending headers) of the address
   * that holds the most. Returns false when every connection is busy.
   */
  function evictIdle(newcomer: string): boolean {
    let crowd: Set<Connection> | undefined;
    for (const [key, connections] of perAddress) {
      if (key !== newcomer && connections.size > (crowd?.size ?? 0)) crowd = connections;
    }
    for (const connection of crowd ?? []) {
      if (connection.active === 0 && !connection.closing) {
        close(connection);
        release(connection);
        return true;
      }
    }
    return false;
  }

  function serve(conn: Deno.Conn): void {
    const remote = conn.remoteAddr as Deno.NetAddr;
    const key = addressKey(remote.hostname);
    let siblings = perAddress.get(key);
    const fromAddress = counts.add(key, 1);
    const all = counts.add(ALL_CONNECTIONS, 1);
    if (
      stopping || fromAddress > maxPerAddress || (all > maxConnections && !evictIdle(key))
    ) {
      counts.add(key, -1);
      counts.add(ALL_CONNECTIONS, -1);
      conn.close();
      return;
    }
    if (!siblings) perAddress.set(key, siblings = new Set());
    const connection: Connection = {
      key,
      active: 0,
      idleSince: Date.now(),
      closing: false,
      siblings,
    };
    siblings.add(connection);
    open.add(connection);
    const done = () => {
      connection.active--;
      connection.idleSince = Date.now();
    };
    const handler = (request: Request, info: ServeInfo) => {
      connection.active++;
      let answer: Response | Promise<Response>;
      try {
        answer = options.handler(request, info);
      } catch (error) {
        done();
        throw error;
      }
      if (answer instanceof Promise) return answer.finally(done);
      done();
      return answer;
    };
    try {
      connection.server = serveOn(conn, never, handler, onError, () => {});
      connection.server.finished.then(() => release(connection), () => release(connection));
    } catch (error) {
      release(connection);
      try {
        conn.close();
      } catch { /* already closed */ }
      warn(`Could not serve a connection: ${error}`);
    }
  }

  // Closes connections that have had no request under way for the idle timeout.
  const sweep = setInterval(() => {
    const deadline = Date.now() - options.idleTimeoutMs;
    for (const connection of open) {
      if (connection.active === 0 && connection.idleSince < deadline) close(connection);
    }
  }, Math.max(100, Math.min(1000, options.idleTimeoutMs / 4)));

  const accepting = (async () => {
    // At the edge of the limit, descriptors come and go; one warning a minute (from all the
    // workers serving the port) says enough.
    let refused = 0;
    let warned = false;
    while (!stopping) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (stopping || error instanceof Deno.errors.BadResource) break;
        if (isTooManyFiles(error)) {
          if (refused++ === 0 && mayWarn(shared.warnedAt)) {
            warned = true;
            warn(
              `Out of file descriptors with ${
                counts.get(ALL_CONNECTIONS)
              } connections open: new connections wait ` +
                `(raise the open-files limit or lower PARLEY_MAX_CONNECTIONS).`,
            );
          }
          await sleep(100);
          continue;
        }
        warn(`Accepting a connection failed: ${error}`);
        await sleep(10);
        continue;
      }
      if (refused > 0) {
        if (warned) {
          warn(`Accepting connections again (${refused} attempts waited for a file descriptor).`);
        }
        refused = 0;
        warned = false;
      }
      serve(conn);
    }
  })();

  options.onListen?.(addr);

  return {
    addr,
    guarded: true,
    connections: () => open.size,
    async shutdown(timeoutMs: number) {
      stopping = true;
      try {
        listener.close();
      } catch { /* already closed */ }
      await accepting;
      clearInterval(sweep);
      const finished = Promise.all(
        [...open].map((c) => c.server?.finished.catch(() => {})),
      );
      // Idle connections close now; those with requests under way after they answer. What is
      // still open after the timeout ends with the process.
      for (const connection of open) close(connection);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        finished,
        new Promise((resolve) => timer = setTimeout(resolve, timeoutMs)),
      ]);
      clearTimeout(timer);
    },
  };
}

/** Plain `Deno.serve`, for runtimes without per-connection serving (no limits). */
function servePlain(options: GuardedServeOptions): GuardedServer {
  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    reusePort: options.reusePort,
    onListen: (addr) => options.onListen?.(addr as Deno.NetAddr),
  }, (request, info) => options.handler(request, { remoteAddr: info.remoteAddr as Deno.NetAddr }));
  return {
    addr: server.addr as Deno.NetAddr,
    guarded: false,
    connections: () => 0,
    async shutdown(timeoutMs: number) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        server.shutdown(),
        new Promise((resolve) => timer = setTimeout(resolve, timeoutMs)),
      ]);
      clearTimeout(timer);
    },
  };
}
