// Turning database rows into the store's shapes (the same for SQLite and PostgreSQL).
import type { Member, Message, Room, RoomKind, Session } from "./store.ts";

/** A row as a driver returns it. */
export type Row = Record<string, unknown>;

/** A `rooms` row (id, slug, name, topic, kind). */
export function toRoom(row: Row): Room {
  return {
    id: Number(row.id),
    slug: String(row.slug),
    name: String(row.name),
    topic: String(row.topic),
    kind: String(row.kind) as RoomKind,
  };
}

/** A `members` row (id, name). */
export function toMember(row: Row): Member {
  return { id: Number(row.id), name: String(row.name) };
}

/** A message row joined with its author (author_id, author_name, author_username), in room `room`. */
export function toMessage(row: Row, room: string): Message {
  return {
    id: Number(row.id),
    room,
    body: String(row.body),
    clientId: String(row.client_id),
    author: {
      id: Number(row.author_id),
      name: String(row.author_name),
      username: row.author_username == null ? null : String(row.author_username),
    },
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
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
