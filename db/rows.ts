// Turning database rows into the store's shapes (the same for SQLite and PostgreSQL).
import type {
  Member,
  MemberSummary,
  Message,
  Reaction,
  ReplyTo,
  Room,
  RoomKind,
  Session,
} from "./store.ts";
import { excerptOf } from "../chat/excerpt.ts";

/** A row as a driver returns it. */
export type Row = Record<string, unknown>;

/** The columns {@link toRoom} reads. */
export const ROOM_COLUMNS = "id, slug, name, topic, kind, created_by";

/** A `rooms` row (id, slug, name, topic, kind, created_by). */
export function toRoom(row: Row): Room {
  const kind = String(row.kind) as RoomKind;
  return {
    id: Number(row.id),
    slug: String(row.slug),
    name: String(row.name),
    topic: String(row.topic),
    kind,
    ownerId: kind === "direct" || row.created_by == null ? null : Number(row.created_by),
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
 * (from {@link groupReactions}; none when not given).
 */
export function toMessage(row: Row, room: string, reactions: Reaction[] = []): Message {
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
    attachments: [],
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
