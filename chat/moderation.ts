// Admin and moderation: members (ban, admin rights, erasing their messages), rooms (archive, delete), the audit log.
import type {
  AdminMember,
  AdminRoom,
  AuditEntry,
  Member,
  OpenInvite,
  Room,
  Store,
} from "../db/store.ts";
import type { ParleyConfig } from "../fresh.config.ts";
import { ChatError } from "./chat_error.ts";
import type { SessionState } from "./sessions.ts";

/** Members the admin page lists at most per search. */
export const ADMIN_MEMBER_LIMIT = 200;
/** Rooms the admin page lists at most. */
export const ADMIN_ROOM_LIMIT = 500;
/** Audit entries per page. */
export const AUDIT_PAGE = 50;

/** The admin of a request: the member, for the audit log. */
export interface Admin {
  member: Member;
}

/**
 * The admin of the request's session; 401 without a valid session, 403 `forbidden` for
 * anyone who is not an admin (guests and members).
 */
export function requireAdmin(state: SessionState): Admin {
  if (!state.member) {
    throw new ChatError(
      401,
      state.sessionRejected ? "invalid_session" : "no_session",
      "You need to log in as an admin.",
    );
  }
  if (!state.session?.account?.isAdmin) {
    throw new ChatError(403, "forbidden", "Only an admin of this Parley can do this.");
  }
  return { member: state.member };
}

/** A `DATABASE_URL` without its password (`***` in its place). */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.href;
  } catch {
    return "(not a URL)";
  }
}

const SECRET_KEY = /secret|token|password/i;

/** A copy of a settings object with every secret replaced by `set` or `not set`. */
function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map((
      [key, inner],
    ) => [key, SECRET_KEY.test(key) ? (inner ? "set" : "not set") : redact(inner)]),
  );
}

/**
 * The instance's effective settings (from the environment and defaults) as the admin page
 * shows them: secrets (`PARLEY_SECRET`, `PARLEY_METRICS_TOKEN`, anything named like a secret,
 * token or password) only as `set` or `not set`, the database URL without its password.
 */
export function effectiveSettings(config: ParleyConfig): Record<string, unknown> {
  const { databaseUrl, ...rest } = config;
  const settings = redact(JSON.parse(JSON.stringify(rest))) as Record<string, unknown>;
  return {
    database: databaseUrl ? "postgres" : "sqlite",
    databaseUrl: databaseUrl ? withoutPassword(databaseUrl) : "not set",
    ...settings,
    secret: config.secret ? "set" : "not set (generated and kept in the database)",
    metricsToken: config.metricsToken ? "set" : "not set",
  };
}

/** The moderation operations; one instance per app. */
export type Moderation = ReturnType<typeof createModeration>;

/** Creates the moderation operations over a store; every change is written to the audit log. */
export function createModeration(options: { store: Store; config: ParleyConfig }) {
  const { store, config } = options;

  async function audit(
    admin: Admin,
    action: string,
    target: { kind: string; id: string | number },
    detail: Record<string, unknown> = {},
  ): Promise<void> {
    await store.recordAudit({
      at: Date.now(),
      actorId: admin.member.id,
      action,
      targetKind: target.kind,
      targetId: String(target.id),
      detail,
    });
  }

  async function member(id: number): Promise<Member> {
    const found = await store.getMember(id);
    if (!found) throw new ChatError(404, "member_not_found", `There is no member ${id}.`);
    return found;
  }

  async function room(slug: string): Promise<Room> {
    const found = await store.getRoom(slug);
    if (!found) throw new ChatError(404, "room_not_found", `There is no room ${slug}.`);
    return found;
  }

  /** Members (accounts and guests) whose name or username contains `query`, newest first. */
  function members(query = ""): Promise<AdminMember[]> {
    return store.listAdminMembers({ query: query.trim(), limit: ADMIN_MEMBER_LIMIT });
  }

  /** Every public and private room, by name. */
  function rooms(): Promise<AdminRoom[]> {
    return store.listAdminRooms(ADMIN_ROOM_LIMIT);
  }

  /** Bans a member: every session of theirs ends at once; they can no longer log in or post. */
  async function ban(admin: Admin, id: number): Promise<{ sessionsEnded: number }> {
    if (id === admin.member.id) {
      throw new ChatError(400, "cannot_ban_yourself", "You cannot ban yourself.");
    }
    const target = await member(id);
    const sessionsEnded = await store.banMember(id, Date.now()) ?? 0;
    await audit(admin, "member.ban", { kind: "member", id }, {
      name: target.name,
      sessionsEnded,
    });
    return { sessionsEnded };
  }

  /** Lifts a member's ban. */
  async function unban(admin: Admin, id: number): Promise<{ wasBanned: boolean }> {
    const target = await member(id);
    const wasBanned = await store.unbanMember(id);
    await audit(admin, "member.unban", { kind: "member", id }, { name: target.name, wasBanned });
    return { wasBanned };
  }

  /** Makes an account an admin or not; the last admin cannot step down. */
  async function setAdmin(admin: Admin, id: number, isAdmin: boolean): Promise<void> {
    const target = await member(id);
    if (!isAdmin && id === admin.member.id && await store.countAdmins() <= 1) {
      throw new ChatError(
        409,
        "last_admin",
        "You are the last admin: make someone else an admin first.",
      );
    }
    if (!await store.setAdmin(id, isAdmin)) {
      throw new ChatError(400, "not_an_account", "Only a registered account can be an admin.");
    }
    await audit(admin, isAdmin ? "member.promote" : "member.demote", { kind: "member", id }, {
      name: target.name,
    });
  }

  /** Deletes every message of a member, erased as single deletions are. */
  async function deleteMessages(admin: Admin, id: number): Promise<{ deleted: number }> {
    const target = await member(id);
    const deleted = await store.deleteMessagesBy(id, Date.now());
    await audit(admin, "member.delete_messages", { kind: "member", id }, {
      name: target.name,
      deleted,
    });
    return { deleted };
  }

  /** Archives a room: it stays readable, nobody can post, edit or react in it. */
  async function archiveRoom(admin: Admin, slug: string): Promise<Room> {
    const target = await room(slug);
    await store.archiveRoom(target.id, Date.now());
    await audit(admin, "room.archive", { kind: "room", id: slug }, { name: target.name });
    return { ...target, archived: true };
  }

  /**
   * Deletes a room with its messages and files; `confirm` must be the room's slug (a typed
   * confirmation, as the admin page asks for).
   */
  async function deleteRoom(admin: Admin, slug: string, confirm: string): Promise<void> {
    const target = await room(slug);
    if (confirm !== target.slug) {
      throw new ChatError(
        400,
        "confirmation_mismatch",
        `To delete this room, confirm with its name: ${target.slug}.`,
      );
    }
    if (target.slug === "general") {
      throw new ChatError(400, "cannot_delete_general", "The general room cannot be deleted.");
    }
    await store.deleteRoom(target.id);
    await audit(admin, "room.delete", { kind: "room", id: slug }, {
      name: target.name,
      kind: target.kind,
    });
  }

  /** The invitations not used and not expired. */
  function invites(): Promise<OpenInvite[]> {
    return store.listOpenInvites(Date.now());
  }

  /** A page of the audit log, newest first. */
  function auditLog(before?: number): Promise<AuditEntry[]> {
    return store.listAuditLog({ before, limit: AUDIT_PAGE });
  }

  return {
    members,
    rooms,
    ban,
    unban,
    setAdmin,
    deleteMessages,
    archiveRoom,
    deleteRoom,
    invites,
    settings: () => effectiveSettings(config),
    auditLog,
  };
}
