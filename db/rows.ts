// Turning database rows into the store's shapes (the same for SQLite and PostgreSQL).
import type {
  AdminMember,
  AdminRoom,
  Attachment,
  AuditEntry,
  Member,
  MemberSummary,
  Message,
  OpenInvite,
  Reaction,
  ReplyTo,
  Room,
  RoomKind,
  Session,
  StoredFile,
} from "./store.ts";
import { excerptOf } from "../chat/excerpt.ts";

/** A row as a driver returns it. */
export type Row = Record<string, unknown>;

/** The columns {@link toRoom} reads. */
export const ROOM_COLUMNS = "id, slug, name, topic, kind, created_by, archived_at";

/** A `rooms` row (id, slug, name, topic, kind, created_by, archived_at). */
export function toRoom(row: Row): Room {
  const kind = String(row.kind) as RoomKind;
  return {
    id: Number(row.id),
    slug: String(row.slug),
    name: String(row.name),
    topic: String(row.topic),
    kind,
    ownerId: kind === "direct" || row.created_by == null ? null : Number(row.created_by),
    ...(row.archived_at == null ? {} : { archived: true as const }),
  };
}

/**
 * The columns {@link toMessage} reads, from `messages m` joined with its author `a`, the
 * message it replies to `t` (left join) and that one's author `ta` (left join).
 */
export const MESSAGE_COLUMNS = `m.id, m.seq, m.body, m.client_id, m.created_at, m.edited_at,
  m.deleted_at, m.reply_to, m.mentions, a.id AS author_id, a.name AS author_name,
  a.username AS author_username, t.body AS reply_body, t.deleted_at AS reply_deleted_at,
  ta.name AS reply_author_name`;

/** The joins {@link MESSAGE_COLUMNS} needs, after `FROM messages m`. */
export const MESSAGE_JOINS = `JOIN members a ON a.id = m.author_id
  LEFT JOIN messages t ON t.id = m.reply_to LEFT JOIN members ta ON ta.id = t.author_id`;

/** A `members` row (id, name, username). */
export function toSummary(row: Row): MemberSummary {
  return {
    id: Number(row.id),
    name: String(row.name),
    username: row.username == null ? null : String(row.username),
  };
}

/** Distinct member ids, ascending (none when not given). */
export function sortedIds(ids: number[] | undefined): number[] {
  return [...new Set(ids ?? [])].sort((a, b) => a - b);
}

/** A `members` row (id, name). */
export function toMember(row: Row): Member {
  return { id: Number(row.id), name: String(row.name) };
}

/**
 * A message row read with {@link MESSAGE_COLUMNS}, in room `room`, with its reactions
 * (from {@link groupReactions}) and attachments (from {@link groupAttachments}); none when
 * not given.
 */
export function toMessage(
  row: Row,
  room: string,
  reactions: Reaction[] = [],
  attachments: Attachment[] = [],
): Message {
  let replyTo: ReplyTo | null = null;
  if (row.reply_to != null) {
    replyTo = { id: Number(row.reply_to), authorName: String(row.reply_author_name ?? "") };
    if (row.reply_deleted_at != null) replyTo.deleted = true;
    else replyTo.excerpt = excerptOf(String(row.reply_body ?? ""));
  }
  return {
    id: Number(row.id),
    room,
    seq: Number(row.seq),
    body: String(row.body),
    clientId: String(row.client_id),
    author: {
      id: Number(row.author_id),
      name: String(row.author_name),
      username: row.author_username == null ? null : String(row.author_username),
    },
    createdAt: new Date(Number(row.created_at)).toISOString(),
    editedAt: row.edited_at == null ? null : new Date(Number(row.edited_at)).toISOString(),
    deleted: row.deleted_at != null,
    reactions,
    replyTo,
    mentions: mentionIds(row.mentions),
    attachments,
  };
}

/** The `mentions` column (a JSON array of member ids) as numbers. */
function mentionIds(value: unknown): number[] {
  if (typeof value !== "string" || value === "") return [];
  const ids: unknown = JSON.parse(value);
  return Array.isArray(ids) ? ids.map(Number) : [];
}

/**
 * Reaction rows (message_id, emoji, member_id) in the order they were made, grouped per
 * message and emoji, each emoji in the order it was first used.
 */
export function groupReactions(rows: Row[]): Map<number, Reaction[]> {
  const byMessage = new Map<number, Map<string, Reaction>>();
  for (const row of rows) {
    const messageId = Number(row.message_id);
    let emojis = byMessage.get(messageId);
    if (!emojis) byMessage.set(messageId, emojis = new Map());
    const emoji = String(row.emoji);
    let reaction = emojis.get(emoji);
    if (!reaction) emojis.set(emoji, reaction = { emoji, count: 0, memberIds: [] });
    reaction.count++;
    reaction.memberIds.push(Number(row.member_id));
  }
  return new Map([...byMessage].map(([id, emojis]) => [id, [...emojis.values()]]));
}

/** A LIKE pattern matching `query` anywhere, lower-cased, with `\`, `%` and `_` taken literally. */
export function containsPattern(query: string): string {
  return `%${query.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** A `sessions` row joined with its member (member_id, name, username, is_admin). */
export function toSession(row: Row): Session {
  return {
    id: Number(row.id),
    lastSeenAt: Number(row.last_seen_at),
    member: { id: Number(row.member_id), name: String(row.name) },
    account: row.username === null
      ? null
      : { username: String(row.username), isAdmin: Boolean(row.is_admin) },
  };
}

/** The columns of `files` that {@link toStoredFile} and {@link toAttachment} read. */
export const FILE_COLUMNS = `id, room_id, uploader_id, message_id, position, name, size, type,
  width, height, sha256, preview_sha256, preview_type, preview_size, preview_width,
  preview_height, created_at`;

/** A new file id: 16 random bytes, base64url (unguessable, URL-safe). */
export function newFileId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** Where a file is served: `/files/{id}/{encoded name}`. */
export function fileUrl(id: string, name: string): string {
  return `/files/${id}/${encodeURIComponent(name)}`;
}

/** A `files` row read with {@link FILE_COLUMNS} as the API shows it. */
export function toAttachment(row: Row): Attachment {
  const id = String(row.id);
  const name = String(row.name);
  const url = fileUrl(id, name);
  return {
    id,
    name,
    size: Number(row.size),
    type: String(row.type),
    url,
    width: row.width == null ? null : Number(row.width),
    height: row.height == null ? null : Number(row.height),
    preview: row.preview_sha256 == null ? null : {
      url: `${url}?preview`,
      type: String(row.preview_type),
      size: Number(row.preview_size),
      width: Number(row.preview_width),
      height: Number(row.preview_height),
    },
  };
}

/** A `files` row read with {@link FILE_COLUMNS}, with where it belongs and its content keys. */
export function toStoredFile(row: Row): StoredFile {
  return {
    ...toAttachment(row),
    roomId: Number(row.room_id),
    uploaderId: Number(row.uploader_id),
    messageId: row.message_id == null ? null : Number(row.message_id),
    sha256: String(row.sha256),
    previewSha256: row.preview_sha256 == null ? null : String(row.preview_sha256),
    createdAt: Number(row.created_at),
  };
}

/** `files` rows (with message_id, ordered by position) grouped per message, in order. */
export function groupAttachments(rows: Row[]): Map<number, Attachment[]> {
  const byMessage = new Map<number, Attachment[]>();
  for (const row of rows) {
    const messageId = Number(row.message_id);
    let attachments = byMessage.get(messageId);
    if (!attachments) byMessage.set(messageId, attachments = []);
    attachments.push(toAttachment(row));
  }
  return byMessage;
}

/** Whether `key` is a content key (SHA-256, lower-case hex), not anything else. */
export function isContentKey(key: string): boolean {
  return /^[0-9a-f]{64}$/.test(key);
}

/** Rows of several rooms (read with `room_slug`) grouped by room, each group in the rows' order. */
export function rowsByRoom(rows: Row[]): Map<string, Row[]> {
  const byRoom = new Map<string, Row[]>();
  for (const row of rows) {
    const slug = String(row.room_slug);
    const group = byRoom.get(slug);
    if (group) group.push(row);
    else byRoom.set(slug, [row]);
  }
  return byRoom;
}

/** Messages made from `rows` (in any order), put back in the rows' order. */
export function inRowOrder(rows: Row[], messages: Message[]): Message[] {
  const byId = new Map(messages.map((message) => [message.id, message]));
  return rows.map((row) => byId.get(Number(row.id))!);
}

/** The columns {@link toAdminMember} reads, from `members m`. */
export const ADMIN_MEMBER_COLUMNS = `m.id, m.name, m.username, m.is_admin, m.banned_at,
  m.created_at,
  (SELECT max(s.last_seen_at) FROM sessions s WHERE s.member_id = m.id) AS last_seen_at,
  (SELECT count(*) FROM messages x WHERE x.author_id = m.id AND x.deleted_at IS NULL)
    AS message_count`;

/** A member row with {@link ADMIN_MEMBER_COLUMNS}. */
export function toAdminMember(row: Row): AdminMember {
  return {
    id: Number(row.id),
    name: String(row.name),
    username: row.username == null ? null : String(row.username),
    isAdmin: Boolean(row.is_admin),
    bannedAt: row.banned_at == null ? null : Number(row.banned_at),
    createdAt: Number(row.created_at),
    lastSeenAt: row.last_seen_at == null ? null : Number(row.last_seen_at),
    messageCount: Number(row.message_count),
  };
}

/** The columns {@link toAuditEntry} reads, from `audit_log l` left joined with `members a`. */
export const AUDIT_COLUMNS =
  `l.id, l.at, l.actor_id, a.name AS actor_name, l.action, l.target_kind, l.target_id, l.detail`;

/** An `audit_log` row with {@link AUDIT_COLUMNS}. */
export function toAuditEntry(row: Row): AuditEntry {
  return {
    id: Number(row.id),
    at: Number(row.at),
    actor: row.actor_name == null
      ? null
      : { id: Number(row.actor_id), name: String(row.actor_name) },
    action: String(row.action),
    targetKind: String(row.target_kind),
    targetId: String(row.target_id),
    detail: JSON.parse(String(row.detail)),
  };
}

/** An `invites` row with `id, created_at, expires_at, created_by` and the creator's `name`. */
export function toOpenInvite(row: Row): OpenInvite {
  return {
    id: Number(row.id),
    createdBy: { id: Number(row.created_by), name: String(row.name) },
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}

/** The columns {@link toAdminRoom} reads, from `rooms r`. */
export const ADMIN_ROOM_COLUMNS =
  `r.id, r.slug, r.name, r.topic, r.kind, r.created_by, r.archived_at,
  (SELECT count(*) FROM room_members rm WHERE rm.room_id = r.id) AS member_count,
  (SELECT count(*) FROM messages x WHERE x.room_id = r.id AND x.deleted_at IS NULL)
    AS message_count`;

/** A room row with {@link ADMIN_ROOM_COLUMNS}. */
export function toAdminRoom(row: Row): AdminRoom {
  return {
    ...toRoom(row),
    members: Number(row.member_count),
    messages: Number(row.message_count),
  };
}
