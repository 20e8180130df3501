// The request state Parley's middleware fills in and its routes read.
import type { ParleyConfig } from "../fresh.config.ts";
import type { Accounts } from "../chat/accounts.ts";
import type { Chat } from "../chat/chat.ts";
import type { Moderation } from "../chat/moderation.ts";
import type { SessionResolver, SessionState } from "../chat/sessions.ts";

/** State of every request: the chat, the configuration, and the session if there is one. */
export interface AppState extends SessionState {
  chat: Chat;
  accounts: Accounts;
  /** The admin operations (admins only: see `requireAdmin`). */
  moderation: Moderation;
  config: ParleyConfig;
  /** The cookie signing secret. */
  secret: string;
  /** Finds the session a cookie names (one per app: it remembers checked cookies). */
  resolveSession: SessionResolver;
}
