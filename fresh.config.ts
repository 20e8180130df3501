// The app's configuration: defaults, overridden by environment variables (see the README's table).
import { z } from "zod";
import { type ChatLimits, DEFAULT_LIMITS } from "./chat/limits.ts";
import type { AccountPolicy } from "./chat/accounts.ts";

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
  /** Take the client's address from X-Forwarded-For (`PARLEY_TRUST_PROXY=1`, behind a proxy). */
  trustProxy: boolean;
}

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
  PARLEY_TRUST_PROXY: z.enum(["0", "1", "true", "false"]).default("0"),
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
    sessionIdleMs: e.PARLEY_SESSION_IDLE_DAYS * 24 * 3600 * 1000,
    trustProxy: e.PARLEY_TRUST_PROXY === "1" || e.PARLEY_TRUST_PROXY === "true",
  };
}
