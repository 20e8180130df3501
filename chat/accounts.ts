// Accounts: registration (open or by invitation), login with session rotation, logout, passwords.
import type { Context } from "hono";
import type { Account, Member, Session, Store } from "../db/store.ts";
import { ChatError } from "./chat_error.ts";
import { hashPassword, verifyPassword } from "./passwords.ts";
import { RateLimiter } from "./rate_limiter.ts";
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

/** Creates the account operations over a store. */
export function createAccounts(
  options: { store: Store; secret: string; policy: AccountPolicy },
) {
  const { store, secret, policy } = options;
  const byUsername = new RateLimiter({ limit: 10, windowMs: 10 * 60_000 });
  const byAddress = new RateLimiter({ limit: 30, windowMs: 10 * 60_000 });
  const guestsByAddress = new RateLimiter({ limit: policy.newGuestsPerMinute, windowMs: 60_000 });
  // Checked against when the username is unknown, so both cases take as long.
  const decoy = hashPassword(crypto.randomUUID());

  function limit(limiter: RateLimiter, key: string): void {
    const wait = limiter.take(key);
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
   * member when there is no session; the session is rotated.
   */
  async function register(
    c: Context,
    current: Session | undefined,
    input: { username: string; password: string; invite?: string },
  ): Promise<{ session: Session; account: Account }> {
    if (!USERNAME.test(input.username)) {
      throw new ChatError(
        400,
        "invalid_username",
        "A username has 3 to 32 letters, digits, _ or -.",
      );
    }
    checkPassword(input.password);
    if (current?.account) {
      throw new ChatError(409, "already_registered", "You already have an account; log out first.");
    }
    const member: Member = current?.member ?? await store.createMember(input.username);
    // By invitation, except the very first account (the admin who will invite the others).
    if (policy.registration === "invite" && await store.countAccounts() > 0) {
      const used = input.invite &&
        await store.useInvite(hashToken(input.invite), member.id, Date.now());
      if (!used) {
        throw new ChatError(
          403,
          "invite_required",
          "Registration needs an invitation from an admin, and this one is missing, used or expired.",
        );
      }
    }
    const account = await store.registerAccount(member.id, {
      username: input.username,
      usernameKey: input.username.toLowerCase(),
      passwordHash: await hashPassword(input.password),
    });
    if (!account) throw new ChatError(409, "username_taken", "That username is taken.");
    const session = await rotate(c, member.id, current);
    return { session, account };
  }

  /** Logs in; the session is rotated. Failures say nothing about which part was wrong. */
  async function login(
    c: Context,
    current: Session | undefined,
    input: { username: string; password: string; address: string },
  ): Promise<Session> {
    const key = input.username.toLowerCase();
    limit(byAddress, input.address);
    limit(byUsername, key);
    const found = USERNAME.test(input.username) ? await store.findCredentials(key) : null;
    const matches = await verifyPassword(input.password, found?.passwordHash ?? await decoy);
    if (!found || !matches) throw new ChatError(401, "login_failed", GENERIC_LOGIN_ERROR);
    return await rotate(c, found.member.id, current);
  }

  /** Changes the password (the current one is required) and ends the member's other sessions. */
  async function changePassword(
    session: Session,
    input: { currentPassword: string; newPassword: string },
  ): Promise<number> {
    const stored = await store.getPasswordHash(session.member.id);
    if (!stored) throw new ChatError(403, "no_account", "Guests have no password; register first.");
    limit(byUsername, session.account?.username.toLowerCase() ?? String(session.member.id));
    if (!await verifyPassword(input.currentPassword, stored)) {
      throw new ChatError(403, "wrong_password", "The current password is not right.");
    }
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
