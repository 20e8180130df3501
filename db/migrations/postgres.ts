// PostgreSQL schema migrations; entry N brings a database from version N to N+1 (table parley_schema).
import { POSTGRES_FILES_MIGRATION } from "./files.ts";
import { POSTGRES_SEARCH_MIGRATION } from "./search.ts";

/**
 * The same schema as SQLite's: message ids come from one identity sequence, and inserts into a
 * room are serialized (see PostgresStore.addMessage) so that ids commit in order within a room.
 */
export const POSTGRES_MIGRATIONS: string[] = [
  `
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );

  CREATE TABLE rooms (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    topic TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
  );

  CREATE TABLE members (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );

  CREATE TABLE sessions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    member_id BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
  );
  CREATE INDEX sessions_member ON sessions(member_id);

  CREATE TABLE messages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id BIGINT NOT NULL REFERENCES rooms(id),
    author_id BIGINT NOT NULL REFERENCES members(id),
    body TEXT NOT NULL,
    client_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    edited_at BIGINT,
    deleted_at BIGINT,
    UNIQUE (author_id, client_id)
  );
  CREATE INDEX messages_room_id ON messages(room_id, id);

  INSERT INTO rooms (slug, name, topic, created_at)
  VALUES ('general', 'general', 'Everything and anything',
          (extract(epoch from now()) * 1000)::bigint);
  `,
  `
  ALTER TABLE members ADD COLUMN username TEXT;
  ALTER TABLE members ADD COLUMN username_key TEXT;
  ALTER TABLE members ADD COLUMN password_hash TEXT;
  ALTER TABLE members ADD COLUMN is_admin BOOLEAN NOT NULL DEFAULT FALSE;
  CREATE UNIQUE INDEX members_username_key ON members(username_key)
    WHERE username_key IS NOT NULL;

  CREATE TABLE invites (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    created_by BIGINT NOT NULL REFERENCES members(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_by BIGINT REFERENCES members(id),
    used_at BIGINT
  );
  `,
  `
  ALTER TABLE rooms ADD COLUMN kind TEXT NOT NULL DEFAULT 'public';
  ALTER TABLE rooms ADD COLUMN created_by BIGINT REFERENCES members(id);
  ALTER TABLE rooms ADD COLUMN direct_key TEXT;
  CREATE UNIQUE INDEX rooms_direct_key ON rooms(direct_key) WHERE direct_key IS NOT NULL;

  CREATE TABLE room_members (
    room_id BIGINT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    joined_at BIGINT NOT NULL,
    last_read_id BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, member_id)
  );
  CREATE INDEX room_members_member ON room_members(member_id);
  `,
  // The change feed: every change in a room (new message, edit, deletion, reaction) takes the
  // room's next change number, drawn under the room's row lock (rooms.last_seq) in the change's
  // transaction, so that numbers commit in order; a message's seq is its latest. Messages from
  // before take their id (ascending per room, as change numbers must be).
  `
  ALTER TABLE rooms ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN reply_to BIGINT REFERENCES messages(id);
  UPDATE messages SET seq = id;
  UPDATE rooms SET last_seq = coalesce((SELECT max(id) FROM messages WHERE room_id = rooms.id), 0);
  CREATE INDEX messages_room_seq ON messages(room_id, seq);

  CREATE TABLE reactions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    emoji TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (message_id, emoji, member_id)
  );
  -- For removing a member (ON DELETE CASCADE) and the cleanup's "reacted" check.
  CREATE INDEX reactions_member ON reactions(member_id);
  `,
  // Mentions: the member ids a message mentions (as JSON, the same for every reader), and one
  // row per mentioned member for counting a member's unread mentions room by room.
  `
  ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '[]';
  CREATE TABLE mentions (
    member_id BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    room_id BIGINT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    PRIMARY KEY (member_id, room_id, message_id)
  );
  CREATE INDEX mentions_message ON mentions(message_id);
  `,
  POSTGRES_FILES_MIGRATION,
  POSTGRES_SEARCH_MIGRATION,
  // Moderation: a member's ban (null: not banned), a room's archiving (read-only), and the
  // audit log of admin actions (the actor is kept by id, without a reference: entries outlive
  // members; the target is a member id or a room slug, as text).
  `
  ALTER TABLE members ADD COLUMN banned_at BIGINT;
  ALTER TABLE rooms ADD COLUMN archived_at BIGINT;
  CREATE TABLE audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_id BIGINT NOT NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
  );
  -- Deleting a room deletes its messages: each deleted row's replies are looked up.
  CREATE INDEX messages_reply_to ON messages(reply_to) WHERE reply_to IS NOT NULL;
  `,
];
