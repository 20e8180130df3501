// Wires Parley together: configuration, store and chat domain on the islands runtime.
import type { Hono, MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import manifest from "./fresh.gen.ts";
import type { ParleyConfig } from "./fresh.config.ts";
import type { Store } from "./db/store.ts";
import { type Chat, createChat } from "./chat/chat.ts";
import { createAccounts } from "./chat/accounts.ts";
import type { Limiters } from "./chat/limiters.ts";
import { createModeration } from "./chat/moderation.ts";
import { type Cleanup, startCleanup } from "./chat/cleanup.ts";
import { errorHeaders, errorResponse, errorStatus } from "./http/api_errors.ts";
import type { AppState } from "./http/app_state.ts";
import { allowedOrigins, hostCheck, hostsOf } from "./http/request_guards.ts";
import { createMetrics, instrumentChat, type ParleyMetrics } from "./http/metrics.ts";
import { operations, requestRecorder } from "./http/operations.ts";
import { type PeerInfo, roomPoll } from "./http/room_poll.ts";
import { compression } from "./http/compression.ts";
import { sessionResolver } from "./chat/sessions.ts";
import { type LogSink, routePatterns, stdoutSink } from "./http/request_log.ts";
import { BUNDLE_PREFIX } from "./runtime/bundle.ts";
import { buildBundle, type Bundle, createApp, getState, readBundle } from "./runtime/mod.ts";

/** Options for {@link createParley}. */
export interface ParleyOptions {
  config: ParleyConfig;
  store: Store;
  /** A browser bundle to use instead of building or reading one (tests share one). */
  bundle?: Bundle;
  /** Where access log lines go (default: stdout, in batches). */
  logSink?: LogSink;
  /** Where rate limits and per-address counts are kept (default: this worker's memory). */
  limiters?: Limiters;
  /**
   * Whether this app runs the hourly cleanup (default true; false in every worker of a
   * process but the first, which runs it for all).
   */
  cleanup?: boolean;
}

/** A running Parley app. */
export interface Parley {
  /** Serves every request: room polls on their own path, everything else through `app`. */
  fetch: (request: Request, info?: PeerInfo) => Promise<Response>;
  app: Hono;
  /** The browser bundle it serves. */
  bundle: Bundle;
  chat: Chat;
  /** The hourly cleanup of idle sessions, expired invitations and forgotten guests. */
  cleanup: Cleanup;
  /** The Prometheus metrics, when `PARLEY_METRICS_TOKEN` turns them on. */
  metrics?: ParleyMetrics;
  /** Ends long polls at once and stops the cleanup's timer, so that the server can stop. */
  shutdown(): void;
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");
const API_CSP = "default-src 'none'; frame-ancestors 'none'";
/** The headers of every JSON answer (pages get the full set of `secureHeaders`). */
const API_HEADERS = {
  "x-content-type-options": "nosniff",
  "cross-origin-resource-policy": "same-origin",
  "content-security-policy": API_CSP,
};

/** Whether a path is a JSON API endpoint (the docs pages are not). */
function isApi(path: string): boolean {
  return path.startsWith("/api/") && !path.startsWith("/api/docs");
}

/** Loads the browser bundle: the `build` task's output when present (not in dev), else built now. */
export async function loadBundle(config: ParleyConfig): Promise<Bundle> {
  const root = new URL(".", import.meta.url);
  const prebuilt = config.dev ? null : await readBundle(new URL(config.buildDir, root).pathname);
  return prebuilt ?? await buildBundle({
    islands: Object.keys(manifest.islands),
    baseUrl: manifest.baseUrl,
    minify: !config.dev,
  });
}

/** Builds the Parley app for a configuration and an open store. */
export async function createParley(options: ParleyOptions): Promise<Parley> {
  const { config, store } = options;
  const secret = config.secret ??
    await store.initSetting("cookie_secret", crypto.randomUUID() + crypto.randomUUID());
  const stopping = new AbortController();
  const metrics = config.metricsToken ? createMetrics() : undefined;
  const plainChat = createChat({
    store,
    limits: config.limits,
    shutdown: stopping.signal,
    rooms: { perHour: config.roomsPerHour, guests: config.guestRooms },
    maxPollsPerAddress: config.server.maxPollsPerAddress,
    files: config.files,
    limiters: options.limiters,
  });
  const chat = metrics ? instrumentChat(plainChat, metrics) : plainChat;
  const accounts = createAccounts({
    store,
    secret,
    policy: config.accounts,
    registrationsPerHour: config.registrationsPerHour,
    limiters: options.limiters,
  });
  const moderation = createModeration({ store, config });
  const bundle = options.bundle ?? await loadBundle(config);
  const resolveSession = sessionResolver({ store, secret, idleMs: config.sessionIdleMs });

  const provide: MiddlewareHandler = async (c, next) => {
    const state = getState<AppState>(c);
    state.chat = chat;
    state.accounts = accounts;
    state.moderation = moderation;
    state.config = config;
    state.secret = secret;
    state.resolveSession = resolveSession;
    await next();
  };
  // Pages, scripts and styles are worth compressing; API answers are mostly tiny, and a poll
  // answer would be compressed once per waiting reader. Uploaded files are served as stored
  // (byte ranges must count the stored bytes).
  const compress = compression();
  const compressPages: MiddlewareHandler = (c, next) =>
    isApi(c.req.path) || c.req.path.startsWith("/files/") ? next() : compress(c, next);
  const documentHeaders = secureHeaders({
    contentSecurityPolicy: undefined,
    crossOriginEmbedderPolicy: false,
  });
  // Pages and files get the full set; JSON answers only what matters for them (fewer bytes
  // on every poll: the full set cost a third of the empty-poll throughput).
  const securityHeaders: MiddlewareHandler = async (c, next) => {
    if (isApi(c.req.path)) {
      await next();
      for (const [name, value] of Object.entries(API_HEADERS)) c.res.headers.set(name, value);
      return;
    }
    await documentHeaders(c, async () => {
      await next();
      if (!c.res.headers.has("content-security-policy")) {
        c.res.headers.set("content-security-policy", CSP);
      }
    });
  };

  const sink = options.logSink ?? stdoutSink();
  const app = await createApp({
    manifest,
    bundle,
    staticDir: new URL("./static", import.meta.url).pathname,
    middleware: [
      operations({
        store,
        routes: routePatterns(manifest, [`${BUNDLE_PREFIX}:file`]),
        log: config.log,
        sink,
        metrics,
        metricsToken: config.metricsToken,
        stopping: stopping.signal,
      }),
      securityHeaders,
      hostCheck({ origins: allowedOrigins(config) }),
      compressPages,
      provide,
    ],
    errorResponse,
    errorStatus,
    errorHeaders,
  });
  // At start, then every hour; on PostgreSQL one instance at a time.
  const cleanup = startCleanup({
    store,
    sessionIdleMs: config.sessionIdleMs,
    guestRetentionMs: config.guestRetentionMs,
    uploadRetentionMs: config.files.retentionMs,
    timer: options.cleanup,
  });
  const fetch = roomPoll({
    chat,
    resolveSession,
    guests: () => accounts.policy.guests,
    hosts: hostsOf(allowedOrigins(config)),
    proxyHops: config.proxyHops,
    apiHeaders: { ...API_HEADERS, "cache-control": "no-store" },
    record: requestRecorder({ log: config.log, sink, metrics }),
    app: (request, info) => app.fetch(request, info),
  });
  return {
    fetch,
    app,
    bundle,
    chat,
    cleanup,
    metrics,
    shutdown: () => {
      stopping.abort();
      void cleanup.stop();
    },
  };
}
