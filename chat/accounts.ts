// Accounts: registration (open or by invitation), login with session rotation, logout, passwords.
import type { Context } from "hono";
import type { Account, Credentials, Registration, Session, Store } from "../db/store.ts";
import { ChatError } from "./chat_error.ts";
import { hashPassword, verifyPassword } from "./passwords.ts";
import { type Limiters, localLimiters, type RateLimit } from "./limiters.ts";
import { hashToken, newToken, startSession } from "./sessions.ts";

/** Who may do what: the site's policy. */
export interface AccountPolicy {
  /** `open`: anyone registers; `invite`: only with an admin's invitation. */
  registration: "open" | "invite";
  /** Whether people without an account may read and write. */
  guests: boolean;
  /** How long an invitation stays valid, in ms. */
  inviteTtlMs: number;
  /** New guests one address may start per minute. */
  newGuestsPerMinute: number;
}

const USERNAME = /^[A-Za-z0-9_-]{3,32}$/;
const MIN_PASSWORD = 10;
const MAX_PASSWORD = 1024;
const GENERIC_LOGIN_ERROR = "That username and password do not match an account.";
const LOGIN_WINDOW_MS = 10 * 60_000;
/** Failed logins for one username from one address, per window, before that pair is locked. */
const FAILURES_PER_USERNAME_AND_ADDRESS = 10;
/** Failed logins from one address (any usernames), per window, before it is locked. */
const FAILURES_PER_ADDRESS = 30;
/** Failed logins for one username (any addresses), per window, before every attempt is slowed. */
const FAILURES_PER_USERNAME = 10;
/** How long each attempt on a username under attack waits before its answer. */
export const LOGIN_SLOWDOWN_MS = 1000;

/** Why a registration was refused, as the API tells it. */
function refusal(reason: Exclude<Registration, { ok: true }>["reason"]): ChatError {
  switch (reason) {
    case "username_taken":
      return new ChatError(409, "username_taken", "That username is taken.");
    case "invite_required":
      return new ChatError(
        403,
        "invite_required",
        "Registration needs an invitation from an admin, and this one is missing, used or expired.",
      );
    case "already_registered":
      return new ChatError(
        409,
        "already_registered",
        "You already have an account; log out first.",
      );
    case "no_member":
      return new ChatError(401, "no_member", "Your session has no member; reload the page.");
  }
}

/** 403 `banned`: an admin banned this member; they can no longer log in or post. */
export function bannedError(): ChatError {
  return new ChatError(
    403,
    "banned",
    "This account has been banned by an admin of this Parley; it can no longer log in or post.",
  );
}

function checkPassword(password: string): void {
  const length = [...password].length;
  if (length < MIN_PASSWORD) {
    throw new ChatError(
      400,
      "weak_password",
      `A password needs at least ${MIN_PASSWORD} characters.`,
    );
  }
  if (length > MAX_PASSWORD) {
    throw new ChatError(
      400,
      "invalid_password",
      `A password can have at most ${MAX_PASSWORD} characters.`,
    );
  }
}

/** The account operations; one instance per app. */
export type Accounts = ReturnType<typeof createAccounts>;

/**
 * Creates the account operations over a store. Failed logins are counted per username and
 * address (10 per 10 min lock that pair out: 429), per address (30) and per username from
 * anywhere (past 10, each attempt is slowed by {@link LOGIN_SLOWDOWN_MS}, never refused, so
 * that others cannot lock the owner out); successful logins do not count.
 */
export function createAccounts(
  options: {
    store: Store;
    secret: string;
    policy: AccountPolicy;
    /** Registrations one address may attempt per hour (default 10). */
    registrationsPerHour?: number;
    /** Where rate limits are counted (default: this worker's memory). */
    limiters?: Limiters;
  },
) {
  const { store, secret, policy } = options;
  const limiters = options.limiters ?? localLimiters;
  const window = { windowMs: LOGIN_WINDOW_MS };
  const failuresByUsernameAndAddress = limiters.rate("login-failures-pair", {
    limit: FAILURES_PER_USERNAME_AND_ADDRESS,
    ...window,
  });
  const failuresByAddress = limiters.rate("login-failures-address", {
    limit: FAILURES_PER_ADDRESS,
    ...window,
  });
  const failuresByUsername = limiters.rate("login-failures-username", {
    limit: FAILURES_PER_USERNAME,
    ...window,
  });
  const failuresByMember = limiters.rate("password-failures-member", {
    limit: FAILURES_PER_USERNAME_AND_ADDRESS,
    ...window,
  });
  const registrationsByAddress = limiters.rate("registrations", {
    limit: options.registrationsPerHour ?? 10,
    windowMs: 3600_000,
  });
  const guestsByAddress = limiters.rate("new-guests", {
    limit: policy.newGuestsPerMinute,
    windowMs: 60_000,
  });
  // Checked against when the username is unknown, so both cases take as long.
  const decoy = hashPassword(crypto.randomUUID());

  /** Records an attempt for `key` at `now`, or refuses (429) when it is past the limit. */
  function limit(limiter: RateLimit, key: string, now: number): void {
    const wait = limiter.take(key, now);
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      throw new ChatError(
        429,
        "rate_limited",
        `Too many login attempts; try again in ${Math.ceil(seconds / 60)} min.`,
        { retryAfter: seconds },
      );
    }
  }

  /** Replaces the request's session with a new one for `memberId` (no session fixation). */
  async function rotate(c: Context, memberId: number, old?: Session): Promise<Session> {
    if (old) await store.deleteSession(old.id);
    return await startSession(c, { store, secret, memberId });
  }

  /**
   * Turns the current guest (keeping its name and history) into an account, or a new
   * member when there is no session; the session is rotated. Everything is checked and the
   * password hashed before anything is stored; the member, the account and the use of the
   * invitation are then stored together or not at all. Attempts that get as far as hashing
   * are limited per address (`registrationsPerHour`).
   */
  async function register(
    c: Context,
    current: Session | undefined,
    input: { username: string; password: string; invite?: string; address: string },
  ): Promise<{ session: Session; account: Account }> {
    if (!USERNAME.test(input.username)) {
      throw new ChatError(
        400,
        "invalid_username",
        "A username has 3 to 32 letters, digits, _ or -.",
      );
    }
    checkPassword(input.password);
    if (current?.account) throw refusal("already_registered");
    const usernameKey = input.username.toLowerCase();
    // Cheap refusals first, so that they cost no hash (the transaction checks them again).
    if (await store.findCredentials(usernameKey)) throw refusal("username_taken");
    const byInvitation = policy.registration === "invite";
    if (byInvitation && !input.invite && await store.countAccounts() > 0) {
      throw refusal("invite_required");
    }
    const now = Date.now();
    const wait = registrationsByAddress.take(input.address, now);
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      throw new ChatError(
        429,
        "rate_limited",
        `Too many registrations from your address; try again in ${Math.ceil(seconds / 60)} min.`,
        { retryAfter: seconds },
      );
    }
    let passwordHash: string;
    try {
      passwordHash = await hashPassword(input.password);
    } catch (error) {
      registrationsByAddress.forgive(input.address, now); // busy: the attempt did not happen
      throw error;
    }
    // By invitation, except the very first account (the admin who will invite the others).
    const result = await store.registerAccount({
      memberId: current?.member.id ?? null,
      name: input.username,
      username: input.username,
      usernameKey,
      passwordHash,
      invite: byInvitation
        ? { tokenHash: input.invite ? hashToken(input.invite) : null, now }
        : undefined,
    });
    if (!result.ok) throw refusal(result.reason);
    const session = await rotate(c, result.member.id, current);
    return { session, account: result.account };
  }

  /** Logs in; the session is rotated. Failures say nothing about which part was wrong. */
  async function login(
    c: Context,
    current: Session | undefined,
    input: { username: string; password: string; address: string },
  ): Promise<Session> {
    const key = input.username.toLowerCase();
    const pair = `${key}\n${input.address}`;
    const now = Date.now();
    // Each attempt counts as a failure until it succeeds (so that concurrent attempts count).
    limit(failuresByAddress, input.address, now);
    try {
      limit(failuresByUsernameAndAddress, pair, now);
    } catch (error) {
      failuresByAddress.forgive(input.address, now);
      throw error;
    }
    // Under attack from many addresses, the username is slowed down, not locked.
    if (failuresByUsername.take(key, now) > 0) {
      await new Promise((resolve) => setTimeout(resolve, LOGIN_SLOWDOWN_MS));
    }
    const forgive = () => {
      failuresByAddress.forgive(input.address, now);
      failuresByUsernameAndAddress.forgive(pair, now);
      failuresByUsername.forgive(key, now);
    };
    let found: Credentials | null;
    let matches: boolean;
    try {
      found = USERNAME.test(input.username) ? await store.findCredentials(key) : null;
      matches = await verifyPassword(input.password, found?.passwordHash ?? await decoy);
    } catch (error) {
      forgive(); // busy (503) or the database: not a wrong password
      throw error;
    }
    if (!found || !matches) throw new ChatError(401, "login_failed", GENERIC_LOGIN_ERROR);
    forgive();
    // Only once the password matched: a ban is nobody else's business.
    if (await store.isBanned(found.member.id)) throw bannedError();
    return await rotate(c, found.member.id, current);
  }

  /** Changes the password (the current one is required) and ends the member's other sessions. */
  async function changePassword(
    session: Session,
    input: { currentPassword: string; newPassword: string },
  ): Promise<number> {
    const stored = await store.getPasswordHash(session.member.id);
    if (!stored) throw new ChatError(403, "no_account", "Guests have no password; register first.");
    const now = Date.now();
    limit(failuresByMember, String(session.member.id), now);
    if (!await verifyPassword(input.currentPassword, stored)) {
      throw new ChatError(403, "wrong_password", "The current password is not right.");
    }
    failuresByMember.forgive(String(session.member.id), now);
    checkPassword(input.newPassword);
    await store.setPasswordHash(session.member.id, await hashPassword(input.newPassword));
    return await store.deleteSessions(session.member.id, session.id);
  }

  /** Creates an invitation (admins only); returns its secret token. */
  async function invite(
    session: Session | undefined,
  ): Promise<{ token: string; expiresAt: string }> {
    if (!session?.account?.isAdmin) {
      throw new ChatError(403, "admin_only", "Only an admin can create invitations.");
    }
    const token = newToken();
    const expiresAt = Date.now() + policy.inviteTtlMs;
    await store.createInvite({
      createdBy: session.member.id,
      tokenHash: hashToken(token),
      expiresAt,
    });
    return { token, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** Lets a new guest in from `address`, or refuses (429) past the limit per minute (bots). */
  function admitGuest(address: string): void {
    const wait = guestsByAddress.take(address);
    if (wait > 0) {
      throw new ChatError(
        429,
        "rate_limited",
        "Too many new visitors from your address; try again in a minute.",
        { retryAfter: Math.ceil(wait / 1000) },
      );
    }
  }

  return { policy, register, login, changePassword, invite, admitGuest };
}
