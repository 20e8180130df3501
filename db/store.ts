// The store interface: everything Parley keeps, whichever database holds it.

/** Thrown when the database cannot be reached (down, restarting): the app answers 503. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}

/** Who can see a room: anyone (`public`), its members (`private`), or two people (`direct`). */
export type RoomKind = "public" | "private" | "direct";

/** A chat room. */
export interface Room {
  id: number;
  slug: string;
  name: string;
  topic: string;
  kind: RoomKind;
}

/** A room in a member's list: with how many messages they have not read. */
export interface MyRoom extends Room {
  unread: number;
  lastReadId: number;
}

/** Input for {@link Store.createRoom}. */
export interface NewRoom {
  slug: string;
  name: string;
  topic: string;
  kind: RoomKind;
  createdBy: number;
  /** For direct rooms: `"<smaller id>:<larger id>"`, unique. */
  directKey?: string;
}

/** A person taking part in the chat (a guest until accounts exist). */
export interface Member {
  id: number;
  name: string;
}

/** A member as found by a search: with the username when registered. */
export interface MemberSummary extends Member {
  username: string | null;
}

/** A message as the API and the UI show it. */
export interface Message {
  id: number;
  room: string;
  body: string;
  clientId: string;
  author: Member;
  createdAt: string;
}

/** What a registered member has besides its name. */
export interface Account {
  username: string;
  isAdmin: boolean;
}

/** A signed-in browser: the member it belongs to, and its account if registered. */
export interface Session {
  id: number;
  member: Member;
  /** Null for a guest. */
  account: Account | null;
  lastSeenAt: number;
}

/** An account as found for logging in. */
export interface Credentials {
  member: Member;
  account: Account;
  passwordHash: string;
}

/** Input for {@link Store.addMessage}. */
export interface NewMessage {
  room: Room;
  authorId: number;
  body: string;
  clientId: string;
}

/** Which page of a room's history to read. */
export type HistoryQuery =
  | { after: number; limit: number }
  | { before: number; limit: number }
  | { latest: true; limit: number };

/** A wait for new messages in a room; resolves early when one arrives. */
export interface MessageWaiter {
  /** Resolves true when a message newer than the cursor arrived, false on timeout or abort. */
  arrived: Promise<boolean>;
  /** Stops waiting (resolves `arrived` with false if still pending). */
  cancel(): void;
}

/** Storage for rooms, members, sessions and messages. Both SQLite and PostgreSQL implement it. */
export interface Store {
  /** Which database this is, for logs and the benchmark (`sqlite`, `postgres`). */
  readonly kind: string;
  /** A setting kept with the data (e.g. the cookie signing secret), or null. */
  getSetting(key: string): Promise<string | null>;
  /** Stores a setting unless one exists; returns the value that is stored. */
  initSetting(key: string, value: string): Promise<string>;
  /** The room with this slug, or null. */
  getRoom(slug: string): Promise<Room | null>;
  /** Creates a room with its creator as the first member; null when the slug is taken. */
  createRoom(input: NewRoom): Promise<Room | null>;
  /** The direct room with this key, or null. */
  getDirectRoom(directKey: string): Promise<Room | null>;
  /** Public rooms, by name. */
  listPublicRooms(): Promise<Room[]>;
  /** The rooms a member belongs to, with unread counts (capped at `unreadCap`). */
  listMyRooms(memberId: number, unreadCap: number): Promise<MyRoom[]>;
  /** Whether a member belongs to a room. */
  isRoomMember(roomId: number, memberId: number): Promise<boolean>;
  /** Adds a member to a room (no change if already in); starts reading at the newest message. */
  addRoomMember(roomId: number, memberId: number): Promise<void>;
  /** Removes a member from a room; returns whether they were in it. */
  removeRoomMember(roomId: number, memberId: number): Promise<boolean>;
  /** Moves a member's read cursor forward (never back). */
  markRead(roomId: number, memberId: number, messageId: number): Promise<void>;
  /** The members of a room. */
  listRoomMembers(roomId: number): Promise<Member[]>;
  /** Creates a member. */
  createMember(name: string): Promise<Member>;
  /** Members whose name or username contains `query` (any case), by name, at most `limit`. */
  searchMembers(query: string, limit: number): Promise<MemberSummary[]>;
  /** The member with this id, or null. */
  getMember(id: number): Promise<Member | null>;
  /** Renames a member; returns the updated member, or null if there is none. */
  renameMember(id: number, name: string): Promise<Member | null>;
  /** Creates a session for a member, keyed by the hash of its secret token. */
  createSession(memberId: number, tokenHash: string): Promise<Session>;
  /** The session with this token hash, with its member, or null. */
  getSession(tokenHash: string): Promise<Session | null>;
  /** Records that a session was used now. */
  touchSession(id: number, at: number): Promise<void>;
  /** Ends one session. */
  deleteSession(id: number): Promise<void>;
  /** Ends every session of a member, except `exceptId` if given; returns how many ended. */
  deleteSessions(memberId: number, exceptId?: number): Promise<number>;
  /**
   * Makes a guest member an account. The first account becomes the admin. Returns null when
   * the username (compared by `usernameKey`) is taken or the member already has an account.
   */
  registerAccount(
    memberId: number,
    input: { username: string; usernameKey: string; passwordHash: string },
  ): Promise<Account | null>;
  /** How many accounts there are (0 before the first registration). */
  countAccounts(): Promise<number>;
  /** The account with this username key, with its password hash, or null. */
  findCredentials(usernameKey: string): Promise<Credentials | null>;
  /** The password hash of a member's account, or null for a guest. */
  getPasswordHash(memberId: number): Promise<string | null>;
  /** Replaces a member's password hash. */
  setPasswordHash(memberId: number, passwordHash: string): Promise<void>;
  /** Stores an invitation (by the hash of its token). */
  createInvite(input: { createdBy: number; tokenHash: string; expiresAt: number }): Promise<void>;
  /** Uses up an unused, unexpired invitation for a member; returns whether there was one. */
  useInvite(tokenHash: string, memberId: number, now: number): Promise<boolean>;
  /**
   * Stores a message unless its author already sent one with the same client id; returns
   * the stored message and whether it was created by this call.
   */
  addMessage(input: NewMessage): Promise<{ message: Message; created: boolean }>;
  /** A page of a room's messages in ascending id order. */
  listMessages(room: Room, query: HistoryQuery): Promise<Message[]>;
  /**
   * Starts waiting for a message newer than `after` in the room. Start the wait before
   * reading, so that nothing stored in between is missed.
   */
  waitForMessage(
    room: Room,
    after: number,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): MessageWaiter;
  /** Closes the database. */
  close(): Promise<void>;
}
