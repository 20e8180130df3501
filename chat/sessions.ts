// Sessions: a signed, HttpOnly, SameSite=Lax cookie naming a server-side session of a member.
import type { Context } from "hono";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";
import { deleteCookie, setSignedCookie } from "hono/cookie";
import { type Member, type Session, type Store, StoreUnavailableError } from "../db/store.ts";
import { getState } from "../runtime/mod.ts";
import { ChatError } from "./chat_error.ts";
import { generateName } from "./member_names.ts";
import { isHttps } from "../http/client_address.ts";
import type { ParleyConfig } from "../fresh.config.ts";

/** The session cookie's name. */
export const SESSION_COOKIE = "parley_session";
const TOUCH_EVERY_MS = 5 * 60_000;
const COOKIE_MAX_AGE_S = 400 * 24 * 3600;
/** Cookies whose signature check is remembered (the oldest are forgotten first). */
const VERIFIED_COOKIES = 10_000;

/** What the session middleware puts in the request state. */
export interface SessionState {
  member?: Member;
  session?: Session;
  /** Set when a cookie was sent but is forged, tampered with or unknown. */
  sessionRejected?: boolean;
}

/** The SHA-256 of a session or invitation token, as stored (tokens themselves are not). */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/**
 * The value of a cookie signed by Hono's `setSignedCookie` (`value.base64(HMAC-SHA256)`), or
 * null when the signature does not match. Verified with node:crypto, synchronously: Hono's
 * `getSignedCookie` imports the key anew on every call, a fifth of the cost of a poll.
 */
export function verifySigned(signed: string, secret: string): string | null {
  const dot = signed.lastIndexOf(".");
  if (dot < 1) return null;
  const value = signed.slice(0, dot);
  const signature = signed.slice(dot + 1);
  // Exactly the base64 of 32 bytes: Buffer's decoder would skip stray characters.
  if (!/^[A-Za-z0-9+/]{43}=$/.test(signature)) return null;
  const given = Buffer.from(signature, "base64");
  const expected = createHmac("sha256", secret).update(value).digest();
  return given.length === expected.length && timingSafeEqual(given, expected) ? value : null;
}

/** A new random token (256 bits, base64url). */
export function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(
    /\//g,
    "_",
  ).replace(/=+$/, "");
}

/** Starts a new session for a member and sets its cookie. */
export async function startSession(
  c: Context,
  options: { store: Store; secret: string; memberId: number },
): Promise<Session> {
  const token = newToken();
  const session = await options.store.createSession(options.memberId, hashToken(token));
  await setSignedCookie(c, SESSION_COOKIE, token, options.secret, {
    path: "/",
    httpOnly: true,
    sameSite: "Lax",
    // Behind a TLS proxy the request URL says http: the public URL or the proxy knows better.
    secure: isHttps(c, getState<{ config?: ParleyConfig }>(c).config ?? { proxyHops: 0 }),
    maxAge: COOKIE_MAX_AGE_S,
  });
  return session;
}

/** Creates a guest member with a generated name and a session for it, and sets the cookie. */
export async function startGuestSession(
  c: Context,
  options: { store: Store; secret: string },
): Promise<Session> {
  const member = await options.store.createMember(generateName());
  return await startSession(c, { ...options, memberId: member.id });
}

/** Ends the request's session (if any) and clears the cookie. */
export async function endSession(c: Context, store: Store, session?: Session): Promise<void> {
  if (session) await store.deleteSession(session.id);
  deleteCookie(c, SESSION_COOKIE, { path: "/" });
}

/** Finds the session a cookie names (see {@link sessionResolver}). */
export type SessionResolver = (cookie: string | undefined) => Promise<SessionState>;

/**
 * Finds the session named by a session cookie's value, if it is validly signed, known and was
 * used within `idleMs` (an idle session is ended); touches it every few minutes. Remembers
 * which cookies it checked: the same cookie comes with every request of a tab, and checking
 * its signature costs two hashes.
 */
export function sessionResolver(
  options: { store: Store; secret: string; idleMs: number },
): SessionResolver {
  // Signed cookie → the hash of its token, or null when the signature is wrong.
  const hashes = new Map<string, string | null>();
  const tokenHashOf = (cookie: string): string | null => {
    let hash = hashes.get(cookie);
    if (hash === undefined) {
      const token = verifySigned(cookie, options.secret);
      hash = token === null ? null : hashToken(token);
      if (hashes.size >= VERIFIED_COOKIES) hashes.delete(hashes.keys().next().value!);
      hashes.set(cookie, hash);
    }
    return hash;
  };
  return async (cookie) => {
    if (cookie === undefined) return {};
    const tokenHash = tokenHashOf(cookie);
    // Sent but unsigned, tampered with, or signed with another secret.
    if (tokenHash === null) return { sessionRejected: true };
    const session = await options.store.getSession(tokenHash);
    if (!session) return { sessionRejected: true };
    const now = Date.now();
    if (now - session.lastSeenAt > options.idleMs) {
      await options.store.deleteSession(session.id);
      return { sessionRejected: true };
    }
    if (now - session.lastSeenAt > TOUCH_EVERY_MS) {
      // Best effort: with the disk full, members can still read (the next request retries).
      await options.store.touchSession(session.id, now).catch((error) => {
        if (!(error instanceof StoreUnavailableError)) throw error;
      });
    }
    return { session, member: session.member };
  };
}

/**
 * The member of the request's session; 401 when there is no valid session cookie, or when
 * the site is members-only (`guests` false) and the session has no account.
 */
export function requireMember(state: SessionState, policy?: { guests: boolean }): Member {
  if (state.member && (policy?.guests !== false || state.session?.account)) return state.member;
  if (state.member) {
    throw new ChatError(401, "account_required", "This Parley is for members only; log in.");
  }
  throw new ChatError(
    401,
    state.sessionRejected ? "invalid_session" : "no_session",
    state.sessionRejected
      ? "Your session cookie is not valid; reload the page to get a new one."
      : "You need a session; open Parley in the browser first.",
  );
}
