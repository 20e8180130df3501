// Turning database rows into the store's shapes (the same for SQLite and PostgreSQL).
import type { Member, Message, Room, RoomKind } from "./store.ts";

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

/** A message row joined with its author (author_id, author_name), in room `room`. */
export function toMessage(row: Row, room: string): Message {
  return {
    id: Number(row.id),
    room,
    body: String(row.body),
    clientId: String(row.client_id),
    author: { id: Number(row.author_id), name: String(row.author_name) },
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
}
