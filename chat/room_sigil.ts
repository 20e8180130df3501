// How a room's name is shown: `#general`, `🔒 secret`, `@Ada` (safe to use in the browser).
import type { Room } from "../db/store.ts";

/** The prefix of a room's name: `#` public, `🔒` private, `@` a direct conversation. */
export function roomSigil(room: Pick<Room, "kind">): string {
  return room.kind === "direct" ? "@" : room.kind === "private" ? "🔒 " : "#";
}

/**
 * A room's name for screen readers and labels: `#general`, `design (private)`, `@Ada` — without
 * the 🔒 emoji, which would be read out as "locked".
 */
export function roomLabel(room: Pick<Room, "kind" | "name">): string {
  return room.kind === "private" ? `${room.name} (private)` : `${roomSigil(room)}${room.name}`;
}
