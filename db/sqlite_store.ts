// The SQLite store on Deno's built-in node:sqlite: WAL, versioned migrations, prepared statements.
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { dirname } from "node:path";
import { SQLITE_MIGRATIONS } from "./migrations/sqlite.ts";
import { RoomEvents } from "./room_events.ts";
import { containsPattern, type Row, toMessage, toRoom, toSession } from "./rows.ts";
import type {
  Account,
  Credentials,
  HistoryQuery,
  Member,
  MemberSummary,
  Message,
  MessageWaiter,
  MyRoom,
  NewMessage,
  NewRoom,
  Room,
  Session,
  Store,
} from "./store.ts";

const MESSAGE_COLUMNS = `m.id, m.body, m.client_id, m.created_at,
  a.id AS author_id, a.name AS author_name`;

const ROOM_COLUMNS = "id, slug, name, topic, kind";

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
    db.exec("ROLLBACK");
    throw error;
  }
}

/** A {@link Store} on one SQLite file (or `:memory:`). */
export class SqliteStore implements Store {
  readonly kind = "sqlite";
  readonly db: DatabaseSync;
  readonly events = new RoomEvents();
  #statements = new Map<string, StatementSync>();

  /** Opens (creating folders and file as needed) and migrates the database at `path`. */
  constructor(path: string) {
    if (path !== ":memory:") Deno.mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      PRAGMA foreign_keys = ON;
      PRAGMA busy_timeout = 5000;
    `);
    migrateSqlite(this.db);
  }

  #sql(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  getSetting(key: string): Promise<string | null> {
    const row = this.#sql("SELECT value FROM settings WHERE key = ?").get(key);
    return Promise.resolve(row ? String(row.value) : null);
  }

  initSetting(key: string, value: string): Promise<string> {
    this.#sql("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING")
      .run(key, value);
    return this.getSetting(key) as Promise<string>;
  }

  getRoom(slug: string): Promise<Room | null> {
    const row = this.#sql(`SELECT ${ROOM_COLUMNS} FROM rooms WHERE slug = ?`).get(slug);
    return Promise.resolve(row ? toRoom(row) : null);
  }

  createRoom(input: NewRoom): Promise<Room | null> {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const row = this.#sql(
        `INSERT INTO rooms (slug, name, topic, kind, created_by, direct_key, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING ${ROOM_COLUMNS}`,
      ).get(
        input.slug,
        input.name,
        input.topic,
        input.kind,
        input.createdBy,
        input.directKey ?? null,
        Date.now(),
      )!;
      this.#sql(
        "INSERT INTO room_members (room_id, member_id, joined_at) VALUES (?, ?, ?)",
      ).run(row.id, input.createdBy, Date.now());
      this.db.exec("COMMIT");
      return Promise.resolve(toRoom(row));
    } catch (error) {
      this.db.exec("ROLLBACK");
      if (String((error as Error).message).includes("UNIQUE")) return Promise.resolve(null);
      throw error;
    }
  }

  getDirectRoom(directKey: string): Promise<Room | null> {
    const row = this.#sql(`SELECT ${ROOM_COLUMNS} FROM rooms WHERE direct_key = ?`)
      .get(directKey);
    return Promise.resolve(row ? toRoom(row) : null);
  }

  listPublicRooms(): Promise<Room[]> {
    const rows = this.#sql(
      `SELECT ${ROOM_COLUMNS} FROM rooms WHERE kind = 'public' ORDER BY name`,
    ).all();
    return Promise.resolve(rows.map(toRoom));
  }

  listMyRooms(memberId: number, unreadCap: number): Promise<MyRoom[]> {
    const rows = this.#sql(
      `SELECT r.id, r.slug, r.topic, r.kind, rm.last_read_id,
         CASE WHEN r.kind = 'direct' THEN coalesce((
           SELECT o.name FROM room_members x JOIN members o ON o.id = x.member_id
           WHERE x.room_id = r.id AND x.member_id != rm.member_id LIMIT 1), r.name)
         ELSE r.name END AS name,
         (SELECT count(*) FROM (SELECT 1 FROM messages m
           WHERE m.room_id = r.id AND m.id > rm.last_read_id LIMIT ?)) AS unread
       FROM room_members rm JOIN rooms r ON r.id = rm.room_id
       WHERE rm.member_id = ? ORDER BY r.kind = 'direct', name`,
    ).all(unreadCap, memberId);
    return Promise.resolve(rows.map((row) => ({
      ...toRoom(row),
      unread: Number(row.unread),
      lastReadId: Number(row.last_read_id),
    })));
  }

  isRoomMember(roomId: number, memberId: number): Promise<boolean> {
    const row = this.#sql("SELECT 1 AS yes FROM room_members WHERE room_id = ? AND member_id = ?")
      .get(roomId, memberId);
    return Promise.resolve(Boolean(row));
  }

  addRoomMember(roomId: number, memberId: number): Promise<void> {
    this.#sql(
      `INSERT INTO room_members (room_id, member_id, joined_at, last_read_id)
       VALUES (?, ?, ?, (SELECT coalesce(max(id), 0) FROM messages WHERE room_id = ?))
       ON CONFLICT DO NOTHING`,
    ).run(roomId, memberId, Date.now(), roomId);
    return Promise.resolve();
  }

  removeRoomMember(roomId: number, memberId: number): Promise<boolean> {
    const result = this.#sql("DELETE FROM room_members WHERE room_id = ? AND member_id = ?")
      .run(roomId, memberId);
    return Promise.resolve(Number(result.changes) > 0);
  }

  markRead(roomId: number, memberId: number, messageId: number): Promise<void> {
    this.#sql(
      `UPDATE room_members SET last_read_id = max(last_read_id, ?)
       WHERE room_id = ? AND member_id = ?`,
    ).run(messageId, roomId, memberId);
    return Promise.resolve();
  }

  listRoomMembers(roomId: number): Promise<Member[]> {
    const rows = this.#sql(
      `SELECT m.id, m.name FROM room_members rm JOIN members m ON m.id = rm.member_id
       WHERE rm.room_id = ? ORDER BY m.name`,
    ).all(roomId);
    return Promise.resolve(rows.map((row) => ({ id: Number(row.id), name: String(row.name) })));
  }

  createMember(name: string): Promise<Member> {
    const row = this.#sql(
      "INSERT INTO members (name, created_at) VALUES (?, ?) RETURNING id, name",
    ).get(name, Date.now())!;
    return Promise.resolve({ id: Number(row.id), name: String(row.name) });
  }

  searchMembers(query: string, limit: number): Promise<MemberSummary[]> {
    const pattern = containsPattern(query);
    const rows = this.#sql(
      `SELECT id, name, username FROM members
       WHERE lower(name) LIKE ? ESCAPE '\\' OR username_key LIKE ? ESCAPE '\\'
       ORDER BY name, id LIMIT ?`,
    ).all(pattern, pattern, limit);
    return Promise.resolve(rows.map((row) => ({
      id: Number(row.id),
      name: String(row.name),
      username: row.username === null ? null : String(row.username),
    })));
  }

  getMember(id: number): Promise<Member | null> {
    const row = this.#sql("SELECT id, name FROM members WHERE id = ?").get(id);
    return Promise.resolve(row ? { id: Number(row.id), name: String(row.name) } : null);
  }

  renameMember(id: number, name: string): Promise<Member | null> {
    const row = this.#sql("UPDATE members SET name = ? WHERE id = ? RETURNING id, name")
      .get(name, id);
    return Promise.resolve(row ? { id: Number(row.id), name: String(row.name) } : null);
  }

  async createSession(memberId: number, tokenHash: string): Promise<Session> {
    const now = Date.now();
    this.#sql(
      `INSERT INTO sessions (token_hash, member_id, created_at, last_seen_at)
       VALUES (?, ?, ?, ?)`,
    ).run(tokenHash, memberId, now, now);
    const session = await this.getSession(tokenHash);
    if (!session) throw new Error(`No member ${memberId}`);
    return session;
  }

  getSession(tokenHash: string): Promise<Session | null> {
    const row = this.#sql(
      `SELECT s.id, s.last_seen_at, m.id AS member_id, m.name, m.username, m.is_admin
       FROM sessions s JOIN members m ON m.id = s.member_id WHERE s.token_hash = ?`,
    ).get(tokenHash);
    return Promise.resolve(
      row ? toSession(row) : null,
    );
  }

  deleteSession(id: number): Promise<void> {
    this.#sql("DELETE FROM sessions WHERE id = ?").run(id);
    return Promise.resolve();
  }

  deleteSessions(memberId: number, exceptId = 0): Promise<number> {
    const result = this.#sql("DELETE FROM sessions WHERE member_id = ? AND id != ?")
      .run(memberId, exceptId);
    return Promise.resolve(Number(result.changes));
  }

  registerAccount(
    memberId: number,
    input: { username: string; usernameKey: string; passwordHash: string },
  ): Promise<Account | null> {
    try {
      const row = this.#sql(
        `UPDATE members SET username = ?, username_key = ?, password_hash = ?,
           is_admin = NOT EXISTS (SELECT 1 FROM members WHERE username_key IS NOT NULL)
         WHERE id = ? AND username_key IS NULL RETURNING username, is_admin`,
      ).get(input.username, input.usernameKey, input.passwordHash, memberId);
      return Promise.resolve(
        row ? { username: String(row.username), isAdmin: Boolean(row.is_admin) } : null,
      );
    } catch (error) {
      if (String((error as Error).message).includes("UNIQUE")) return Promise.resolve(null);
      throw error;
    }
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
    this.#sql("UPDATE members SET password_hash = ? WHERE id = ? AND username_key IS NOT NULL")
      .run(passwordHash, memberId);
    return Promise.resolve();
  }

  createInvite(
    input: { createdBy: number; tokenHash: string; expiresAt: number },
  ): Promise<void> {
    this.#sql(
      `INSERT INTO invites (token_hash, created_by, created_at, expires_at) VALUES (?, ?, ?, ?)`,
    ).run(input.tokenHash, input.createdBy, Date.now(), input.expiresAt);
    return Promise.resolve();
  }

  useInvite(tokenHash: string, memberId: number, now: number): Promise<boolean> {
    const row = this.#sql(
      `UPDATE invites SET used_by = ?, used_at = ?
       WHERE token_hash = ? AND used_by IS NULL AND expires_at > ? RETURNING id`,
    ).get(memberId, now, tokenHash, now);
    return Promise.resolve(Boolean(row));
  }

  touchSession(id: number, at: number): Promise<void> {
    this.#sql("UPDATE sessions SET last_seen_at = ? WHERE id = ?").run(at, id);
    return Promise.resolve();
  }

  addMessage(input: NewMessage): Promise<{ message: Message; created: boolean }> {
    const inserted = this.#sql(
      `INSERT INTO messages (room_id, author_id, body, client_id, created_at)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (author_id, client_id) DO NOTHING RETURNING id`,
    ).get(input.room.id, input.authorId, input.body, input.clientId, Date.now());
    const row = this.#sql(
      `SELECT ${MESSAGE_COLUMNS}, r.slug AS room_slug, m.room_id FROM messages m
       JOIN members a ON a.id = m.author_id JOIN rooms r ON r.id = m.room_id
       WHERE m.author_id = ? AND m.client_id = ?`,
    ).get(input.authorId, input.clientId)!;
    const message = toMessage(row, String(row.room_slug));
    if (inserted) this.events.published(input.room.id, message.id);
    return Promise.resolve({ message, created: Boolean(inserted) });
  }

  listMessages(room: Room, query: HistoryQuery): Promise<Message[]> {
    let rows: Row[];
    const from = `FROM messages m JOIN members a ON a.id = m.author_id`;
    if ("after" in query) {
      rows = this.#sql(
        `SELECT ${MESSAGE_COLUMNS} ${from}
         WHERE m.room_id = ? AND m.id > ? ORDER BY m.id LIMIT ?`,
      ).all(room.id, query.after, query.limit);
    } else {
      const before = "before" in query ? query.before : Number.MAX_SAFE_INTEGER;
      rows = this.#sql(
        `SELECT ${MESSAGE_COLUMNS} ${from}
         WHERE m.room_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?`,
      ).all(room.id, before, query.limit).reverse();
    }
    return Promise.resolve(rows.map((row) => toMessage(row, room.slug)));
  }

  waitForMessage(
    room: Room,
    after: number,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): MessageWaiter {
    return this.events.wait(room.id, after, options);
  }

  close(): Promise<void> {
    for (const statement of this.#statements.values()) {
      (statement as unknown as { finalize?: () => void }).finalize?.();
    }
    this.db.close();
    return Promise.resolve();
  }
}
