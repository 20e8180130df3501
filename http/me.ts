// The signed-in member as `GET /api/me` shows it.
import type { Session } from "../db/store.ts";

/** `{id, name, account}`: account is null for a guest. */
export function meOf(session: Session) {
  return { ...session.member, account: session.account };
}
