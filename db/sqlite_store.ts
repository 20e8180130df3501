// The SQLite store on Deno's built-in node:sqlite: WAL, versioned migrations, prepared statements.
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { dirname, join } from "node:path";
import { SQLITE_MIGRATIONS } from "./migrations/sqlite.ts";
import { RoomEvents } from "./room_events.ts";
import { WorkerPeers } from "./worker_peers.ts";
import { WriteLock } from "./write_lock.ts";
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
  toMessage,
  toOpenInvite,
  toRoom,
  toSession,
  toStoredFile,
  toSummary,
} from "./rows.ts";
import { ContentFolder, type ReceivedContent } from "./sqlite_files.ts";
import { sqliteError } from "./sqlite_errors.ts";
import { searchSqlite } from "./sqlite_search.ts";
import { AttachmentError, StoreOpenError, StoreUnavailableError } from "./store.ts";
import type {
  AdminMember,
  AdminRoom,
  AuditEntry,
  ByteRange,
  Credentials,
  HistoryQuery,
  Member,
  MemberSummary,
  Message,
  MessageChange,
  MessagePage,
  MessageWaiter,
  MyRoom,
  NewAccount,
  NewAuditEntry,
  NewFile,
  NewMessage,
  NewPreview,
  NewRoom,
  OpenInvite,
  PruneCounts,
  PruneOptions,
  PublicRoomQuery,
  ReactionChange,
  Registration,
  Room,
  SearchQuery,
  Session,
  Store,
  StoredFile,
  TypingSignal,
} from "./store.ts";

/** Rows {@link SqliteStore.pruneStale} removes per transaction. */
const PRUNE_BATCH = 500;
/** Messages a bulk deletion erases per transaction (each costs some 0.2 ms). */
const DELETE_BATCH = 100;
/** How long unattached uploads are kept by default. */
const UPLOAD_RETENTION_MS = 24 * 3600_000;
/** Contents no file has are removed after this (left by a crash in the middle of an upload). */
const ORPHAN_MS = 3600_000;

/** Options for {@link SqliteStore}. */
export interface SqliteOptions {
  /**
   * The folder of uploaded files' bytes; default `files/` next to the database file (for
   * `:memory:`, a temporary folder made on first use and removed on close).
   */
  filesDir?: string;
  /**
   * The counters that invalidate cached sessions and rooms; shared (on a SharedArrayBuffer)
   * by workers that open the same database, so that a change made by one is seen by all.
   */
  counters?: ChangeCounters;
  /**
   * The name of the channel between the workers of this process that open this database
   * (see {@link WorkerPeers}): changes and typing made in one wake the others' readers.
   */
  peers?: string;
  /**
   * The lock that lets one of those workers write at a time (see {@link WriteLock}), shared
   * by all of them.
   */
  writeLock?: SharedArrayBuffer;
}

/** Sessions and rooms kept in memory, and for how long at most (changes drop them at once). */
const CACHE_AGE_MS = 30_000;

/** Applies the migrations a database has not had yet, in one transaction. */
export function migrateSqlite(db: DatabaseSync): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    const { user_version: version } = db.prepare("PRAGMA user_version").get() as {
      user_version: number;
    };
    if (version > SQLITE_MIGRATIONS.length) {
      throw new Error(
        `The database is at schema version ${version}, newer than this Parley knows (${SQLITE_MIGRATIONS.length})`,
      );
    }
    for (let v = version; v < SQLITE_MIGRATIONS.length; v++) {
      db.exec(SQLITE_MIGRATIONS[v]);
    }
    db.exec(`PRAGMA user_version = ${SQLITE_MIGRATIONS.length}`);
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

/** A {@link Store} on one SQLite file (or `:memory:`). */
export class SqliteStore implements Store {
  readonly kind = "sqlite";
  readonly db: DatabaseSync;
  readonly events: RoomEvents;
  #peers?: WorkerPeers;
  #writeLock?: WriteLock;
  /** Sessions and rooms kept in memory (see {@link CachedRows}). */
  #cached: CachedRows;
  #typing = new Set<(signal: TypingSignal) => void>();
  #statements = new Map<string, StatementSync>();
  /** The bytes of uploaded files (see {@link SqliteOptions.filesDir}). */
  readonly content: ContentFolder;

  /**
   * Opens (creating folders and file as needed) and migrates the database at `path`; throws a
   * {@link StoreOpenError} saying where and why when it cannot be opened or written (or the
   * files folder cannot be made).
   */
  constructor(path: string, options: SqliteOptions = {}) {
    let db: DatabaseSync | undefined;
    try {
      if (path !== ":memory:") Deno.mkdirSync(dirname(path), { recursive: true });
      db = new DatabaseSync(path);
      db.exec(`
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = NORMAL;
        PRAGMA foreign_keys = ON;
        PRAGMA busy_timeout = 5000;
        -- Deleted messages are overwritten with zeros, not only unlinked: their text does not
        -- linger in free pages of the file.
        PRAGMA secure_delete = ON;
      `);
      migrateSqlite(db);
    } catch (error) {
      if (db?.isOpen) db.close();
      // A database from a newer Parley says so itself; anything else is about the file.
      if (error instanceof Error && /newer than this Parley/.test(error.message)) throw error;
      throw new StoreOpenError(
        `Cannot open the SQLite database at ${path}: ${
          error instanceof Error ? error.message : String(error)
        }. Set SQLITE_PATH to a writable file.`,
        { cause: error },
      );
    }
    this.db = db;
    if (options.peers) {
      const peers = this.#peers = new WorkerPeers(options.peers);
      peers.listen((news) => {
        if (news.kind === "typing") this.#typing.forEach((listener) => listener(news.signal));
      });
    }
    this.events = new RoomEvents({ peers: this.#peers });
    if (options.writeLock) this.#writeLock = new WriteLock(options.writeLock);
    this.#cached = new CachedRows({
      counters: options.counters ?? new ChangeCounters(),
      maxAgeMs: CACHE_AGE_MS,
    });
    const filesDir = options.filesDir ??
      (path === ":memory:" ? undefined : join(dirname(path), "files"));
    this.content = new ContentFolder(filesDir);
    try {
      this.content.createSync();
    } catch (error) {
      db.close();
      throw new StoreOpenError(
        `Cannot create the files folder at ${filesDir}: ${
          error instanceof Error ? error.message : String(error)
        }. Set PARLEY_FILES_DIR to a writable folder.`,
        { cause: error },
      );
    }
  }

  /**
   * Runs `work`, turning SQLite's "cannot write now" errors (disk full, read-only, I/O,
   * locked) into {@link StoreUnavailableError}: the app answers 503 and tries again later.
   */
  #run<T>(work: () => T): Promise<T> {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(sqliteError(error));
    }
  }

  /**
   * Runs `work` in a write transaction (BEGIN IMMEDIATE … COMMIT), rolled back if it throws;
   * a failed COMMIT (disk full) throws too, so nothing is reported done that was not stored.
   */
  #transaction<T>(work: () => T): Promise<T> {
    return this.#write(() => {
      this.db.exec("BEGIN IMMEDIATE");
      try {
        const result = work();
        this.db.exec("COMMIT");
        return result;
      } catch (error) {
        if (this.db.isTransaction) this.db.exec("ROLLBACK");
        throw error;
      }
    });
  }

  /**
   * Runs `work`, which writes, as {@link #run} does; with other workers on the file, holding
   * the lock that lets one of them write at a time.
   */
  #write<T>(work: () => T): Promise<T> {
    return this.#run(() => this.#locked(work));
  }

  /** Runs `work`, which writes, holding the workers' write lock when there is one. */
  #locked<T>(work: () => T): T {
    return this.#writeLock ? this.#writeLock.hold(work) : work();
  }

  /**
   * The prepared statement for `sql`, prepared once. A limit is always written `LIMIT ? + 0`:
   * SQLite's planner reads the value bound to a bare limit parameter and so marks the statement to be
   * prepared again whenever it is bound, which made an empty poll's query 38 µs instead of 5.
   */
  #sql(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Runs a write to sessions or members and then drops every cached session, here and in the
   * workers sharing the counters (after the write: a read in between would cache the old row).
   */
  #sessionsChange<T>(write: () => Promise<T>): Promise<T> {
    return write().finally(() => this.#cached.dropSessions());
  }

  /** Runs a write to rooms and then drops every cached room (see {@link #sessionsChange}). */
  #roomsChange<T>(write: () => Promise<T>): Promise<T> {
    return write().finally(() => this.#cached.dropRooms());
  }

  getSetting(key: string): Promise<string | null> {
    return this.#run(() => {
      const row = this.#sql("SELECT value FROM settings WHERE key = ?").get(key);
      return row ? String(row.value) : null;
    });
  }

  async initSetting(key: string, value: string): Promise<string> {
    await this.#write(() =>
      this.#sql("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING")
        .run(key, value)
    );
    return await this.getSetting(key) as string;
  }

  getRoom(slug: string): Promise<Room | null> {
    return this.#cached.room(slug, () => {
      const row = this.#sql(`SELECT ${ROOM_COLUMNS} FROM rooms WHERE slug = ?`).get(slug);
      return Promise.resolve(row ? toRoom(row) : null);
    });
  }

  getRoomById(id: number): Promise<Room | null> {
    return this.#cached.room(`#${id}`, () => {
      const row = this.#sql(`SELECT ${ROOM_COLUMNS} FROM rooms WHERE id = ?`).get(id);
      return Promise.resolve(row ? toRoom(row) : null);
    });
  }

  async createRoom(input: NewRoom): Promise<Room | null> {
    try {
      return await this.#transaction(() => {
        const [row] = this.#sql(
          `INSERT INTO rooms (slug, name, topic, kind, created_by, direct_key, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING ${ROOM_COLUMNS}`,
        ).all(
          input.slug,
          input.name,
          input.topic,
          input.kind,
          input.createdBy,
          input.directKey ?? null,
          Date.now(),
        );
        this.#sql(
          "INSERT INTO room_members (room_id, member_id, joined_at) VALUES (?, ?, ?)",
        ).run(row.id, input.createdBy, Date.now());
        return toRoom(row);
      });
    } catch (error) {
      if (String((error as Error).message).includes("UNIQUE")) return null;
      throw error;
    }
  }

  setRoomTopic(roomId: number, topic: string): Promise<Room | null> {
    return this.#roomsChange(() =>
      this.#write(() => {
        const [row] = this.#sql(
          `UPDATE rooms SET topic = ? WHERE id = ? RETURNING ${ROOM_COLUMNS}`,
        ).all(topic, roomId);
        return row ? toRoom(row) : null;
      })
    );
  }

  getDirectRoom(directKey: string): Promise<Room | null> {
    const row = this.#sql(`SELECT ${ROOM_COLUMNS} FROM rooms WHERE direct_key = ?`)
      .get(directKey);
    return Promise.resolve(row ? toRoom(row) : null);
  }

  listPublicRooms(options: PublicRoomQuery): Promise<Room[]> {
    const member = options.notJoinedBy ?? null;
    const pattern = options.query ? containsPattern(options.query) : null;
    const rows = this.#sql(
      `SELECT ${ROOM_COLUMNS} FROM rooms r WHERE kind = 'public'
         AND (? IS NULL OR NOT EXISTS (
           SELECT 1 FROM room_members rm WHERE rm.room_id = r.id AND rm.member_id = ?))
         AND (? IS NULL OR lower(name) LIKE ? ESCAPE '\\')
       ORDER BY coalesce((SELECT max(m.id) FROM messages m WHERE m.room_id = r.id), 0) DESC,
         r.id DESC
       LIMIT ? + 0`,
    ).all(member, member, pattern, pattern, options.limit);
    return Promise.resolve(rows.map(toRoom));
  }

  listMyRooms(memberId: number, unreadCap: number): Promise<MyRoom[]> {
    const rows = this.#sql(
      `SELECT r.id, r.slug, r.topic, r.kind, r.created_by, r.last_seq, rm.last_read_id,
         CASE WHEN r.kind = 'direct' THEN coalesce((
           SELECT o.name FROM room_members x JOIN members o ON o.id = x.member_id
           WHERE x.room_id = r.id AND x.member_id != rm.member_id LIMIT 1), r.name)
         ELSE r.name END AS name,
         (SELECT count(*) FROM (SELECT 1 FROM messages m
           WHERE m.room_id = r.id AND m.id > rm.last_read_id AND m.author_id != rm.member_id
             AND m.deleted_at IS NULL LIMIT ? + 0)) AS unread,
         (SELECT count(*) FROM (SELECT 1 FROM mentions x JOIN messages m ON m.id = x.message_id
           WHERE x.member_id = rm.member_id AND x.room_id = r.id
             AND x.message_id > rm.last_read_id AND m.author_id <> rm.member_id
             AND m.deleted_at IS NULL LIMIT ? + 0)) AS mentions
       FROM room_members rm JOIN rooms r ON r.id = rm.room_id
       WHERE rm.member_id = ? ORDER BY r.kind = 'direct', name`,
    ).all(unreadCap, unreadCap, memberId);
    return Promise.resolve(rows.map((row) => ({
      ...toRoom(row),
      unread: Number(row.unread),
      mentions: Number(row.mentions),
      lastReadId: Number(row.last_read_id),
      seq: Number(row.last_seq),
    })));
  }

  isRoomMember(roomId: number, memberId: number): Promise<boolean> {
    const row = this.#sql("SELECT 1 AS yes FROM room_members WHERE room_id = ? AND member_id = ?")
      .get(roomId, memberId);
    return Promise.resolve(Boolean(row));
  }

  addRoomMember(roomId: number, memberId: number): Promise<void> {
    return this.#run(() => {
      // Most calls find the member in the room already (every message in a public room asks):
      // a read, not a write transaction.
      if (
        this.#sql("SELECT 1 AS yes FROM room_members WHERE room_id = ? AND member_id = ?")
          .get(roomId, memberId)
      ) return;
      const result = this.#locked(() =>
        this.#sql(
          `INSERT INTO room_members (room_id, member_id, joined_at, last_read_id)
           VALUES (?, ?, ?, (SELECT coalesce(max(id), 0) FROM messages WHERE room_id = ?))
           ON CONFLICT DO NOTHING`,
        ).run(roomId, memberId, Date.now(), roomId)
      );
      if (Number(result.changes) > 0) this.events.memberAdded(memberId);
    });
  }

  removeRoomMember(roomId: number, memberId: number): Promise<boolean> {
    return this.#write(() => {
      const result = this.#sql("DELETE FROM room_members WHERE room_id = ? AND member_id = ?")
        .run(roomId, memberId);
      return Number(result.changes) > 0;
    });
  }

  markRead(roomId: number, memberId: number, messageId: number): Promise<void> {
    return this.#write(() => {
      this.#sql(
        `UPDATE room_members SET last_read_id = max(last_read_id, ?)
         WHERE room_id = ? AND member_id = ?`,
      ).run(messageId, roomId, memberId);
    });
  }

  listRoomMembers(roomId: number): Promise<Member[]> {
    const rows = this.#sql(
      `SELECT m.id, m.name FROM room_members rm JOIN members m ON m.id = rm.member_id
       WHERE rm.room_id = ? ORDER BY m.name`,
    ).all(roomId);
    return Promise.resolve(rows.map((row) => ({ id: Number(row.id), name: String(row.name) })));
  }

  createMember(name: string): Promise<Member> {
    return this.#write(() => {
      // `.all()`, not `.get()`: it runs the statement to its end, so a failed commit throws.
      const [row] = this.#sql(
        "INSERT INTO members (name, created_at) VALUES (?, ?) RETURNING id, name",
      ).all(name, Date.now());
      return { id: Number(row.id), name: String(row.name) };
    });
  }

  searchMembers(
    query: string,
    limit: number,
    options: { sharingRoomWith?: number; exceptRoomId?: number } = {},
  ): Promise<MemberSummary[]> {
    const pattern = containsPattern(query);
    const sharing = options.sharingRoomWith ?? null;
    const rows = this.#sql(
      `SELECT id, name, username FROM members
       WHERE (lower(name) LIKE ? ESCAPE '\\' OR username_key LIKE ? ESCAPE '\\')
         AND (? IS NULL OR EXISTS (
           SELECT 1 FROM room_members mine JOIN room_members theirs ON theirs.room_id = mine.room_id
           WHERE mine.member_id = ? AND theirs.member_id = members.id AND mine.room_id != ?))
       ORDER BY name, id LIMIT ? + 0`,
    ).all(pattern, pattern, sharing, sharing, options.exceptRoomId ?? 0, limit);
    return Promise.resolve(rows.map((row) => ({
      id: Number(row.id),
      name: String(row.name),
      username: row.username === null ? null : String(row.username),
    })));
  }

  findAccounts(usernameKeys: string[]): Promise<MemberSummary[]> {
    if (usernameKeys.length === 0) return Promise.resolve([]);
    const rows = this.#sql(
      `SELECT id, name, username FROM members
       WHERE username_key IN (SELECT value FROM json_each(?))`,
    ).all(JSON.stringify(usernameKeys));
    return Promise.resolve(rows.map(toSummary));
  }

  searchRoomAccounts(
    roomId: number,
    query: string,
    limit: number,
    options: { authorsOnly?: boolean } = {},
  ): Promise<MemberSummary[]> {
    const pattern = containsPattern(query);
    const rows = this.#sql(
      `SELECT m.id, m.name, m.username FROM room_members rm JOIN members m ON m.id = rm.member_id
       WHERE rm.room_id = ? AND m.username_key IS NOT NULL
         AND (lower(m.name) LIKE ? ESCAPE '\\' OR m.username_key LIKE ? ESCAPE '\\')
         AND (? = 0 OR EXISTS (
           SELECT 1 FROM messages x WHERE x.author_id = m.id AND x.room_id = rm.room_id))
       ORDER BY m.name, m.id LIMIT ? + 0`,
    ).all(roomId, pattern, pattern, options.authorsOnly ? 1 : 0, limit);
    return Promise.resolve(rows.map(toSummary));
  }

  getMember(id: number): Promise<Member | null> {
    const row = this.#sql("SELECT id, name FROM members WHERE id = ?").get(id);
    return Promise.resolve(row ? { id: Number(row.id), name: String(row.name) } : null);
  }

  renameMember(id: number, name: string): Promise<Member | null> {
    return this.#sessionsChange(() =>
      this.#write(() => {
        const [row] = this.#sql("UPDATE members SET name = ? WHERE id = ? RETURNING id, name")
          .all(name, id);
        return row ? { id: Number(row.id), name: String(row.name) } : null;
      })
    );
  }

  async createSession(memberId: number, tokenHash: string): Promise<Session> {
    const now = Date.now();
    await this.#write(() =>
      this.#sql(
        `INSERT INTO sessions (token_hash, member_id, created_at, last_seen_at)
         VALUES (?, ?, ?, ?)`,
      ).run(tokenHash, memberId, now, now)
    );
    const session = await this.getSession(tokenHash);
    if (!session) throw new Error(`No member ${memberId}`);
    return session;
  }

  getSession(tokenHash: string): Promise<Session | null> {
    return this.#cached.session(tokenHash, () =>
      this.#run(() => {
        const row = this.#sql(
          `SELECT s.id, s.last_seen_at, m.id AS member_id, m.name, m.username, m.is_admin
           FROM sessions s JOIN members m ON m.id = s.member_id
           WHERE s.token_hash = ? AND m.banned_at IS NULL`,
        ).get(tokenHash);
        return row ? toSession(row) : null;
      }));
  }

  deleteSession(id: number): Promise<void> {
    return this.#sessionsChange(() =>
      this.#write(() => {
        this.#sql("DELETE FROM sessions WHERE id = ?").run(id);
      })
    );
  }

  deleteSessions(memberId: number, exceptId = 0): Promise<number> {
    return this.#sessionsChange(() =>
      this.#write(() => {
        const result = this.#sql("DELETE FROM sessions WHERE member_id = ? AND id != ?")
          .run(memberId, exceptId);
        return Number(result.changes);
      })
    );
  }

  accountNames(exceptMemberId: number): Promise<string[]> {
    const rows = this.#sql(
      "SELECT name, username FROM members WHERE username_key IS NOT NULL AND id != ?",
    ).all(exceptMemberId);
    return Promise.resolve(rows.flatMap((row) => [String(row.name), String(row.username)]));
  }

  registerAccount(input: NewAccount): Promise<Registration> {
    // BEGIN IMMEDIATE takes the write lock first: registrations run one at a time, even
    // across processes, so two first registrations cannot both see "no account yet". A guest
    // becoming an account changes their sessions: the cached ones go.
    return this.#sessionsChange(() =>
      this.#write(() => {
        this.db.exec("BEGIN IMMEDIATE");
        try {
          const result = this.#register(input);
          this.db.exec(result.ok ? "COMMIT" : "ROLLBACK");
          return result;
        } catch (error) {
          if (this.db.isTransaction) this.db.exec("ROLLBACK");
          if (String((error as Error).message).includes("UNIQUE")) {
            return { ok: false, reason: "username_taken" } as const;
          }
          throw error;
        }
      })
    );
  }

  /** The registration itself, inside the transaction; checks everything before writing. */
  #register(input: NewAccount): Registration {
    if (input.memberId !== null) {
      const member = this.#sql("SELECT username_key FROM members WHERE id = ?")
        .get(input.memberId);
      if (!member) return { ok: false, reason: "no_member" };
      if (member.username_key !== null) return { ok: false, reason: "already_registered" };
    }
    if (this.#sql("SELECT 1 AS yes FROM members WHERE username_key = ?").get(input.usernameKey)) {
      return { ok: false, reason: "username_taken" };
    }
    const first = !this.#sql("SELECT 1 AS yes FROM members WHERE username_key IS NOT NULL LIMIT 1")
      .get();
    let inviteId: number | null = null;
    if (input.invite && !first) {
      const invite = input.invite.tokenHash === null ? undefined : this.#sql(
        "SELECT id FROM invites WHERE token_hash = ? AND used_by IS NULL AND expires_at > ?",
      ).get(input.invite.tokenHash, input.invite.now);
      if (!invite) return { ok: false, reason: "invite_required" };
      inviteId = Number(invite.id);
    }
    const memberId = input.memberId ?? Number(
      this.#sql("INSERT INTO members (name, created_at) VALUES (?, ?) RETURNING id")
        .all(input.name, Date.now())[0].id,
    );
    const [row] = this.#sql(
      `UPDATE members SET username = ?, username_key = ?, password_hash = ?, is_admin = ?
       WHERE id = ? RETURNING id, name, username, is_admin`,
    ).all(input.username, input.usernameKey, input.passwordHash, first ? 1 : 0, memberId);
    if (inviteId !== null) {
      this.#sql("UPDATE invites SET used_by = ?, used_at = ? WHERE id = ?")
        .run(memberId, input.invite!.now, inviteId);
    }
    return {
      ok: true,
      member: { id: Number(row.id), name: String(row.name) },
      account: { username: String(row.username), isAdmin: Boolean(row.is_admin) },
    };
  }

  countAccounts(): Promise<number> {
    const row = this.#sql("SELECT count(*) AS n FROM members WHERE username_key IS NOT NULL").get();
    return Promise.resolve(Number(row?.n ?? 0));
  }

  findCredentials(usernameKey: string): Promise<Credentials | null> {
    const row = this.#sql(
      `SELECT id, name, username, is_admin, password_hash FROM members WHERE username_key = ?`,
    ).get(usernameKey);
    return Promise.resolve(
      row
        ? {
          member: { id: Number(row.id), name: String(row.name) },
          account: { username: String(row.username), isAdmin: Boolean(row.is_admin) },
          passwordHash: String(row.password_hash),
        }
        : null,
    );
  }

  getPasswordHash(memberId: number): Promise<string | null> {
    const row = this.#sql("SELECT password_hash FROM members WHERE id = ?").get(memberId);
    return Promise.resolve(row?.password_hash ? String(row.password_hash) : null);
  }

  setPasswordHash(memberId: number, passwordHash: string): Promise<void> {
    return this.#write(() => {
      this.#sql("UPDATE members SET password_hash = ? WHERE id = ? AND username_key IS NOT NULL")
        .run(passwordHash, memberId);
    });
  }

  createInvite(
    input: { createdBy: number; tokenHash: string; expiresAt: number },
  ): Promise<void> {
    return this.#write(() => {
      this.#sql(
        `INSERT INTO invites (token_hash, created_by, created_at, expires_at) VALUES (?, ?, ?, ?)`,
      ).run(input.tokenHash, input.createdBy, Date.now(), input.expiresAt);
    });
  }

  touchSession(id: number, at: number): Promise<void> {
    return this.#write(() => {
      this.#sql("UPDATE sessions SET last_seen_at = ? WHERE id = ?").run(at, id);
      this.#cached.touched(id, at);
    });
  }

  addMessage(input: NewMessage): Promise<{ message: Message; created: boolean }> {
    return this.#transaction(() => {
      const existing = this.#sql(
        "SELECT id FROM messages WHERE author_id = ? AND client_id = ?",
      ).get(input.authorId, input.clientId);
      if (existing) {
        const row = this.#messageRow(Number(existing.id));
        return { message: this.#withReactions([row], String(row.room_slug))[0], created: false };
      }
      const seq = this.#nextSeq(input.room.id);
      // `.all()`, not `.get()`: it runs the statement to its end, so a failed write throws.
      const mentions = sortedIds(input.mentions);
      const [inserted] = this.#sql(
        `INSERT INTO messages
           (room_id, author_id, body, client_id, created_at, seq, reply_to, mentions)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      ).all(
        input.room.id,
        input.authorId,
        input.body,
        input.clientId,
        Date.now(),
        seq,
        input.replyTo ?? null,
        JSON.stringify(mentions),
      );
      this.#setMentions(input.room.id, Number(inserted.id), mentions, { fresh: true });
      this.#attach(input, Number(inserted.id));
      const row = this.#messageRow(Number(inserted.id));
      // A new message has no reactions yet, and files only when it was given some.
      const message = input.attachments?.length
        ? this.#withReactions([row], input.room.slug)[0]
        : toMessage(row, input.room.slug);
      return { message, created: true };
    }).then((result) => {
      if (result.created) this.events.published(input.room.id, result.message.seq);
      return result;
    });
  }

  /**
   * Attaches the new message's files, in the order given (inside its write transaction):
   * each must be the author's upload to the room, not attached yet; else {@link AttachmentError}.
   */
  #attach(input: NewMessage, messageId: number): void {
    (input.attachments ?? []).forEach((fileId, position) => {
      const attached = this.#sql(
        `UPDATE files SET message_id = ?, position = ?
         WHERE id = ? AND room_id = ? AND uploader_id = ? AND message_id IS NULL`,
      ).run(messageId, position, fileId, input.room.id, input.authorId);
      if (Number(attached.changes) === 0) throw new AttachmentError(fileId);
    });
  }

  /** Replaces the mention rows of a message (inside a write transaction). */
  #setMentions(
    roomId: number,
    messageId: number,
    mentions: number[],
    options: { fresh?: boolean } = {},
  ): void {
    if (!options.fresh) this.#sql("DELETE FROM mentions WHERE message_id = ?").run(messageId);
    if (mentions.length === 0) return;
    this.#sql(
      `INSERT INTO mentions (member_id, room_id, message_id)
       SELECT value, ?, ? FROM json_each(?) WHERE value IN (SELECT id FROM members)`,
    ).run(roomId, messageId, JSON.stringify(mentions));
  }

  /** Takes the room's next change number (inside a write transaction). */
  #nextSeq(roomId: number): number {
    const [row] = this.#sql(
      "UPDATE rooms SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq",
    )
      .all(roomId);
    if (!row) throw new Error(`Room ${roomId} does not exist`);
    return Number(row.last_seq);
  }

  /** One message row with everything {@link toMessage} reads, and its room's slug. */
  #messageRow(id: number): Row {
    const row = this.#sql(
      `SELECT ${MESSAGE_COLUMNS}, r.slug AS room_slug, m.room_id FROM messages m ${MESSAGE_JOINS}
       JOIN rooms r ON r.id = m.room_id WHERE m.id = ?`,
    ).get(id);
    if (!row) throw new Error(`Message ${id} does not exist`);
    return row;
  }

  /**
   * Messages from rows, with their reactions and attachments (one query for all of them
   * each).
   */
  #withReactions(rows: Row[], slug: string): Message[] {
    if (rows.length === 0) return [];
    const ids = JSON.stringify(rows.map((row) => Number(row.id)));
    const reactions = groupReactions(
      this.#sql(
        `SELECT message_id, emoji, member_id FROM reactions
       WHERE message_id IN (SELECT value FROM json_each(?)) ORDER BY id`,
      ).all(ids),
    );
    const attachments = groupAttachments(
      this.#sql(
        `SELECT ${FILE_COLUMNS} FROM files
         WHERE message_id IN (SELECT value FROM json_each(?)) ORDER BY message_id, position`,
      ).all(ids),
    );
    return rows.map((row) =>
      toMessage(row, slug, reactions.get(Number(row.id)), attachments.get(Number(row.id)))
    );
  }

  /** The room's change number now. */
  #roomSeq(roomId: number): number {
    const row = this.#sql("SELECT last_seq FROM rooms WHERE id = ?").get(roomId);
    return Number(row?.last_seq ?? 0);
  }

  listMessages(room: Room, query: HistoryQuery): Promise<MessagePage> {
    // A reader who already has the room's latest change: nothing to read (the poll that finds
    // nothing new is the most frequent request of all).
    const empty = this.events.emptyPage(room.id, query);
    if (empty) return Promise.resolve(empty);
    return this.#run(() => {
      const select = `SELECT ${MESSAGE_COLUMNS} FROM messages m ${MESSAGE_JOINS}`;
      const older = (before: number, limit: number) =>
        this.#sql(
          `${select} WHERE m.room_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ? + 0`,
        ).all(room.id, before, limit).reverse();
      const newer = (after: number, limit: number) =>
        this.#sql(`${select} WHERE m.room_id = ? AND m.id > ? ORDER BY m.id LIMIT ? + 0`)
          .all(room.id, after, limit);
      // The change number first, then the rows: every change up to it is committed, and a
      // change committed in between (by another connection) is in the rows.
      const cursor = this.#roomSeq(room.id);
      this.events.seen(room.id, cursor);
      if ("since" in query) {
        const rows = this.#sql(
          `${select} WHERE m.room_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ? + 0`,
        ).all(room.id, query.since, query.limit);
        const last = rows.length > 0 ? Number(rows[rows.length - 1].seq) : query.since;
        return {
          messages: this.#withReactions(rows, room.slug),
          cursor: rows.length < query.limit ? Math.max(cursor, last) : last,
        };
      }
      if ("after" in query) {
        return {
          messages: this.#withReactions(newer(query.after, query.limit), room.slug),
          cursor,
        };
      }
      if ("around" in query) {
        const before = Math.floor((query.limit - 1) / 2);
        const head = older(query.around, before + 1);
        const tail = newer(query.around - 1, query.limit - before + 1);
        const hasOlder = head.length > before;
        const hasNewer = tail.length > query.limit - before;
        const rows = [...head.slice(hasOlder ? 1 : 0), ...tail.slice(0, query.limit - before)];
        return { messages: this.#withReactions(rows, room.slug), cursor, hasOlder, hasNewer };
      }
      const before = "before" in query ? query.before : Number.MAX_SAFE_INTEGER;
      const rows = older(before, query.limit + 1);
      const hasOlder = rows.length > query.limit;
      return {
        messages: this.#withReactions(hasOlder ? rows.slice(1) : rows, room.slug),
        cursor,
        hasOlder,
      };
    });
  }

  findSent(authorId: number, clientId: string): Promise<Message | null> {
    return this.#run(() => {
      const row = this.#sql(
        `SELECT ${MESSAGE_COLUMNS}, r.slug AS room_slug FROM messages m ${MESSAGE_JOINS}
         JOIN rooms r ON r.id = m.room_id WHERE m.author_id = ? AND m.client_id = ?`,
      ).get(authorId, clientId);
      return row ? this.#withReactions([row], String(row.room_slug))[0] : null;
    });
  }

  getMessage(room: Room, id: number): Promise<Message | null> {
    return this.#run(() => {
      const row = this.#sql(
        `SELECT ${MESSAGE_COLUMNS} FROM messages m ${MESSAGE_JOINS} WHERE m.id = ? AND m.room_id = ?`,
      ).get(id, room.id);
      return row ? this.#withReactions([row], room.slug)[0] : null;
    });
  }

  /**
   * Runs a change to message `id` of `room` in one write transaction: `change` gets the
   * message's row and says whether it changed something (then the message takes the room's
   * next change number) or what stands in the way.
   */
  #change(
    room: Room,
    id: number,
    change: (row: Row) => boolean | "deleted" | "too_many_emoji",
  ): Promise<MessageChange> {
    return this.#transaction((): MessageChange => {
      const row = this.#sql("SELECT id, deleted_at FROM messages WHERE id = ? AND room_id = ?")
        .get(id, room.id);
      if (!row) return { ok: false, problem: "not_found" };
      const outcome = change(row);
      if (outcome === "deleted" || outcome === "too_many_emoji") {
        return { ok: false, problem: outcome };
      }
      if (outcome) {
        this.#sql("UPDATE messages SET seq = ? WHERE id = ?").run(this.#nextSeq(room.id), id);
      }
      const message = this.#withReactions([this.#messageRow(id)], room.slug)[0];
      return { ok: true, message, changed: outcome };
    }).then((result) => {
      if (result.ok && result.changed) this.events.published(room.id, result.message.seq);
      return result;
    });
  }

  editMessage(
    input: { room: Room; id: number; body: string; now: number; mentions?: number[] },
  ): Promise<MessageChange> {
    return this.#change(input.room, input.id, (row) => {
      if (row.deleted_at != null) return "deleted";
      const mentions = sortedIds(input.mentions);
      this.#sql("UPDATE messages SET body = ?, edited_at = ?, mentions = ? WHERE id = ?")
        .run(input.body, input.now, JSON.stringify(mentions), input.id);
      this.#setMentions(input.room.id, input.id, mentions);
      return true;
    });
  }

  /**
   * Erases message `id` (inside a transaction): the text, the reactions and the files are gone
   * from the tables, not hidden. Returns the files' contents to unlink from the disk after the
   * commit (those no other file has).
   */
  #erase(id: number, now: number): string[] {
    this.#sql("UPDATE messages SET body = '', mentions = '[]', deleted_at = ? WHERE id = ?")
      .run(now, id);
    this.#sql("DELETE FROM reactions WHERE message_id = ?").run(id);
    this.#sql("DELETE FROM mentions WHERE message_id = ?").run(id);
    const files = this.#sql(
      "DELETE FROM files WHERE message_id = ? RETURNING sha256, preview_sha256",
    ).all(id);
    return this.#releaseContents(files);
  }

  deleteMessage(input: { room: Room; id: number; now: number }): Promise<MessageChange> {
    const unlink: string[] = [];
    return this.#change(input.room, input.id, (row) => {
      if (row.deleted_at != null) return false;
      unlink.push(...this.#erase(input.id, input.now));
      return true;
    }).then(async (result) => {
      await this.#unlinkUnstored(unlink);
      return result;
    });
  }

  react(input: ReactionChange): Promise<MessageChange> {
    return this.#change(input.room, input.id, (row) => {
      if (row.deleted_at != null) return "deleted";
      if (!input.add) {
        const removed = this.#sql(
          "DELETE FROM reactions WHERE message_id = ? AND emoji = ? AND member_id = ?",
        ).run(input.id, input.emoji, input.memberId);
        return Number(removed.changes) > 0;
      }
      const emojis = this.#sql(
        "SELECT DISTINCT emoji FROM reactions WHERE message_id = ?",
      ).all(input.id).map((r) => String(r.emoji));
      if (!emojis.includes(input.emoji) && emojis.length >= input.maxEmoji) {
        return "too_many_emoji";
      }
      const added = this.#sql(
        `INSERT INTO reactions (message_id, member_id, emoji, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      ).run(input.id, input.memberId, input.emoji, Date.now());
      return Number(added.changes) > 0;
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

  publishTyping(signal: TypingSignal): Promise<void> {
    // Asynchronously, as a notification from the database would arrive.
    queueMicrotask(() => this.#typing.forEach((listener) => listener(signal)));
    this.#peers?.tell({ kind: "typing", signal });
    return Promise.resolve();
  }

  onTyping(listener: (signal: TypingSignal) => void): () => void {
    this.#typing.add(listener);
    return () => this.#typing.delete(listener);
  }

  pruneStale(options: PruneOptions): Promise<PruneCounts> {
    // Idle sessions and forgotten guests go: cached sessions with them.
    return this.#sessionsChange(() => this.#pruneStale(options));
  }

  async #pruneStale(options: PruneOptions): Promise<PruneCounts> {
    const counts = { sessions: 0, invites: 0, guests: 0, files: 0 };
    // In batches, each its own short transaction, so that writers wait at most one batch.
    const batches = async (sql: string, ...params: number[]) => {
      let removed = 0;
      for (;;) {
        const changes = await this.#transaction(() =>
          Number(this.#sql(sql).run(...params, PRUNE_BATCH).changes)
        );
        removed += changes;
        if (changes < PRUNE_BATCH) return removed;
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    };
    counts.sessions = await batches(
      `DELETE FROM sessions WHERE id IN (
         SELECT id FROM sessions WHERE last_seen_at < ? LIMIT ? + 0)`,
      options.now - options.sessionIdleMs,
    );
    counts.invites = await batches(
      "DELETE FROM invites WHERE id IN (SELECT id FROM invites WHERE expires_at <= ? LIMIT ? + 0)",
      options.now,
    );
    counts.files = await this.#pruneFiles(options);
    // Room memberships go with the member (ON DELETE CASCADE).
    counts.guests = await batches(
      `DELETE FROM members WHERE id IN (
         SELECT g.id FROM members g
         WHERE g.username_key IS NULL AND g.created_at < ?
           AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.member_id = g.id)
           AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.author_id = g.id)
           AND NOT EXISTS (SELECT 1 FROM reactions x WHERE x.member_id = g.id)
           AND NOT EXISTS (SELECT 1 FROM files f WHERE f.uploader_id = g.id)
           AND g.id NOT IN (SELECT created_by FROM rooms WHERE created_by IS NOT NULL)
           AND g.id NOT IN (SELECT created_by FROM invites)
           AND g.id NOT IN (SELECT used_by FROM invites WHERE used_by IS NOT NULL)
         LIMIT ? + 0)`,
      options.now - options.guestRetentionMs,
    );
    // Last, as it waits for the disk: temporary files of uploads cut off by a crash.
    await this.content.removeStaleTemp(options.now - ORPHAN_MS);
    return counts;
  }

  // --- files ---

  /**
   * Removes uploads left unattached for longer than the retention (in batches) and contents
   * no file has that are older than an hour; returns how many uploads were removed.
   */
  async #pruneFiles(options: PruneOptions): Promise<number> {
    const before = options.now - (options.uploadRetentionMs ?? UPLOAD_RETENTION_MS);
    let removed = 0;
    for (;;) {
      const { count, unlink } = await this.#transaction(() => {
        const files = this.#sql(
          `DELETE FROM files WHERE id IN (
             SELECT id FROM files WHERE message_id IS NULL AND created_at < ? LIMIT ? + 0)
           RETURNING sha256, preview_sha256`,
        ).all(before, PRUNE_BATCH);
        return { count: files.length, unlink: this.#releaseContents(files) };
      });
      await this.#unlinkUnstored(unlink);
      removed += count;
      if (count < PRUNE_BATCH) break;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const orphans = await this.#transaction(() =>
      this.#sql(
        `DELETE FROM blobs WHERE created_at < ?1
           AND NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = blobs.sha256)
           AND NOT EXISTS (SELECT 1 FROM files f WHERE f.preview_sha256 = blobs.sha256)
         RETURNING sha256`,
      ).all(options.now - ORPHAN_MS).map((row) => String(row.sha256))
    );
    await this.#unlinkUnstored(orphans);
    return removed;
  }

  /**
   * Removes the `blobs` rows of these contents (rows with `sha256` and `preview_sha256`) that
   * no file has any more (inside a write transaction); returns their keys, to unlink with
   * {@link #unlinkUnstored} after the commit.
   */
  #releaseContents(files: Row[]): string[] {
    const keys = new Set(
      files.flatMap((file) => [file.sha256, file.preview_sha256]).filter((key) => key != null)
        .map(String),
    );
    return [...keys].filter((key) =>
      Number(
        this.#sql(
          `DELETE FROM blobs WHERE sha256 = ?1
             AND NOT EXISTS (SELECT 1 FROM files WHERE sha256 = ?1)
             AND NOT EXISTS (SELECT 1 FROM files WHERE preview_sha256 = ?1)`,
        ).run(key).changes,
      ) > 0
    );
  }

  /** Whether a `blobs` row records the content with this key. */
  #isStored(sha256: string): boolean {
    return this.#sql("SELECT 1 AS yes FROM blobs WHERE sha256 = ?").get(sha256) !== undefined;
  }

  /**
   * Unlinks the bytes of these contents from the disk, each unless a `blobs` row records it
   * again (an upload of the same bytes since): checked and unlinked under the content's
   * {@link ContentFolder.exclusive}, which uploads take too. A failure is logged, not thrown:
   * the rows are gone already.
   */
  async #unlinkUnstored(keys: string[]): Promise<void> {
    for (const key of keys) {
      await this.content.exclusive(key, async () => {
        if (!this.#isStored(key)) await this.content.remove(key);
      }).catch((error) => console.warn(`Cannot remove the stored file ${key}: ${error}`));
    }
  }

  /**
   * Puts a received content in its place and runs `record` (a write transaction that records
   * it in `blobs`), under the content's lock; unlinks the bytes again when, in the end, no
   * `blobs` row records them (the transaction failed or recorded nothing).
   */
  async #store<T>(received: ReceivedContent, record: () => T): Promise<T> {
    return await this.content.exclusive(received.sha256, async () => {
      await this.content.place(received);
      try {
        return await this.#transaction(record);
      } finally {
        if (!this.#isStored(received.sha256)) await this.content.remove(received.sha256);
      }
    });
  }

  async addFile(input: NewFile): Promise<StoredFile> {
    const received = await this.content.receive(input.content, input.maxBytes);
    return await this.#store(received, () => {
      this.#sql(
        "INSERT INTO blobs (sha256, size, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
      ).run(received.sha256, received.size, input.now);
      const [row] = this.#sql(
        `INSERT INTO files
           (id, room_id, uploader_id, name, size, type, width, height, sha256, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${FILE_COLUMNS}`,
      ).all(
        newFileId(),
        input.roomId,
        input.uploaderId,
        input.name,
        received.size,
        input.type,
        input.width,
        input.height,
        received.sha256,
        input.now,
      );
      return toStoredFile(row);
    });
  }

  /** Null when there is no unattached file with this id. */
  async setFilePreview(input: NewPreview): Promise<StoredFile | null> {
    const received = await this.content.receive(input.content, input.maxBytes);
    const unlink: string[] = [];
    const file = await this.#store(received, () => {
      const current = this.#sql(
        "SELECT preview_sha256 FROM files WHERE id = ? AND message_id IS NULL",
      )
        .get(input.fileId);
      if (!current) return null;
      this.#sql(
        "INSERT INTO blobs (sha256, size, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
      ).run(received.sha256, received.size, Date.now());
      const [row] = this.#sql(
        `UPDATE files SET preview_sha256 = ?, preview_type = ?, preview_size = ?,
           preview_width = ?, preview_height = ?
         WHERE id = ? RETURNING ${FILE_COLUMNS}`,
      ).all(
        received.sha256,
        input.type,
        received.size,
        input.width,
        input.height,
        input.fileId,
      );
      unlink.push(...this.#releaseContents([current]));
      return toStoredFile(row);
    });
    await this.#unlinkUnstored(unlink);
    return file;
  }

  getFile(id: string): Promise<StoredFile | null> {
    return this.#run(() => {
      const row = this.#sql(`SELECT ${FILE_COLUMNS} FROM files WHERE id = ?`).get(id);
      return row ? toStoredFile(row) : null;
    });
  }

  /** Counts the files' previews too. */
  uploadedBytes(memberId: number, since: number): Promise<number> {
    return this.#run(() => {
      const row = this.#sql(
        `SELECT coalesce(sum(size + coalesce(preview_size, 0)), 0) AS n FROM files
         WHERE uploader_id = ? AND created_at >= ?`,
      ).get(memberId, since);
      return Number(row?.n ?? 0);
    });
  }

  async readContent(
    sha256: string,
    range?: ByteRange,
  ): Promise<ReadableStream<Uint8Array> | null> {
    if (!isContentKey(sha256) || !await this.#run(() => this.#isStored(sha256))) return null;
    return await this.content.open(sha256, range);
  }

  searchMessages(query: SearchQuery): Promise<Message[]> {
    return this.#run(() =>
      searchSqlite(this.db, query, (rows, slug) => this.#withReactions(rows, slug))
    );
  }

  banMember(memberId: number, now: number): Promise<number | null> {
    return this.#sessionsChange(() =>
      this.#transaction(() => {
        const banned = this.#sql(
          "UPDATE members SET banned_at = coalesce(banned_at, ?) WHERE id = ?",
        ).run(now, memberId);
        if (Number(banned.changes) === 0) return null;
        return Number(this.#sql("DELETE FROM sessions WHERE member_id = ?").run(memberId).changes);
      })
    );
  }

  unbanMember(memberId: number): Promise<boolean> {
    return this.#write(() =>
      Number(
        this.#sql("UPDATE members SET banned_at = NULL WHERE id = ? AND banned_at IS NOT NULL")
          .run(memberId).changes,
      ) > 0
    );
  }

  isBanned(memberId: number): Promise<boolean> {
    return this.#run(() =>
      this.#sql("SELECT 1 AS yes FROM members WHERE id = ? AND banned_at IS NOT NULL")
        .get(memberId) !== undefined
    );
  }

  listAdminMembers(options: { query?: string; limit: number }): Promise<AdminMember[]> {
    return this.#run(() => {
      const pattern = `%${(options.query ?? "").replace(/[\\%_]/g, "\\$&")}%`;
      return this.#sql(
        `SELECT ${ADMIN_MEMBER_COLUMNS} FROM members m
         WHERE m.name LIKE ?1 ESCAPE '\\' OR coalesce(m.username, '') LIKE ?1 ESCAPE '\\'
         ORDER BY m.id DESC LIMIT ?2 + 0`,
      ).all(pattern, options.limit).map(toAdminMember);
    });
  }

  setAdmin(memberId: number, admin: boolean): Promise<boolean> {
    return this.#sessionsChange(() =>
      this.#write(() =>
        Number(
          this.#sql("UPDATE members SET is_admin = ? WHERE id = ? AND username_key IS NOT NULL")
            .run(admin ? 1 : 0, memberId).changes,
        ) > 0
      )
    );
  }

  countAdmins(): Promise<number> {
    return this.#run(() =>
      Number(this.#sql("SELECT count(*) AS n FROM members WHERE is_admin = 1").get()?.n ?? 0)
    );
  }

  async deleteMessagesBy(memberId: number, now: number): Promise<number> {
    // Room by room, oldest first, in batches of short transactions; each message takes its
    // room's next change number, as a single deletion does, and readers wake once a batch.
    const rooms = await this.#run(() =>
      this.#sql("SELECT DISTINCT room_id FROM messages WHERE author_id = ? AND deleted_at IS NULL")
        .all(memberId).map((row) => Number(row.room_id))
    );
    let deleted = 0;
    for (const roomId of rooms) {
      for (;;) {
        const unlink: string[] = [];
        const batch = await this.#transaction(() => {
          const ids = this.#sql(
            `SELECT id FROM messages WHERE author_id = ? AND room_id = ? AND deleted_at IS NULL
             ORDER BY id LIMIT ? + 0`,
          ).all(memberId, roomId, DELETE_BATCH).map((row) => Number(row.id));
          let seq = 0;
          for (const id of ids) {
            unlink.push(...this.#erase(id, now));
            seq = this.#nextSeq(roomId);
            this.#sql("UPDATE messages SET seq = ? WHERE id = ?").run(seq, id);
          }
          return { count: ids.length, seq };
        });
        await this.#unlinkUnstored(unlink);
        if (batch.count > 0) this.events.published(roomId, batch.seq);
        deleted += batch.count;
        if (batch.count < DELETE_BATCH) break;
      }
    }
    return deleted;
  }

  listAdminRooms(limit: number): Promise<AdminRoom[]> {
    return this.#run(() =>
      this.#sql(
        `SELECT ${ADMIN_ROOM_COLUMNS} FROM rooms r WHERE r.kind != 'direct'
         ORDER BY r.name, r.id LIMIT ? + 0`,
      ).all(limit).map(toAdminRoom)
    );
  }

  archiveRoom(roomId: number, now: number): Promise<boolean> {
    return this.#roomsChange(() =>
      this.#write(() =>
        Number(
          this.#sql("UPDATE rooms SET archived_at = coalesce(archived_at, ?) WHERE id = ?")
            .run(now, roomId).changes,
        ) > 0
      )
    );
  }

  deleteRoom(roomId: number): Promise<boolean> {
    return this.#roomsChange(() => this.#deleteRoom(roomId));
  }

  async #deleteRoom(roomId: number): Promise<boolean> {
    const unlink: string[] = [];
    // The messages first, newest first (a reply is newer than what it answers), in batches
    // of short transactions: taking each out of the search index costs some 0.2 ms, and
    // writers should wait for one batch at most. Then the room and whatever is left, at once.
    for (;;) {
      const removed = await this.#transaction(() => {
        const ids = this.#sql(
          "SELECT id FROM messages WHERE room_id = ? ORDER BY id DESC LIMIT ? + 0",
        ).all(roomId, PRUNE_BATCH).map((row) => Number(row.id));
        if (ids.length === 0) return 0;
        const list = JSON.stringify(ids);
        const files = this.#sql(
          `DELETE FROM files WHERE message_id IN (SELECT value FROM json_each(?))
           RETURNING sha256, preview_sha256`,
        ).all(list);
        this.#sql("DELETE FROM reactions WHERE message_id IN (SELECT value FROM json_each(?))")
          .run(list);
        this.#sql("DELETE FROM messages WHERE id IN (SELECT value FROM json_each(?))").run(list);
        unlink.push(...this.#releaseContents(files));
        return ids.length;
      });
      if (removed < PRUNE_BATCH) break;
    }
    const deleted = await this.#transaction(() => {
      const files = this.#sql(
        "DELETE FROM files WHERE room_id = ? RETURNING sha256, preview_sha256",
      ).all(roomId);
      this.#sql(
        "DELETE FROM reactions WHERE message_id IN (SELECT id FROM messages WHERE room_id = ?)",
      ).run(roomId);
      this.#sql("DELETE FROM messages WHERE room_id = ?").run(roomId);
      const removed = Number(this.#sql("DELETE FROM rooms WHERE id = ?").run(roomId).changes);
      unlink.push(...this.#releaseContents(files));
      return removed > 0;
    });
    await this.#unlinkUnstored(unlink);
    if (deleted) this.events.closed(roomId);
    return deleted;
  }

  listOpenInvites(now: number): Promise<OpenInvite[]> {
    return this.#run(() =>
      this.#sql(
        `SELECT i.id, i.created_at, i.expires_at, i.created_by, m.name
         FROM invites i JOIN members m ON m.id = i.created_by
         WHERE i.used_by IS NULL AND i.expires_at > ? ORDER BY i.id DESC`,
      ).all(now).map(toOpenInvite)
    );
  }

  recordAudit(entry: NewAuditEntry): Promise<void> {
    return this.#write(() => {
      this.#sql(
        `INSERT INTO audit_log (at, actor_id, action, target_kind, target_id, detail)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(
        entry.at,
        entry.actorId,
        entry.action,
        entry.targetKind,
        entry.targetId,
        JSON.stringify(entry.detail),
      );
    });
  }

  listAuditLog(options: { before?: number; limit: number }): Promise<AuditEntry[]> {
    return this.#run(() =>
      this.#sql(
        `SELECT ${AUDIT_COLUMNS} FROM audit_log l LEFT JOIN members a ON a.id = l.actor_id
         WHERE l.id < ? ORDER BY l.id DESC LIMIT ? + 0`,
      ).all(options.before ?? Number.MAX_SAFE_INTEGER, options.limit).map(toAuditEntry)
    );
  }

  checkReady(): Promise<void> {
    try {
      const { user_version: version } = this.#sql("PRAGMA user_version").get() as {
        user_version: number;
      };
      if (version !== SQLITE_MIGRATIONS.length) {
        throw new Error(`schema version ${version}, this Parley needs ${SQLITE_MIGRATIONS.length}`);
      }
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(new StoreUnavailableError("SQLite is not ready", { cause: error }));
    }
  }

  close(): Promise<void> {
    this.#peers?.close();
    for (const statement of this.#statements.values()) {
      (statement as unknown as { finalize?: () => void }).finalize?.();
    }
    this.db.close();
    return this.content.close();
  }
}
