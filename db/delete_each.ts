// Deleting many messages the way single deletes do: each in its own transaction, with its own change number.
import type { Row } from "./rows.ts";
import type { Store } from "./store.ts";

/**
 * Deletes the messages of `rows` (`id`, `room_id`) one at a time, in the rows' order, exactly as
 * {@link Store.deleteMessage} does (so writers never wait long and readers see each deletion);
 * returns how many were deleted by this call.
 */
export async function deleteEach(store: Store, rows: Row[], now: number): Promise<number> {
  let deleted = 0;
  for (const row of rows) {
    const room = await store.getRoomById(Number(row.room_id));
    if (!room) continue;
    const result = await store.deleteMessage({ room, id: Number(row.id), now });
    if (result.ok && result.changed) deleted++;
  }
  return deleted;
}
