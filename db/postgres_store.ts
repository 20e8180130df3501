// The PostgreSQL store on npm:postgres: shared by several instances, woken across them by LISTEN/NOTIFY.
import postgres from "postgres";
import { POSTGRES_MIGRATIONS } from "./migrations/postgres.ts";
import { RoomEvents } from "./room_events.ts";
import { CachedRows } from "./cached_rows.ts";
import { ChangeCounters } from "./read_cache.ts";
import {
  ADMIN_MEMBER_COLUMNS,
  ADMIN_ROOM_COLUMNS,
  AUDIT_COLUMNS,
  containsPattern,
  FILE_COLUMNS,
  groupAttachments,
  groupReactions,
  isContentKey,
  MESSAGE_COLUMNS,
  MESSAGE_JOINS,
  newFileId,
  ROOM_COLUMNS,
  type Row,
  sortedIds,
  toAdminMember,
  toAdminRoom,
  toAuditEntry,
  toMember,
  toMessage,
  toOpenInvite,
  toRoom,
  toSession,
  toStoredFile,
  toSummary,
} from "./rows.ts";
import { searchPostgres } from "./postgres_search.ts";
import {
  dropChunks,
  keepChunks,
  lockContents,
  readChunks,
  receiveChunks,
  type ReceivedChunks,
  releaseContents,
} from "./postgres_files.ts";
import {
  type AdminMember,
  type AdminRoom,
  AttachmentError,
  type AuditEntry,
  type ByteRange,
  type Credentials,
  type HistoryQuery,
  type Member,
  type MemberSummary,
  type Message,
  type MessageChange,
  type MessagePage,
  type MessageWaiter,
  type MyRoom,
  type NewAccount,
  type NewAuditEntry,
  type NewFile,
  type NewMessage,
  type NewPreview,
  type NewRoom,
  type OpenInvite,
  type PruneCounts,
  type PruneOptions,
  type PublicRoomQuery,
  type ReactionChange,
  type Registration,
  type Room,
  type SearchQuery,
  type Session,
  type Store,
  type StoredFile,
  StoreUnavailableError,
  type TypingSignal,
} from "./store.ts";
import { type Querier, transaction } from "./postgres_transaction.ts";

type Sql = ReturnType<typeof postgres>;

/** Sessions and rooms kept in memory, and for how long at most (changes drop them at once). */
/** Short: a change on another instance missed while the listening connection was down costs this long. */
const CACHE_AGE_MS = 5_000;
/** Notifications that cached sessions or rooms changed (not a `room:seq`, a `gone:` or an `m:`). */
const SESSIONS_CHANGED = "sessions";
const ROOMS_CHANGED = "rooms";

/** Options for {@link PostgresStore.open}. */
export interface PostgresOptions {
  /** A schema to keep the tables in (tests use one each); default `public`. */
  schema?: string;
  /** Connections in the pool. */
  max?: number;
}

/** Thrown to roll back a transaction that turned out to change nothing. */
const UNCHANGED = Symbol("unchanged");

const MIGRATION_LOCK = 72_616_100; // any constant: serializes migrations across instances
const PRUNE_LOCK = 72_616_101; // one instance prunes at a time; the others skip
const REGISTRATION_LOCK = 72_616_102; // serializes registrations (first account, invitations)
// (72_616_103 keys the content locks of postgres_files.ts.)
/** Messages a bulk deletion erases per transaction. */
const DELETE_BATCH = 100;
/** How long unattached uploads are kept by default. */
const UPLOAD_RETENTION_MS = 24 * 3600_000;
/** Contents no file has are removed after this (left by an upload cut off by a crash). */
const ORPHAN_MS = 3600_000;
const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
]);

/** Whether an error means the database cannot be reached right now. */
export function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== "string") {
    return error instanceof Error && /connection refused|connect ECONNREFUSED/i.test(error.message);
  }
  // 08: connection exceptions; 53: insufficient resources (53100 disk full, 53300 too many
  // connections); 25006: a read-only database (a standby, default_transaction_read_only).
  return UNAVAILABLE_CODES.has(code) || code.startsWith("08") || code.startsWith("53") ||
    code === "25006";
}

/** Applies the migrations a database has not had yet, one instance at a time. */
export async function migratePostgres(sql: Sql, schema?: string): Promise<void> {
  await transaction(sql, async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    if (schema) await tx`CREATE SCHEMA IF NOT EXISTS ${tx(schema)}`;
    await tx`CREATE TABLE IF NOT EXISTS parley_schema (version INTEGER NOT NULL)`;
    const [row] = await tx`SELECT version FROM parley_schema`;
    const version = row ? Number(row.version) : 0;
    if (version > POSTGRES_MIGRATIONS.length) {
      throw new Error(
        `The database is at schema version ${version}, newer than this Parley knows (${POSTGRES_MIGRATIONS.length})`,
      );
    }
    for (let v = version; v < POSTGRES_MIGRATIONS.length; v++) {
      await tx.unsafe(POSTGRES_MIGRATIONS[v]);
    }
    if (row) await tx`UPDATE parley_schema SET version = ${POSTGRES_MIGRATIONS.length}`;
    else await tx`INSERT INTO parley_schema (version) VALUES (${POSTGRES_MIGRATIONS.length})`;
  });
}

/** A {@link Store} on PostgreSQL; several instances may share one database. */
export class PostgresStore implements Store {
  readonly kind = "postgres";
  readonly sql: Sql;
  readonly events = new RoomEvents();
  /**
   * Sessions by token hash and rooms by slug (and `#<id>`), dropped whenever one changes:
   * here at once, on the other instances when the notification arrives (as messages do).
   */
  #cached = new CachedRows({ counters: new ChangeCounters(), maxAgeMs: CACHE_AGE_MS });
  readonly channel: string;
  #unlisten?: () => Promise<void>;
  /** The channel of typing signals (ephemeral: NOTIFY only, never stored). */
  readonly typingChannel: string;
  #unlistenTyping?: () => Promise<void>;
  #typing = new Set<(signal: TypingSignal) => void>();

  private constructor(sql: Sql, channel: string) {
    this.sql = sql;
    this.channel = channel;
    this.typingChannel = channel.replace("parley_messages", "parley_typing");
  }

  /** Connects, migrates, and starts listening for messages stored by any instance. */
  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresStore> {
    const schema = options.schema;
    const sql = postgres(url, {
      max: options.max ?? 10,
      onnotice: () => {},
      connection: schema ? { search_path: schema } : {},
      connect_timeout: 5,
    });
    const store = new PostgresStore(sql, schema ? `parley_messages_${schema}` : "parley_messages");
    try {
      await migratePostgres(sql, schema);
      let listened = false;
      const subscription = await sql.listen(
        store.channel,
        (payload) => store.#notified(payload),
        () => {
          // After a reconnect, notifications sent meanwhile are lost: every reader reads again,
          // and the numbers learnt before are not trusted.
          if (listened) {
            store.events.forget();
            store.events.wakeAll();
            store.#cached.dropSessions();
            store.#cached.dropRooms();
          }
          listened = true;
        },
      );
      store.#unlisten = () => subscription.unlisten();
      const typing = await sql.listen(
        store.typingChannel,
        (payload) => store.#typingNotified(payload),
      );
      store.#unlistenTyping = () => typing.unlisten();
    } catch (error) {
      await sql.end({ timeout: 1 });
      throw isUnavailable(error)
        ? new StoreUnavailableError("PostgreSQL is unavailable", { cause: error })
        : error;
    }
    return store;
  }

  /** The columns {@link toRoom} reads, as an SQL fragment. */
  #roomColumns() {
    return this.sql.unsafe(ROOM_COLUMNS);
  }

  /**
   * A notification `room_id:seq`: change `seq` was committed in room `room_id`; or
   * `m:member_id:at`: the member was added to a room at `at` (ms; the time the adding
   * instance recorded, so that its own wake-up and the notification carry the same value); or
   * `gone:room_id`: the room was deleted; or {@link SESSIONS_CHANGED} / {@link ROOMS_CHANGED}:
   * cached sessions or rooms are stale.
   */
  #notified(payload: string): void {
    if (payload === SESSIONS_CHANGED) return this.#cached.dropSessions();
    if (payload === ROOMS_CHANGED) return this.#cached.dropRooms();
    if (payload.startsWith("gone:")) {
      const room = Number(payload.slice(5));
      if (Number.isSafeInteger(room)) this.events.closed(room);
      return;
    }
    if (payload.startsWith("m:")) {
      const [member, at] = payload.slice(2).split(":").map(Number);
      if (Number.isSafeInteger(member) && member > 0) {
        this.events.memberAdded(member, Number.isSafeInteger(at) ? at : Date.now());
      }
      return;
    }
    const [room, seq] = payload.split(":").map(Number);
    if (Number.isFinite(room) && Number.isFinite(seq)) this.events.published(room, seq);
  }

  /**
   * Runs a write to sessions or members, then drops the cached sessions here and tells the
   * other instances to (after the write: a read in between would cache the old row).
   */
  #sessionsChange<T>(write: () => Promise<T>): Promise<T> {
    return write().finally(() => {
      this.#cached.dropSessions();
      return this.#tell(SESSIONS_CHANGED);
    });
  }

  /** Runs a write to rooms, then drops the cached rooms here and on the other instances. */
  #roomsChange<T>(write: () => Promise<T>): Promise<T> {
    return write().finally(() => {
      this.#cached.dropRooms();
      return this.#tell(ROOMS_CHANGED);
    });
  }

  /** Notifies every instance (this one too); a failure only costs them the cache's age. */
  async #tell(payload: string): Promise<void> {
    try {
      await this.sql`SELECT pg_notify(${this.channel}, ${payload})`;
    } catch (error) {
      console.warn(`Could not tell the other instances that ${payload}: ${error}`);
    }
  }

  async #run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isUnavailable(error)) {
        throw new StoreUnavailableError("PostgreSQL is unavailable", { cause: error });
      }
      throw error;
    }
  }

  getSetting(key: string): Promise<string | null> {
    return this.#run(async () => {
      const [row] = await this.sql`SELECT value FROM settings WHERE key = ${key}`;
      return row ? String(row.value) : null;
    });
  }

  initSetting(key: string, value: string): Promise<string> {
    return this.#run(async () => {
      await this.sql`INSERT INTO settings (key, value) VALUES (${key}, ${value})
        ON CONFLICT (key) DO NOTHING`;
      const [row] = await this.sql`SELECT value FROM settings WHERE key = ${key}`;
      return String(row.value);
    });
  }

  getRoom(slug: string): Promise<Room | null> {
    return this.#cached.room(slug, () =>
      this.#run(async () => {
        const [row] = await this.sql`SELECT ${this.#roomColumns()} FROM rooms
          WHERE slug = ${slug}`;
        return row ? toRoom(row) : null;
      }));
  }

  getRoomById(id: number): Promise<Room | null> {
    return this.#cached.room(`#${id}`, () =>
      this.#run(async () => {
        const [row] = await this.sql`SELECT ${this.#roomColumns()} FROM rooms WHERE id = ${id}`;
        return row ? toRoom(row) : null;
      }));
  }

  createRoom(input: NewRoom): Promise<Room | null> {
    return this.#run(async () => {
      try {
        return await transaction(this.sql, async (tx) => {
          const [row] = await tx`
            INSERT INTO rooms (slug, name, topic, kind, created_by, direct_key, created_at)
            VALUES (${input.slug}, ${input.name}, ${input.topic}, ${input.kind},
                    ${input.createdBy}, ${input.directKey ?? null}, ${Date.now()})
            RETURNING ${tx.unsafe(ROOM_COLUMNS)}`;
          await tx`INSERT INTO room_members (room_id, member_id, joined_at)
            VALUES (${row.id}, ${input.createdBy}, ${Date.now()})`;
          return toRoom(row);
        });
      } catch (error) {
        if ((error as { code?: string }).code === "23505") return null;
        throw error;
      }
    });
  }

  setRoomTopic(roomId: number, topic: string): Promise<Room | null> {
    return this.#roomsChange(() =>
      this.#run(async () => {
        const [row] = await this.sql`UPDATE rooms SET topic = ${topic} WHERE id = ${roomId}
        RETURNING ${this.sql.unsafe(ROOM_COLUMNS)}`;
        return row ? toRoom(row) : null;
      })
    );
  }

  getDirectRoom(directKey: string): Promise<Room | null> {
    return this.#run(async () => {
      const [row] = await this.sql`SELECT ${this.#roomColumns()} FROM rooms
        WHERE direct_key = ${directKey}`;
      return row ? toRoom(row) : null;
    });
  }

  listPublicRooms(options: PublicRoomQuery): Promise<Room[]> {
    return this.#run(async () => {
      const member = options.notJoinedBy ?? null;
      const pattern = options.query ? containsPattern(options.query) : null;
      const rows = await this.sql`SELECT ${this.#roomColumns()} FROM rooms r
        WHERE kind = 'public'
          AND (${member}::bigint IS NULL OR NOT EXISTS (
            SELECT 1 FROM room_members rm WHERE rm.room_id = r.id AND rm.member_id = ${member}))
          AND (${pattern}::text IS NULL OR lower(name) LIKE ${pattern})
        ORDER BY coalesce((SELECT max(m.id) FROM messages m WHERE m.room_id = r.id), 0) DESC,
          r.id DESC
        LIMIT ${options.limit}`;
      return rows.map(toRoom);
    });
  }

  listMyRooms(memberId: number, unreadCap: number): Promise<MyRoom[]> {
    return this.#run(async () => {
      const rows = await this.sql`
        SELECT r.id, r.slug, r.topic, r.kind, r.created_by, r.last_seq, rm.last_read_id,
          CASE WHEN r.kind = 'direct' THEN coalesce((
            SELECT o.name FROM room_members x JOIN members o ON o.id = x.member_id
            WHERE x.room_id = r.id AND x.member_id != rm.member_id LIMIT 1), r.name)
          ELSE r.name END AS name,
          (SELECT count(*) FROM (SELECT 1 FROM messages m
            WHERE m.room_id = r.id AND m.id > rm.last_read_id AND m.author_id <> rm.member_id
              AND m.deleted_at IS NULL LIMIT ${unreadCap}) AS u) AS unread,
          (SELECT count(*) FROM (SELECT 1 FROM mentions x JOIN messages m ON m.id = x.message_id
            WHERE x.member_id = rm.member_id AND x.room_id = r.id
              AND x.message_id > rm.last_read_id AND m.author_id <> rm.member_id
              AND m.deleted_at IS NULL
            LIMIT ${unreadCap}) AS u) AS mentions
        FROM room_members rm JOIN rooms r ON r.id = rm.room_id
        WHERE rm.member_id = ${memberId} ORDER BY r.kind = 'direct', name`;
      return rows.map((row) => ({
        ...toRoom(row),
        unread: Number(row.unread),
        mentions: Number(row.mentions),
        lastReadId: Number(row.last_read_id),
        seq: Number(row.last_seq),
      }));
    });
  }

  isRoomMember(roomId: number, memberId: number): Promise<boolean> {
    return this.#run(async () => {
      const rows = await this.sql`SELECT 1 FROM room_members
        WHERE room_id = ${roomId} AND member_id = ${memberId}`;
      return rows.length > 0;
    });
  }

  addRoomMember(roomId: number, memberId: number): Promise<void> {
    return this.#run(async () => {
      // The notification `m:<memberId>:<at>` wakes the member's room-list polls on every
      // instance; this one wakes them at once with the same time.
      const at = Date.now();
      const rows = await this.sql`
        WITH added AS (
          INSERT INTO room_members (room_id, member_id, joined_at, last_read_id)
          VALUES (${roomId}, ${memberId}, ${at},
            (SELECT coalesce(max(id), 0) FROM messages WHERE room_id = ${roomId}))
          ON CONFLICT DO NOTHING
          RETURNING member_id)
        SELECT pg_notify(${this.channel}, 'm:' || member_id || ':' || ${String(at)}) FROM added`;
      if (rows.length > 0) this.events.memberAdded(memberId, at);
    });
  }

  removeRoomMember(roomId: number, memberId: number): Promise<boolean> {
    return this.#run(async () => {
      const result = await this.sql`DELETE FROM room_members
        WHERE room_id = ${roomId} AND member_id = ${memberId}`;
      return result.count > 0;
    });
  }

  markRead(roomId: number, memberId: number, messageId: number): Promise<void> {
    return this.#run(async () => {
      await this.sql`UPDATE room_members SET last_read_id = greatest(last_read_id, ${messageId})
        WHERE room_id = ${roomId} AND member_id = ${memberId}`;
    });
  }

  listRoomMembers(roomId: number): Promise<Member[]> {
    return this.#run(async () => {
      const rows = await this.sql`SELECT m.id, m.name FROM room_members rm
        JOIN members m ON m.id = rm.member_id WHERE rm.room_id = ${roomId} ORDER BY m.name`;
      return rows.map(toMember);
    });
  }

  createMember(name: string): Promise<Member> {
    return this.#run(async () => {
      const [row] = await this.sql`INSERT INTO members (name, created_at)
        VALUES (${name}, ${Date.now()}) RETURNING id, name`;
      return toMember(row);
    });
  }

  searchMembers(
    query: string,
    limit: number,
    options: { sharingRoomWith?: number; exceptRoomId?: number } = {},
  ): Promise<MemberSummary[]> {
    return this.#run(async () => {
      const pattern = containsPattern(query);
      const sharing = options.sharingRoomWith ?? null;
      const rows = await this.sql`SELECT id, name, username FROM members
        WHERE (lower(name) LIKE ${pattern} OR username_key LIKE ${pattern})
          AND (${sharing}::bigint IS NULL OR EXISTS (
            SELECT 1 FROM room_members mine
            JOIN room_members theirs ON theirs.room_id = mine.room_id
            WHERE mine.member_id = ${sharing}::bigint AND theirs.member_id = members.id
              AND mine.room_id != ${options.exceptRoomId ?? 0}))
        ORDER BY name, id LIMIT ${limit}`;
      return rows.map((row) => ({
        ...toMember(row),
        username: row.username === null ? null : String(row.username),
      }));
    });
  }

  findAccounts(usernameKeys: string[]): Promise<MemberSummary[]> {
    if (usernameKeys.length === 0) return Promise.resolve([]);
    return this.#run(async () => {
      const rows = await this.sql`SELECT id, name, username FROM members
        WHERE username_key = ANY(${usernameKeys}::text[])`;
      return rows.map(toSummary);
    });
  }

  searchRoomAccounts(
    roomId: number,
    query: string,
    limit: number,
    options: { authorsOnly?: boolean } = {},
  ): Promise<MemberSummary[]> {
    return this.#run(async () => {
      const pattern = containsPattern(query);
      const rows = await this.sql`SELECT m.id, m.name, m.username
        FROM room_members rm JOIN members m ON m.id = rm.member_id
        WHERE rm.room_id = ${roomId} AND m.username_key IS NOT NULL
          AND (lower(m.name) LIKE ${pattern} OR m.username_key LIKE ${pattern})
          AND (${!options.authorsOnly} OR EXISTS (
            SELECT 1 FROM messages x WHERE x.author_id = m.id AND x.room_id = rm.room_id))
        ORDER BY m.name, m.id LIMIT ${limit}`;
      return rows.map(toSummary);
    });
  }

  getMember(id: number): Promise<Member | null> {
    return this.#run(async () => {
      const [row] = await this.sql`SELECT id, name FROM members WHERE id = ${id}`;
      return row ? toMember(row) : null;
    });
  }

  renameMember(id: number, name: string): Promise<Member | null> {
    return this.#sessionsChange(() =>
      this.#run(async () => {
        const [row] = await this.sql`UPDATE members SET name = ${name} WHERE id = ${id}
        RETURNING id, name`;
        return row ? toMember(row) : null;
      })
    );
  }

  createSession(memberId: number, tokenHash: string): Promise<Session> {
    return this.#run(async () => {
      const now = Date.now();
      await this.sql`INSERT INTO sessions (token_hash, member_id, created_at, last_seen_at)
        VALUES (${tokenHash}, ${memberId}, ${now}, ${now})`;
      const session = await this.getSession(tokenHash);
      if (!session) throw new Error(`No member ${memberId}`);
      return session;
    });
  }

  getSession(tokenHash: string): Promise<Session | null> {
    return this.#cached.session(tokenHash, () =>
      this.#run(async () => {
        const [row] = await this.sql`
          SELECT s.id, s.last_seen_at, m.id AS member_id, m.name, m.username, m.is_admin
          FROM sessions s JOIN members m ON m.id = s.member_id
          WHERE s.token_hash = ${tokenHash} AND m.banned_at IS NULL`;
        return row ? toSession(row) : null;
      }));
  }

  touchSession(id: number, at: number): Promise<void> {
    return this.#run(async () => {
      await this.sql`UPDATE sessions SET last_seen_at = ${at} WHERE id = ${id}`;
      this.#cached.touched(id, at);
    });
  }

  deleteSession(id: number): Promise<void> {
    return this.#sessionsChange(() =>
      this.#run(async () => {
        await this.sql`DELETE FROM sessions WHERE id = ${id}`;
      })
    );
  }

  deleteSessions(memberId: number, exceptId = 0): Promise<number> {
    return this.#sessionsChange(() =>
      this.#run(async () => {
        const result = await this.sql`DELETE FROM sessions
        WHERE member_id = ${memberId} AND id != ${exceptId}`;
        return result.count;
      })
    );
  }

  accountNames(exceptMemberId: number): Promise<string[]> {
    return this.#run(async () => {
      const rows = await this.sql`SELECT name, username FROM members
        WHERE username_key IS NOT NULL AND id != ${exceptMemberId}`;
      return rows.flatMap((row) => [String(row.name), String(row.username)]);
    });
  }

  /**
   * One transaction under an advisory lock, so that registrations run one at a time across
   * instances: two first registrations cannot both see "no account yet", and an invitation
   * is used only by the registration that succeeds. Checks everything before writing.
   */
  registerAccount(input: NewAccount): Promise<Registration> {
    return this.#sessionsChange(() =>
      this.#run(async () => {
        try {
          return await transaction(this.sql, async (tx): Promise<Registration> => {
            await tx`SELECT pg_advisory_xact_lock(${REGISTRATION_LOCK})`;
            if (input.memberId !== null) {
              const [member] = await tx`SELECT username_key FROM members
              WHERE id = ${input.memberId} FOR UPDATE`;
              if (!member) return { ok: false, reason: "no_member" };
              if (member.username_key !== null) return { ok: false, reason: "already_registered" };
            }
            const taken = await tx`SELECT 1 FROM members WHERE username_key = ${input.usernameKey}`;
            if (taken.length > 0) return { ok: false, reason: "username_taken" };
            const [{ first }] = await tx`SELECT NOT EXISTS (
            SELECT 1 FROM members WHERE username_key IS NOT NULL) AS first`;
            let inviteId: number | null = null;
            if (input.invite && !first) {
              const [invite] = input.invite.tokenHash === null ? [] : await tx`
              SELECT id FROM invites WHERE token_hash = ${input.invite.tokenHash}
                AND used_by IS NULL AND expires_at > ${input.invite.now} FOR UPDATE`;
              if (!invite) return { ok: false, reason: "invite_required" };
              inviteId = Number(invite.id);
            }
            const memberId = input.memberId ?? Number(
              (await tx`INSERT INTO members (name, created_at)
              VALUES (${input.name}, ${Date.now()}) RETURNING id`)[0].id,
            );
            const [row] = await tx`UPDATE members SET username = ${input.username},
              username_key = ${input.usernameKey}, password_hash = ${input.passwordHash},
              is_admin = ${Boolean(first)}
            WHERE id = ${memberId} RETURNING id, name, username, is_admin`;
            if (inviteId !== null) {
              await tx`UPDATE invites SET used_by = ${memberId}, used_at = ${input.invite!.now}
              WHERE id = ${inviteId}`;
            }
            return {
              ok: true,
              member: toMember(row),
              account: { username: String(row.username), isAdmin: Boolean(row.is_admin) },
            };
          });
        } catch (error) {
          if ((error as { code?: string }).code === "23505") {
            return { ok: false, reason: "username_taken" }; // unique_violation
          }
          throw error;
        }
      })
    );
  }

  countAccounts(): Promise<number> {
    return this.#run(async () => {
      const [row] = await this.sql`SELECT count(*)::int AS n FROM members
        WHERE username_key IS NOT NULL`;
      return Number(row.n);
    });
  }

  findCredentials(usernameKey: string): Promise<Credentials | null> {
    return this.#run(async () => {
      const [row] = await this.sql`SELECT id, name, username, is_admin, password_hash
        FROM members WHERE username_key = ${usernameKey}`;
      return row
        ? {
          member: toMember(row),
          account: { username: String(row.username), isAdmin: Boolean(row.is_admin) },
          passwordHash: String(row.password_hash),
        }
        : null;
    });
  }

  getPasswordHash(memberId: number): Promise<string | null> {
    return this.#run(async () => {
      const [row] = await this.sql`SELECT password_hash FROM members WHERE id = ${memberId}`;
      return row?.password_hash ? String(row.password_hash) : null;
    });
  }

  setPasswordHash(memberId: number, passwordHash: string): Promise<void> {
    return this.#run(async () => {
      await this.sql`UPDATE members SET password_hash = ${passwordHash}
        WHERE id = ${memberId} AND username_key IS NOT NULL`;
    });
  }

  createInvite(
    input: { createdBy: number; tokenHash: string; expiresAt: number },
  ): Promise<void> {
    return this.#run(async () => {
      await this.sql`INSERT INTO invites (token_hash, created_by, created_at, expires_at)
        VALUES (${input.tokenHash}, ${input.createdBy}, ${Date.now()}, ${input.expiresAt})`;
    });
  }

  /** The start of a query for message rows read by {@link toMessage} (`messages m`). */
  #selectMessages(sql: Querier) {
    return sql.unsafe(`SELECT ${MESSAGE_COLUMNS} FROM messages m ${MESSAGE_JOINS}`);
  }

  /**
   * Messages from rows, with their reactions and attachments (one query for all of them
   * each).
   */
  async #withReactions(sql: Querier, rows: Row[], slug: string): Promise<Message[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((row) => Number(row.id));
    const reactions = groupReactions(
      await sql`SELECT message_id, emoji, member_id FROM reactions
        WHERE message_id = ANY(${ids}::bigint[]) ORDER BY id`,
    );
    const attachments = groupAttachments(
      await sql`SELECT ${sql.unsafe(FILE_COLUMNS)} FROM files
        WHERE message_id = ANY(${ids}::bigint[]) ORDER BY message_id, position`,
    );
    return rows.map((row) =>
      toMessage(row, slug, reactions.get(Number(row.id)), attachments.get(Number(row.id)))
    );
  }

  /**
   * Gives message `messageId` the room's next change number and notifies every instance on
   * commit. The `UPDATE rooms` locks the room's row until the transaction ends, so that the
   * changes of a room take their numbers and commit one at a time, in order: a reader that saw
   * change N never later misses a smaller one. Called last in a change's transaction, so that
   * the lock is held as briefly as can be; the message's row (locked or just inserted by this
   * transaction) is the only other lock, always taken before it.
   */
  async #stamp(tx: Querier, roomId: number, messageId: number): Promise<number> {
    const [row] = await tx`
      WITH room AS (
        UPDATE rooms SET last_seq = last_seq + 1 WHERE id = ${roomId} RETURNING id, last_seq
      )
      UPDATE messages m SET seq = room.last_seq FROM room WHERE m.id = ${messageId}
      RETURNING m.seq, pg_notify(${this.channel}, room.id || ':' || room.last_seq)`;
    if (!row) throw new Error(`Room ${roomId} does not exist`);
    return Number(row.seq);
  }

  /**
   * Stores a new message in one statement: the room's next change number is drawn first
   * (`UPDATE rooms`, which locks the room's row until commit), then the message is inserted,
   * so that both its id and its change number are assigned and committed in order within the
   * room. A retry (same author and client id) is rolled back: it takes no number.
   */
  addMessage(input: NewMessage): Promise<{ message: Message; created: boolean }> {
    const mentions = sortedIds(input.mentions);
    return this.#run(async () => {
      const created = await transaction(this.sql, async (tx) => {
        const [columns, joins] = [tx.unsafe(MESSAGE_COLUMNS), tx.unsafe(MESSAGE_JOINS)];
        const [row] = await tx`
          WITH room AS (
            UPDATE rooms SET last_seq = last_seq + 1 WHERE id = ${input.room.id}
            RETURNING id, last_seq
          ), m AS (
            INSERT INTO messages
              (room_id, author_id, body, client_id, created_at, seq, reply_to, mentions)
            SELECT room.id, ${input.authorId}, ${input.body}, ${input.clientId}, ${Date.now()},
                   room.last_seq, ${input.replyTo ?? null}, ${JSON.stringify(mentions)}
            FROM room
            ON CONFLICT (author_id, client_id) DO NOTHING
            RETURNING *
          ), x AS (
            INSERT INTO mentions (member_id, room_id, message_id)
            SELECT who.id, m.room_id, m.id FROM m
            JOIN members who ON who.id = ANY(${mentions}::bigint[])
          )
          SELECT ${columns}, pg_notify(${this.channel}, m.room_id || ':' || m.seq) FROM m ${joins}`;
        if (!row) throw UNCHANGED;
        if (!input.attachments?.length) return toMessage(row, input.room.slug);
        await this.#attach(tx, input, Number(row.id));
        return (await this.#withReactions(tx, [row], input.room.slug))[0];
      }).catch((error) => {
        if (error === UNCHANGED) return null;
        throw error;
      });
      if (created) {
        this.events.published(input.room.id, created.seq);
        return { message: created, created: true };
      }
      // Sent before (maybe to another room): as it is now.
      const [row] = await this.sql`
        SELECT ${this.sql.unsafe(MESSAGE_COLUMNS)}, r.slug AS room_slug
        FROM messages m ${this.sql.unsafe(MESSAGE_JOINS)} JOIN rooms r ON r.id = m.room_id
        WHERE m.author_id = ${input.authorId} AND m.client_id = ${input.clientId}`;
      if (!row) throw new Error(`Room ${input.room.id} does not exist`);
      const [message] = await this.#withReactions(this.sql, [row], String(row.room_slug));
      return { message, created: false };
    });
  }

  /**
   * Attaches a new message's files, in the order given (inside its transaction): each must be
   * the author's upload to the room, not attached yet; else {@link AttachmentError}, which
   * rolls the message back.
   */
  async #attach(tx: Querier, input: NewMessage, messageId: number): Promise<void> {
    const ids = input.attachments ?? [];
    const attached = await tx`UPDATE files f SET message_id = ${messageId}, position = a.n - 1
      FROM unnest(${ids}::text[]) WITH ORDINALITY AS a(id, n)
      WHERE f.id = a.id AND f.room_id = ${input.room.id} AND f.uploader_id = ${input.authorId}
        AND f.message_id IS NULL
      RETURNING f.id`;
    const left = new Set(attached.map((row) => String(row.id)));
    for (const id of ids) {
      if (!left.delete(id)) throw new AttachmentError(id);
    }
  }

  /**
   * Reads the room's change number first, then the rows (each statement sees what was
   * committed when it started): changes committed in between show in the rows but not in the
   * cursor, so a reader may read such a change again, never miss one.
   */
  listMessages(room: Room, query: HistoryQuery): Promise<MessagePage> {
    // A reader who already has the room's latest change, as learnt from this instance's own
    // changes, the notifications of the others' or a read within 2 s: nothing to read.
    const empty = this.events.emptyPage(room.id, query);
    if (empty) return Promise.resolve(empty);
    return this.#run(async () => {
      const [roomRow] = await this.sql`SELECT last_seq FROM rooms WHERE id = ${room.id}`;
      const cursor = Number(roomRow?.last_seq ?? 0);
      this.events.seen(room.id, cursor);
      const older = async (before: number, limit: number) =>
        [
          ...await this.sql`${this.#selectMessages(this.sql)}
            WHERE m.room_id = ${room.id} AND m.id < ${before} ORDER BY m.id DESC LIMIT ${limit}`,
        ].reverse();
      const newer = async (after: number, limit: number) => [
        ...await this.sql`${this.#selectMessages(this.sql)}
          WHERE m.room_id = ${room.id} AND m.id > ${after} ORDER BY m.id LIMIT ${limit}`,
      ];
      const messages = (rows: Row[]) => this.#withReactions(this.sql, rows, room.slug);
      if ("since" in query) {
        const rows = await this.sql`${this.#selectMessages(this.sql)}
          WHERE m.room_id = ${room.id} AND m.seq > ${query.since}
          ORDER BY m.seq LIMIT ${query.limit}`;
        const last = rows.length > 0 ? Number(rows[rows.length - 1].seq) : query.since;
        // A page that is not full holds every change committed when the rows were read; changes
        // commit in order, so none up to the last row's number is missing (it may be above the
        // cursor read first).
        return {
          messages: await messages(rows),
          cursor: rows.length < query.limit ? Math.max(cursor, last) : last,
        };
      }
      if ("after" in query) {
        return { messages: await messages(await newer(query.after, query.limit)), cursor };
      }
      if ("around" in query) {
        const before = Math.floor((query.limit - 1) / 2);
        const head = await older(query.around, before + 1);
        const tail = await newer(query.around - 1, query.limit - before + 1);
        const hasOlder = head.length > before;
        const hasNewer = tail.length > query.limit - before;
        const rows = [...head.slice(hasOlder ? 1 : 0), ...tail.slice(0, query.limit - before)];
        return { messages: await messages(rows), cursor, hasOlder, hasNewer };
      }
      const before = "before" in query ? query.before : Number.MAX_SAFE_INTEGER;
      const rows = await older(before, query.limit + 1);
      const hasOlder = rows.length > query.limit;
      return { messages: await messages(hasOlder ? rows.slice(1) : rows), cursor, hasOlder };
    });
  }

  findSent(authorId: number, clientId: string): Promise<Message | null> {
    return this.#run(async () => {
      const [row] = await this.sql`
        SELECT ${this.sql.unsafe(MESSAGE_COLUMNS)}, r.slug AS room_slug
        FROM messages m ${this.sql.unsafe(MESSAGE_JOINS)} JOIN rooms r ON r.id = m.room_id
        WHERE m.author_id = ${authorId} AND m.client_id = ${clientId}`;
      return row ? (await this.#withReactions(this.sql, [row], String(row.room_slug)))[0] : null;
    });
  }

  getMessage(room: Room, id: number): Promise<Message | null> {
    return this.#run(async () => {
      const [row] = await this.sql`${this.#selectMessages(this.sql)}
        WHERE m.id = ${id} AND m.room_id = ${room.id}`;
      return row ? (await this.#withReactions(this.sql, [row], room.slug))[0] : null;
    });
  }

  /**
   * Runs a change to message `id` of `room` in one transaction, under the message's row lock
   * (FOR NO KEY UPDATE, which new replies to it do not wait for): changes to one message run
   * one at a time, so a deletion erases every reaction and the emoji cap holds. `change` gets
   * the row (id, deleted_at) and returns whether it changed something (then the message takes
   * the room's next change number) or a problem.
   */
  #change(
    room: Room,
    id: number,
    change: (tx: Querier, row: Row) => Promise<boolean | "deleted" | "too_many_emoji">,
  ): Promise<MessageChange> {
    return this.#run(async () => {
      const result = await transaction(this.sql, async (tx): Promise<MessageChange> => {
        const [row] = await tx`SELECT id, deleted_at FROM messages
          WHERE id = ${id} AND room_id = ${room.id} FOR NO KEY UPDATE`;
        if (!row) return { ok: false, problem: "not_found" };
        const outcome = await change(tx, row);
        if (outcome === "deleted" || outcome === "too_many_emoji") {
          return { ok: false, problem: outcome };
        }
        const [fresh] = await tx`${this.#selectMessages(tx)} WHERE m.id = ${id}`;
        const [message] = await this.#withReactions(tx, [fresh], room.slug);
        if (outcome) message.seq = await this.#stamp(tx, room.id, id);
        return { ok: true, message, changed: outcome };
      });
      if (result.ok && result.changed) this.events.published(room.id, result.message.seq);
      return result;
    });
  }

  editMessage(
    input: { room: Room; id: number; body: string; now: number; mentions?: number[] },
  ): Promise<MessageChange> {
    return this.#change(input.room, input.id, async (tx, row) => {
      if (row.deleted_at != null) return "deleted";
      const mentions = sortedIds(input.mentions);
      await tx`UPDATE messages SET body = ${input.body}, edited_at = ${input.now},
        mentions = ${JSON.stringify(mentions)} WHERE id = ${input.id}`;
      await tx`DELETE FROM mentions WHERE message_id = ${input.id}`;
      await tx`INSERT INTO mentions (member_id, room_id, message_id)
        SELECT id, ${input.room.id}, ${input.id} FROM members WHERE id = ANY(${mentions}::bigint[])`;
      return true;
    });
  }

  deleteMessage(input: { room: Room; id: number; now: number }): Promise<MessageChange> {
    return this.#change(input.room, input.id, async (tx, row) => {
      if (row.deleted_at != null) return false;
      // Erased, not hidden: the text and the reactions are gone from the tables.
      await tx`UPDATE messages SET body = '', mentions = '[]', deleted_at = ${input.now}
        WHERE id = ${input.id}`;
      await tx`DELETE FROM reactions WHERE message_id = ${input.id}`;
      await tx`DELETE FROM mentions WHERE message_id = ${input.id}`;
      // Its files too, and their bytes when no other file has them.
      const files = await tx`DELETE FROM files WHERE message_id = ${input.id}
        RETURNING sha256, preview_sha256`;
      await releaseContents(tx, files.flatMap((f) => [f.sha256, f.preview_sha256]));
      return true;
    });
  }

  react(input: ReactionChange): Promise<MessageChange> {
    return this.#change(input.room, input.id, async (tx, row) => {
      if (row.deleted_at != null) return "deleted";
      if (!input.add) {
        const removed = await tx`DELETE FROM reactions
          WHERE message_id = ${input.id} AND emoji = ${input.emoji} AND member_id = ${input.memberId}`;
        return removed.count > 0;
      }
      const emojis = (await tx`SELECT DISTINCT emoji FROM reactions WHERE message_id = ${input.id}`)
        .map((r) => String(r.emoji));
      if (!emojis.includes(input.emoji) && emojis.length >= input.maxEmoji) {
        return "too_many_emoji";
      }
      const added = await tx`
        INSERT INTO reactions (message_id, member_id, emoji, created_at)
        VALUES (${input.id}, ${input.memberId}, ${input.emoji}, ${Date.now()})
        ON CONFLICT DO NOTHING`;
      return added.count > 0;
    });
  }

  waitForChanges(
    rooms: { roomId: number; since: number }[],
    options: { timeoutMs: number; signal?: AbortSignal; member?: { id: number; since: number } },
  ): MessageWaiter {
    return this.events.waitAny(rooms, options);
  }

  waitForChange(
    room: Room,
    since: number,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): MessageWaiter {
    return this.events.wait(room.id, since, options);
  }

  pruneStale(options: PruneOptions): Promise<PruneCounts | null> {
    return this.#sessionsChange(() =>
      this.#run(() =>
        transaction(this.sql, async (tx) => {
          const [lock] = await tx`SELECT pg_try_advisory_xact_lock(${PRUNE_LOCK}) AS taken`;
          if (!lock.taken) return null;
          const sessions = await tx`DELETE FROM sessions
          WHERE last_seen_at < ${options.now - options.sessionIdleMs}`;
          const invites = await tx`DELETE FROM invites WHERE expires_at <= ${options.now}`;
          const files = await tx`DELETE FROM files
          WHERE message_id IS NULL
            AND created_at < ${options.now - (options.uploadRetentionMs ?? UPLOAD_RETENTION_MS)}
          RETURNING sha256, preview_sha256`;
          await releaseContents(tx, files.flatMap((f) => [f.sha256, f.preview_sha256]));
          // Contents no file has: uploads cut off by a crash (under their temporary keys).
          const orphans = await tx`SELECT sha256 FROM blobs b
          WHERE created_at < ${options.now - ORPHAN_MS}
            AND NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = b.sha256)
            AND NOT EXISTS (SELECT 1 FROM files f WHERE f.preview_sha256 = b.sha256)`;
          await releaseContents(tx, orphans.map((row) => String(row.sha256)));
          // Room memberships go with the member (ON DELETE CASCADE).
          const guests = await tx`DELETE FROM members g
          WHERE g.username_key IS NULL
            AND g.created_at < ${options.now - options.guestRetentionMs}
            AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.member_id = g.id)
            AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.author_id = g.id)
            AND NOT EXISTS (SELECT 1 FROM reactions x WHERE x.member_id = g.id)
            AND NOT EXISTS (SELECT 1 FROM files f WHERE f.uploader_id = g.id)
            AND NOT EXISTS (SELECT 1 FROM rooms r WHERE r.created_by = g.id)
            AND NOT EXISTS (SELECT 1 FROM invites i
              WHERE i.created_by = g.id OR i.used_by = g.id)`;
          return {
            sessions: sessions.count,
            invites: invites.count,
            guests: guests.count,
            files: files.count,
          };
        })
      )
    );
  }

  /** A typing signal from any instance (this one included), as JSON. */
  #typingNotified(payload: string): void {
    let signal: TypingSignal;
    try {
      const { r, m, n, t } = JSON.parse(payload);
      if (!Number.isSafeInteger(r) || !Number.isSafeInteger(m) || typeof n !== "string") return;
      signal = { roomId: r, memberId: m, name: n, typing: t === 1 };
    } catch {
      return;
    }
    this.#typing.forEach((listener) => listener(signal));
  }

  async publishTyping(signal: TypingSignal): Promise<void> {
    const payload = JSON.stringify({
      r: signal.roomId,
      m: signal.memberId,
      n: signal.name,
      t: signal.typing ? 1 : 0,
    });
    await this.sql`SELECT pg_notify(${this.typingChannel}, ${payload})`;
  }

  onTyping(listener: (signal: TypingSignal) => void): () => void {
    this.#typing.add(listener);
    return () => this.#typing.delete(listener);
  }

  // --- files ---

  /**
   * Runs `record` (which keeps the received chunks as their content, see
   * {@link keepChunks}) in one transaction; the received copy is removed whatever happens.
   */
  async #keep<T>(
    received: ReceivedChunks,
    record: (tx: Querier) => Promise<T>,
  ): Promise<T> {
    try {
      return await transaction(this.sql, async (tx) => await record(tx)) as T;
    } finally {
      await dropChunks(this.sql, received.tempKey).catch(() => {});
    }
  }

  addFile(input: NewFile): Promise<StoredFile> {
    return this.#run(async () => {
      const received = await receiveChunks(this.sql, input.content, input);
      return await this.#keep(received, async (tx) => {
        await lockContents(tx, [received.sha256]);
        await keepChunks(tx, received, input.now);
        const [row] = await tx`INSERT INTO files
            (id, room_id, uploader_id, name, size, type, width, height, sha256, created_at)
          VALUES (${newFileId()}, ${input.roomId}, ${input.uploaderId}, ${input.name},
            ${received.size}, ${input.type}, ${input.width}, ${input.height},
            ${received.sha256}, ${input.now})
          RETURNING ${tx.unsafe(FILE_COLUMNS)}`;
        return toStoredFile(row);
      });
    });
  }

  /** Null when there is no unattached file with this id. */
  setFilePreview(input: NewPreview): Promise<StoredFile | null> {
    return this.#run(async () => {
      const now = Date.now();
      const received = await receiveChunks(this.sql, input.content, {
        maxBytes: input.maxBytes,
        now,
      });
      return await this.#keep(received, async (tx) => {
        const [current] = await tx`SELECT preview_sha256 FROM files
          WHERE id = ${input.fileId} AND message_id IS NULL FOR UPDATE`;
        if (!current) return null;
        const replaced = current.preview_sha256 as string | null;
        await lockContents(tx, replaced ? [received.sha256, replaced] : [received.sha256]);
        await keepChunks(tx, received, now);
        const [row] = await tx`UPDATE files SET preview_sha256 = ${received.sha256},
            preview_type = ${input.type}, preview_size = ${received.size},
            preview_width = ${input.width}, preview_height = ${input.height}
          WHERE id = ${input.fileId} RETURNING ${tx.unsafe(FILE_COLUMNS)}`;
        await releaseContents(tx, [replaced]);
        return toStoredFile(row);
      });
    });
  }

  getFile(id: string): Promise<StoredFile | null> {
    return this.#run(async () => {
      const [row] = await this.sql`SELECT ${this.sql.unsafe(FILE_COLUMNS)} FROM files
        WHERE id = ${id}`;
      return row ? toStoredFile(row) : null;
    });
  }

  /** Counts the files' previews too. */
  uploadedBytes(memberId: number, since: number): Promise<number> {
    return this.#run(async () => {
      const [row] = await this.sql`
        SELECT coalesce(sum(size + coalesce(preview_size, 0)), 0) AS n FROM files
        WHERE uploader_id = ${memberId} AND created_at >= ${since}`;
      return Number(row.n);
    });
  }

  readContent(sha256: string, range?: ByteRange): Promise<ReadableStream<Uint8Array> | null> {
    if (!isContentKey(sha256)) return Promise.resolve(null);
    return this.#run(async () => {
      const [row] = await this.sql`SELECT size FROM blobs WHERE sha256 = ${sha256}`;
      return row ? readChunks(this.sql, sha256, Number(row.size), range) : null;
    });
  }

  searchMessages(query: SearchQuery): Promise<Message[]> {
    return this.#run(() =>
      searchPostgres(this.sql, query, (rows, slug) => this.#withReactions(this.sql, rows, slug))
    );
  }

  banMember(memberId: number, now: number): Promise<number | null> {
    return this.#sessionsChange(() =>
      this.#run(() =>
        transaction(this.sql, async (tx) => {
          const banned = await tx`UPDATE members SET banned_at = coalesce(banned_at, ${now})
          WHERE id = ${memberId}`;
          if (banned.count === 0) return null;
          return (await tx`DELETE FROM sessions WHERE member_id = ${memberId}`).count;
        })
      )
    );
  }

  unbanMember(memberId: number): Promise<boolean> {
    return this.#run(async () =>
      (await this.sql`UPDATE members SET banned_at = NULL
        WHERE id = ${memberId} AND banned_at IS NOT NULL`).count > 0
    );
  }

  isBanned(memberId: number): Promise<boolean> {
    return this.#run(async () =>
      (await this.sql`SELECT 1 FROM members WHERE id = ${memberId} AND banned_at IS NOT NULL`)
        .length > 0
    );
  }

  listAdminMembers(options: { query?: string; limit: number }): Promise<AdminMember[]> {
    return this.#run(async () => {
      const pattern = containsPattern(options.query ?? "");
      const rows = await this.sql`SELECT ${this.sql.unsafe(ADMIN_MEMBER_COLUMNS)} FROM members m
        WHERE lower(m.name) LIKE ${pattern} OR coalesce(m.username_key, '') LIKE ${pattern}
        ORDER BY m.id DESC LIMIT ${options.limit}`;
      return rows.map(toAdminMember);
    });
  }

  setAdmin(memberId: number, admin: boolean): Promise<boolean> {
    return this.#sessionsChange(() =>
      this.#run(async () =>
        (await this.sql`UPDATE members SET is_admin = ${admin}
        WHERE id = ${memberId} AND username_key IS NOT NULL`).count > 0
      )
    );
  }

  countAdmins(): Promise<number> {
    return this.#run(async () => {
      const [row] = await this.sql`SELECT count(*) AS n FROM members WHERE is_admin`;
      return Number(row.n);
    });
  }

  async deleteMessagesBy(memberId: number, now: number): Promise<number> {
    // Room by room, oldest first, a batch per transaction: the batch's messages locked, then
    // the room's next change numbers drawn at once (the order single deletions lock in), one
    // notification for the batch.
    const rooms = await this.#run(() =>
      this.sql`SELECT DISTINCT room_id FROM messages
        WHERE author_id = ${memberId} AND deleted_at IS NULL`
    );
    let deleted = 0;
    for (const { room_id } of rooms) {
      const roomId = Number(room_id);
      for (;;) {
        const batch = await this.#run(() =>
          transaction(this.sql, async (tx) => {
            const ids = (await tx`SELECT id FROM messages
              WHERE author_id = ${memberId} AND room_id = ${roomId} AND deleted_at IS NULL
              ORDER BY id LIMIT ${DELETE_BATCH} FOR NO KEY UPDATE`).map((row) => Number(row.id));
            if (ids.length === 0) return { count: 0, seq: 0 };
            const [room] = await tx`UPDATE rooms SET last_seq = last_seq + ${ids.length}
              WHERE id = ${roomId} RETURNING last_seq`;
            const last = Number(room.last_seq);
            await tx`UPDATE messages m SET body = '', mentions = '[]', deleted_at = ${now},
                seq = ${last - ids.length} + x.n
              FROM unnest(${ids}::bigint[]) WITH ORDINALITY AS x(id, n) WHERE m.id = x.id`;
            await tx`DELETE FROM reactions WHERE message_id = ANY(${ids}::bigint[])`;
            await tx`DELETE FROM mentions WHERE message_id = ANY(${ids}::bigint[])`;
            const files = await tx`DELETE FROM files WHERE message_id = ANY(${ids}::bigint[])
              RETURNING sha256, preview_sha256`;
            await releaseContents(tx, files.flatMap((f) => [f.sha256, f.preview_sha256]));
            await tx`SELECT pg_notify(${this.channel}, ${`${roomId}:${last}`})`;
            return { count: ids.length, seq: last };
          })
        );
        if (batch.count > 0) this.events.published(roomId, batch.seq);
        deleted += batch.count;
        if (batch.count < DELETE_BATCH) break;
      }
    }
    return deleted;
  }

  listAdminRooms(limit: number): Promise<AdminRoom[]> {
    return this.#run(async () => {
      const rows = await this.sql`SELECT ${this.sql.unsafe(ADMIN_ROOM_COLUMNS)} FROM rooms r
        WHERE r.kind != 'direct' ORDER BY r.name, r.id LIMIT ${limit}`;
      return rows.map(toAdminRoom);
    });
  }

  archiveRoom(roomId: number, now: number): Promise<boolean> {
    return this.#roomsChange(() =>
      this.#run(async () =>
        (await this.sql`UPDATE rooms SET archived_at = coalesce(archived_at, ${now})
        WHERE id = ${roomId}`).count > 0
      )
    );
  }

  deleteRoom(roomId: number): Promise<boolean> {
    return this.#roomsChange(() =>
      this.#run(() =>
        transaction(this.sql, async (tx) => {
          // The room's row lock first: messages and changes in it wait, then fail.
          const [room] = await tx`SELECT id FROM rooms WHERE id = ${roomId} FOR UPDATE`;
          if (!room) return false;
          const files = await tx`DELETE FROM files WHERE room_id = ${roomId}
          RETURNING sha256, preview_sha256`;
          await tx`DELETE FROM reactions
          WHERE message_id IN (SELECT id FROM messages WHERE room_id = ${roomId})`;
          await tx`DELETE FROM messages WHERE room_id = ${roomId}`;
          await tx`DELETE FROM rooms WHERE id = ${roomId}`;
          await releaseContents(tx, files.flatMap((f) => [f.sha256, f.preview_sha256]));
          // Sent at commit: every instance wakes the room's long polls, which find it gone.
          await tx`SELECT pg_notify(${this.channel}, ${`gone:${roomId}`})`;
          return true;
        })
      )
    );
  }

  listOpenInvites(now: number): Promise<OpenInvite[]> {
    return this.#run(async () => {
      const rows = await this.sql`SELECT i.id, i.created_at, i.expires_at, i.created_by, m.name
        FROM invites i JOIN members m ON m.id = i.created_by
        WHERE i.used_by IS NULL AND i.expires_at > ${now} ORDER BY i.id DESC`;
      return rows.map(toOpenInvite);
    });
  }

  recordAudit(entry: NewAuditEntry): Promise<void> {
    return this.#run(async () => {
      await this.sql`INSERT INTO audit_log (at, actor_id, action, target_kind, target_id, detail)
        VALUES (${entry.at}, ${entry.actorId}, ${entry.action}, ${entry.targetKind},
                ${entry.targetId}, ${JSON.stringify(entry.detail)})`;
    });
  }

  listAuditLog(options: { before?: number; limit: number }): Promise<AuditEntry[]> {
    return this.#run(async () => {
      const rows = await this.sql`SELECT ${this.sql.unsafe(AUDIT_COLUMNS)}
        FROM audit_log l LEFT JOIN members a ON a.id = l.actor_id
        WHERE l.id < ${options.before ?? Number.MAX_SAFE_INTEGER}
        ORDER BY l.id DESC LIMIT ${options.limit}`;
      return rows.map(toAuditEntry);
    });
  }

  async checkReady(): Promise<void> {
    let version: number;
    try {
      const [row] = await this.sql`SELECT version FROM parley_schema`;
      version = row ? Number(row.version) : 0;
    } catch (error) {
      throw new StoreUnavailableError("PostgreSQL is not ready", { cause: error });
    }
    if (version !== POSTGRES_MIGRATIONS.length) {
      throw new StoreUnavailableError(
        `PostgreSQL is at schema version ${version}, this Parley needs ${POSTGRES_MIGRATIONS.length}`,
      );
    }
  }

  async close(): Promise<void> {
    await this.#unlisten?.().catch(() => {});
    await this.#unlistenTyping?.().catch(() => {});
    await this.sql.end({ timeout: 2 });
  }
}
