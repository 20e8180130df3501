// SQLite schema migrations; entry N brings a database from `PRAGMA user_version` N to N+1.
import { SQLITE_FILES_MIGRATION } from "./files.ts";
import { SQLITE_SEARCH_MIGRATION } from "./search.ts";

/**
 * Message ids come from one AUTOINCREMENT sequence per database, so they never repeat and
 * order every room's history; clients use them as cursors. `edited_at` and `deleted_at` are
 * there for edits and deletions, which will reach clients through the same poll.
 */
export const SQLITE_MIGRATIONS: string[] = [
  `
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;

  CREATE TABLE rooms (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    topic TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE members (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX sessions_member ON sessions(member_id);

  CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id INTEGER NOT NULL REFERENCES rooms(id),
    author_id INTEGER NOT NULL REFERENCES members(id),
    body TEXT NOT NULL,
    client_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    edited_at INTEGER,
    deleted_at INTEGER
  ) STRICT;
  CREATE UNIQUE INDEX messages_author_client ON messages(author_id, client_id);
  CREATE INDEX messages_room_id ON messages(room_id, id);

  INSERT INTO rooms (slug, name, topic, created_at)
  VALUES ('general', 'general', 'Everything and anything', unixepoch('subsec') * 1000);
  `,
  `
  ALTER TABLE members ADD COLUMN username TEXT;
  ALTER TABLE members ADD COLUMN username_key TEXT;
  ALTER TABLE members ADD COLUMN password_hash TEXT;
  ALTER TABLE members ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0;
  CREATE UNIQUE INDEX members_username_key ON members(username_key)
    WHERE username_key IS NOT NULL;

  CREATE TABLE invites (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    created_by INTEGER NOT NULL REFERENCES members(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_by INTEGER REFERENCES members(id),
    used_at INTEGER
  ) STRICT;
  `,
  `
  ALTER TABLE rooms ADD COLUMN kind TEXT NOT NULL DEFAULT 'public';
  ALTER TABLE rooms ADD COLUMN created_by INTEGER REFERENCES members(id);
  ALTER TABLE rooms ADD COLUMN direct_key TEXT;
  CREATE UNIQUE INDEX rooms_direct_key ON rooms(direct_key) WHERE direct_key IS NOT NULL;

  CREATE TABLE room_members (
    room_id INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    joined_at INTEGER NOT NULL,
    last_read_id INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, member_id)
  ) STRICT;
  CREATE INDEX room_members_member ON room_members(member_id);
  `,
  // The change feed: every change in a room (new message, edit, deletion, reaction) takes the
  // room's next change number; a message's seq is its latest. Messages from before take their
  // id (ascending per room, as change numbers must be).
  `
  ALTER TABLE rooms ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN reply_to INTEGER REFERENCES messages(id);
  UPDATE messages SET seq = id;
  UPDATE rooms SET last_seq = coalesce((SELECT max(id) FROM messages WHERE room_id = rooms.id), 0);
  CREATE INDEX messages_room_seq ON messages(room_id, seq);

  CREATE TABLE reactions (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    emoji TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (message_id, emoji, member_id)
  ) STRICT;
  `,
  // Mentions: the member ids a message mentions (as JSON, the same for every reader), and one
  // row per mentioned member for counting a member's unread mentions room by room.
  `
  ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '[]';
  CREATE TABLE mentions (
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    room_id INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    PRIMARY KEY (member_id, room_id, message_id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX mentions_message ON mentions(message_id);
  `,
  SQLITE_FILES_MIGRATION,
  SQLITE_SEARCH_MIGRATION,
  // Moderation: a member's ban (null: not banned), a room's archiving (read-only), and the
  // audit log of admin actions (the actor is kept by id, without a reference: entries outlive
  // members; the target is a member id or a room slug, as text).
  `
  ALTER TABLE members ADD COLUMN banned_at INTEGER;
  ALTER TABLE rooms ADD COLUMN archived_at INTEGER;
  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
  ) STRICT;
  -- Deleting a room deletes its messages: each deleted row's replies are looked up.
  CREATE INDEX messages_reply_to ON messages(reply_to) WHERE reply_to IS NOT NULL;
  `,
];
