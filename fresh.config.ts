// The app's configuration: defaults, overridden by environment variables (see the README's table).
import { z } from "zod";
import { type ChatLimits, DEFAULT_LIMITS } from "./chat/limits.ts";
import type { AccountPolicy } from "./chat/accounts.ts";
import { DEFAULT_FILE_LIMITS, type FileLimits } from "./chat/files.ts";

/** Everything Parley can be configured with. */
export interface ParleyConfig {
  /** Port to listen on (`PORT`). */
  port: number;
  /** Address to listen on (`HOSTNAME`). */
  hostname: string;
  /** The SQLite file, used when no `DATABASE_URL` is set (`SQLITE_PATH`). */
  sqlitePath: string;
  /** PostgreSQL connection URL (`DATABASE_URL`); when set, PostgreSQL is used. */
  databaseUrl?: string;
  /** Cookie signing secret (`PARLEY_SECRET`); generated and stored with the data when unset. */
  secret?: string;
  /** Public origins allowed to send state-changing requests besides the request's own (`PARLEY_ORIGINS`). */
  trustedOrigins: string[];
  /** Where `deno task build` writes bundles; used when present (`PARLEY_BUILD_DIR`). */
  buildDir: string;
  /** Development mode: readable bundles, no prebuilt ones (`PARLEY_DEV=1`). */
  dev: boolean;
  /** Chat limits. */
  limits: ChatLimits;
  /** Who may register and whether guests may chat. */
  accounts: AccountPolicy;
  /** Sessions unused for this long end (`PARLEY_SESSION_IDLE_DAYS`), in ms. */
  sessionIdleMs: number;
  /**
   * How many proxies in front of Parley append to X-Forwarded-For (`PARLEY_TRUST_PROXY`: `0`
   * trusts no header, `1` the right-most entry, N the N-th from the right). With it, the
   * client address and `X-Forwarded-Proto` come from the proxy.
   */
  proxyHops: number;
  /** Whether any proxy is trusted (`proxyHops > 0`). */
  trustProxy: boolean;
  /**
   * The public URL (`PARLEY_PUBLIC_URL`, e.g. `https://chat.example.com`): when set it decides
   * the `Secure` cookie flag, is an allowed origin and host, and is the base of invitation links.
   */
  publicUrl?: string;
  /** Whether guests may create rooms (`PARLEY_GUEST_ROOMS=on`; default off). */
  guestRooms: boolean;
  /** Rooms one member may create per hour (`PARLEY_ROOMS_PER_HOUR`). */
  roomsPerHour: number;
  /** Registrations one address may make per hour (`PARLEY_REGISTRATIONS_PER_HOUR`). */
  registrationsPerHour: number;
  /** Guests with no messages and no live session are removed after this long, in ms. */
  guestRetentionMs: number;
  /** Connection limits and timeouts of the HTTP server. */
  server: ServerLimits;
  /** Uploads: limits, where SQLite keeps the bytes, how long unattached ones are kept. */
  files: FileSettings;
  /** Access log lines: one per request as text, as JSON, or none (`PARLEY_LOG`). */
  log: "text" | "json" | "off";
  /** The bearer token of `GET /metrics`; without it the endpoint does not exist (`PARLEY_METRICS_TOKEN`). */
  metricsToken?: string;
}

/** Upload settings (see the README's configuration table). */
export interface FileSettings extends FileLimits {
  /** Where SQLite keeps uploaded files, content-addressed (`PARLEY_FILES_DIR`). */
  dir: string;
  /** Uploads never attached to a message are removed after this, in ms. */
  retentionMs: number;
}

/** Limits that keep clients from exhausting the server's connections (see the README). */
export interface ServerLimits {
  /** Open connections in all (`PARLEY_MAX_CONNECTIONS`; default: from the open-files limit). */
  maxConnections?: number;
  /**
   * Open connections from one address (`PARLEY_MAX_CONNECTIONS_PER_ADDRESS`; default: a
   * quarter of `maxConnections`, at most 256).
   */
  maxConnectionsPerAddress?: number;
  /** Waiting long polls from one address (`PARLEY_MAX_POLLS_PER_ADDRESS`). */
  maxPollsPerAddress: number;
  /**
   * JavaScript workers serving the port (`PARLEY_WORKERS`; default: the number of cores, or
   * 1 when `/metrics` is on, since each worker counts its own).
   */
  workers: number;
  /** A connection with no request under way (idle, or slowly sending headers) closes after this, in ms (`PARLEY_IDLE_SECONDS`). */
  idleTimeoutMs: number;
  /** A request body must arrive within this, in ms (`PARLEY_BODY_SECONDS`); else 408. */
  bodyTimeoutMs: number;
  /** On SIGTERM/SIGINT, requests still running after this are cut off, in ms (`PARLEY_SHUTDOWN_SECONDS`). */
  shutdownTimeoutMs: number;
}

const DAY_MS = 24 * 3600 * 1000;
const MB = 1024 * 1024;
const positive = z.coerce.number().int().positive();
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  HOSTNAME: z.string().default("0.0.0.0"),
  SQLITE_PATH: z.string().min(1).default("data/parley.db"),
  DATABASE_URL: z.string().url().optional(),
  PARLEY_SECRET: z.string().min(16, "PARLEY_SECRET must have at least 16 characters").optional(),
  PARLEY_ORIGINS: z.string().default(""),
  PARLEY_BUILD_DIR: z.string().default("_build"),
  PARLEY_DEV: z.enum(["0", "1", "true", "false"]).default("0"),
  PARLEY_MAX_MESSAGE_CHARS: positive.default(DEFAULT_LIMITS.maxMessageChars),
  PARLEY_BURST_MESSAGES: positive.default(DEFAULT_LIMITS.burstMessages),
  PARLEY_BURST_SECONDS: positive.default(DEFAULT_LIMITS.burstWindowMs / 1000),
  PARLEY_GUESTS: z.enum(["on", "off"]).default("on"),
  PARLEY_REGISTRATION: z.enum(["open", "invite"]).default("open"),
  PARLEY_SESSION_IDLE_DAYS: positive.default(30),
  PARLEY_NEW_GUESTS_PER_MINUTE: positive.default(60),
  PARLEY_TRUST_PROXY: z.union([
    z.enum(["true", "false"]),
    z.string().regex(/^\d{1,2}$/, "PARLEY_TRUST_PROXY is 0, 1 or the number of proxies"),
  ]).default("0"),
  PARLEY_PUBLIC_URL: z.string().url().refine(
    (url) => /^https?:$/.test(new URL(url).protocol),
    "PARLEY_PUBLIC_URL must be an http or https URL",
  ).optional(),
  PARLEY_GUEST_ROOMS: z.enum(["on", "off"]).default("off"),
  PARLEY_ROOMS_PER_HOUR: positive.default(10),
  PARLEY_REGISTRATIONS_PER_HOUR: positive.default(10),
  PARLEY_GUEST_RETENTION_DAYS: positive.default(30),
  PARLEY_MAX_CONNECTIONS: positive.optional(),
  PARLEY_MAX_CONNECTIONS_PER_ADDRESS: positive.optional(),
  PARLEY_MAX_POLLS_PER_ADDRESS: positive.default(100),
  PARLEY_WORKERS: positive.max(256).optional(),
  PARLEY_IDLE_SECONDS: positive.default(30),
  PARLEY_BODY_SECONDS: positive.default(10),
  PARLEY_SHUTDOWN_SECONDS: positive.default(10),
  PARLEY_MAX_UPLOAD_MB: positive.default(DEFAULT_FILE_LIMITS.maxUploadBytes / MB),
  PARLEY_UPLOAD_MB_PER_DAY: positive.default(DEFAULT_FILE_LIMITS.uploadBytesPerDay / MB),
  PARLEY_FILES_DIR: z.string().min(1).default("data/files"),
  PARLEY_LOG: z.enum(["text", "json", "off"]).default("text"),
  PARLEY_METRICS_TOKEN: z.string().min(16, "PARLEY_METRICS_TOKEN must have at least 16 characters")
    .optional(),
  PARLEY_POLL_WAIT: positive.max(DEFAULT_LIMITS.maxWaitSeconds).default(
    DEFAULT_LIMITS.pollWaitSeconds,
  ),
});

/**
 * Reads the configuration from environment variables; throws one readable error listing
 * every invalid variable.
 */
export function loadConfig(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): ParleyConfig {
  const blankless = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ""),
  );
  const parsed = envSchema.safeParse(blankless);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const proxyHops = e.PARLEY_TRUST_PROXY === "true"
    ? 1
    : e.PARLEY_TRUST_PROXY === "false"
    ? 0
    : Number(e.PARLEY_TRUST_PROXY);
  return {
    port: e.PORT,
    hostname: e.HOSTNAME,
    sqlitePath: e.SQLITE_PATH,
    databaseUrl: e.DATABASE_URL,
    secret: e.PARLEY_SECRET,
    trustedOrigins: e.PARLEY_ORIGINS.split(",").map((o) => o.trim()).filter(Boolean),
    buildDir: e.PARLEY_BUILD_DIR,
    dev: e.PARLEY_DEV === "1" || e.PARLEY_DEV === "true",
    limits: {
      ...DEFAULT_LIMITS,
      maxMessageChars: e.PARLEY_MAX_MESSAGE_CHARS,
      burstMessages: e.PARLEY_BURST_MESSAGES,
      burstWindowMs: e.PARLEY_BURST_SECONDS * 1000,
      pollWaitSeconds: e.PARLEY_POLL_WAIT,
    },
    accounts: {
      guests: e.PARLEY_GUESTS === "on",
      registration: e.PARLEY_REGISTRATION,
      inviteTtlMs: 7 * 24 * 3600 * 1000,
      newGuestsPerMinute: e.PARLEY_NEW_GUESTS_PER_MINUTE,
    },
    sessionIdleMs: e.PARLEY_SESSION_IDLE_DAYS * DAY_MS,
    proxyHops,
    trustProxy: proxyHops > 0,
    publicUrl: e.PARLEY_PUBLIC_URL ? new URL(e.PARLEY_PUBLIC_URL).origin : undefined,
    guestRooms: e.PARLEY_GUEST_ROOMS === "on",
    roomsPerHour: e.PARLEY_ROOMS_PER_HOUR,
    registrationsPerHour: e.PARLEY_REGISTRATIONS_PER_HOUR,
    guestRetentionMs: e.PARLEY_GUEST_RETENTION_DAYS * DAY_MS,
    server: {
      maxConnections: e.PARLEY_MAX_CONNECTIONS,
      maxConnectionsPerAddress: e.PARLEY_MAX_CONNECTIONS_PER_ADDRESS,
      maxPollsPerAddress: e.PARLEY_MAX_POLLS_PER_ADDRESS,
      workers: e.PARLEY_WORKERS ??
        (e.PARLEY_METRICS_TOKEN ? 1 : Math.max(1, navigator.hardwareConcurrency || 1)),
      idleTimeoutMs: e.PARLEY_IDLE_SECONDS * 1000,
      bodyTimeoutMs: e.PARLEY_BODY_SECONDS * 1000,
      shutdownTimeoutMs: e.PARLEY_SHUTDOWN_SECONDS * 1000,
    },
    log: e.PARLEY_LOG,
    metricsToken: e.PARLEY_METRICS_TOKEN,
    files: {
      ...DEFAULT_FILE_LIMITS,
      maxUploadBytes: e.PARLEY_MAX_UPLOAD_MB * MB,
      uploadBytesPerDay: e.PARLEY_UPLOAD_MB_PER_DAY * MB,
      dir: e.PARLEY_FILES_DIR,
      retentionMs: DAY_MS,
    },
  };
}
