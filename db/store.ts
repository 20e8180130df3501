// The store interface: everything Parley keeps, whichever database holds it.

/** Thrown when the database cannot be reached (down, restarting): the app answers 503. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}

/**
 * Thrown when the database cannot be opened or created at start (unwritable folder, not a
 * database file): the message says where and why, for the operator.
 */
export class StoreOpenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreOpenError";
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
  /** Who created it and may delete any message in it; null for direct rooms and `general`. */
  ownerId: number | null;
  /** Present (true) once an admin archived it: it is read-only. */
  archived?: true;
}

/** A room in a member's list: with how many messages they have not read. */
export interface MyRoom extends Room {
  unread: number;
  /** How many of the unread messages mention the member (capped like `unread`). */
  mentions: number;
  lastReadId: number;
  /** The room's change number now (it grows with every change in the room). */
  seq: number;
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

/** Which public rooms {@link Store.listPublicRooms} lists. */
export interface PublicRoomQuery {
  limit: number;
  /** Leave out the rooms this member has joined. */
  notJoinedBy?: number;
  /** Only rooms whose name contains this (any case). */
  query?: string;
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

/** One emoji on a message: how many reacted with it, and who, in the order they did. */
export interface Reaction {
  emoji: string;
  count: number;
  memberIds: number[];
}

/** What a reply shows of the message it answers. */
export interface ReplyTo {
  id: number;
  authorName: string;
  /** At most 100 characters of its text; absent once it is deleted. */
  excerpt?: string;
  /** Present (true) once the message replied to is deleted. */
  deleted?: true;
}

/**
 * A message as the API and the UI show it: the same for every reader (nothing in it depends
 * on who asks), so one answer can serve all the readers a change wakes.
 */
export interface Message {
  id: number;
  room: string;
  /** The room's change number of this message's latest change (creation, edit, deletion, reaction). */
  seq: number;
  /** The text; empty once deleted. */
  body: string;
  clientId: string;
  /** Who wrote it: `username` is null for a guest. */
  author: MemberSummary;
  createdAt: string;
  /** When its text last changed, or null. */
  editedAt: string | null;
  deleted: boolean;
  /** Emoji reactions, in the order they were first used. */
  reactions: Reaction[];
  /** The message this one answers, or null. */
  replyTo: ReplyTo | null;
  /** The members it mentions (`@username`, `@room`), ascending; none once deleted. */
  mentions: number[];
  /** The files it carries, in the order they were given; none once deleted. */
  attachments: Attachment[];
}

/** A smaller image shown inline in place of a large one (made in the browser before upload). */
export interface Preview {
  /** Where the preview is served: `/files/{id}/{name}?preview`. */
  url: string;
  type: string;
  size: number;
  width: number;
  height: number;
}

/** A file as the API and the UI show it (an upload, or a message's attachment). */
export interface Attachment {
  /** Unguessable (random, URL-safe). */
  id: string;
  /** The file name as uploaded (cleaned: no folders, no controls). */
  name: string;
  /** Bytes. */
  size: number;
  /** The media type decided from the bytes (`application/octet-stream` when unknown). */
  type: string;
  /** Where it is served: `/files/{id}/{encoded name}`. */
  url: string;
  /** Pixels, for images; null otherwise. */
  width: number | null;
  height: number | null;
  /** The inline preview of a large image, or null (then the image itself is shown). */
  preview: Preview | null;
}

/** An upload as the store keeps it: the attachment plus where it belongs and its content key. */
export interface StoredFile extends Attachment {
  roomId: number;
  uploaderId: number;
  /** The message it is attached to, or null while unattached. */
  messageId: number | null;
  /** SHA-256 of the bytes (hex): the key of its content. */
  sha256: string;
  /** The preview's content key, or null. */
  previewSha256: string | null;
  /** When it was uploaded, ms since the epoch. */
  createdAt: number;
}

/** Input for {@link Store.addFile}. */
export interface NewFile {
  roomId: number;
  uploaderId: number;
  name: string;
  /** Decided from the bytes by the caller. */
  type: string;
  width: number | null;
  height: number | null;
  /** The bytes, in chunks; they are streamed to storage (never held whole in memory). */
  content: AsyncIterable<Uint8Array>;
  /** More bytes than this and nothing is stored: {@link FileTooLargeError}. */
  maxBytes: number;
  now: number;
}

/** Input for {@link Store.setFilePreview}. */
export interface NewPreview {
  fileId: string;
  type: string;
  width: number;
  height: number;
  content: AsyncIterable<Uint8Array>;
  maxBytes: number;
}

/** Thrown by {@link Store.addFile} when the content is longer than `maxBytes`; nothing is kept. */
export class FileTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`The file is larger than ${maxBytes} bytes`);
    this.name = "FileTooLargeError";
  }
}

/**
 * Thrown by {@link Store.addMessage} when an attachment is not a file the author uploaded to
 * that room and has not attached yet (or does not exist); nothing is stored.
 */
export class AttachmentError extends Error {
  constructor(readonly fileId: string) {
    super(`File ${fileId} cannot be attached to this message`);
    this.name = "AttachmentError";
  }
}

/** A byte range of stored content, both ends included (as in HTTP `Range`). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * What {@link Store.searchMessages} looks for: messages containing every word (each as a word
 * or the start of one, any case, accents ignored) and every phrase, in the rooms the reader
 * can see, never deleted ones. Words in scripts written without spaces (Chinese, Japanese…)
 * match anywhere inside the text.
 */
export interface SearchQuery {
  /** The member searching: public rooms and the rooms they belong to are searched. */
  readerId: number;
  /** Words (no spaces, no quotes); every one must match. */
  words: string[];
  /** Phrases (words in this order, adjacent); every one must match. */
  phrases: string[];
  /** Only in this room. */
  roomId?: number;
  /** Only by this member. */
  authorId?: number;
  /** Only messages with an id below this (the next page). */
  before?: number;
  limit: number;
}

/** A page of messages with the change number to read on from (`since`). */
export interface MessagePage {
  messages: Message[];
  /**
   * With `since`: the largest change number covered (at least `since`). Otherwise the room's
   * change number when the page was read: every later change has a larger one.
   */
  cursor: number;
  /** For `latest`, `before` and `around`: whether there are older messages. */
  hasOlder?: boolean;
  /** For `around`: whether there are newer messages. */
  hasNewer?: boolean;
}

/** Input for {@link Store.react}: add (or take back) a member's emoji on message `id`. */
export interface ReactionChange {
  room: Room;
  id: number;
  memberId: number;
  emoji: string;
  add: boolean;
  /** Different emoji the message may carry at most. */
  maxEmoji: number;
}

/** What a change to a stored message came to. */
export type MessageChange =
  | { ok: true; message: Message; changed: boolean }
  | { ok: false; problem: "not_found" | "deleted" | "too_many_emoji" };

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

/** Input for {@link Store.registerAccount}. */
export interface NewAccount {
  /** The guest who becomes an account, or null to create a member named `name`. */
  memberId: number | null;
  /** The new member's name (used when `memberId` is null). */
  name: string;
  username: string;
  /** The username as compared for uniqueness (lower case). */
  usernameKey: string;
  passwordHash: string;
  /**
   * On a site where registering needs an invitation: the hash of the invitation's token (null
   * when none was given). The first account needs none; any other uses it up.
   */
  invite?: { tokenHash: string | null; now: number };
}

/** What {@link Store.registerAccount} did: the new account, or why there is none. */
export type Registration =
  | { ok: true; member: Member; account: Account }
  | {
    ok: false;
    reason: "username_taken" | "invite_required" | "already_registered" | "no_member";
  };

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
  /** The id of the message this one answers (in the same room), if any. */
  replyTo?: number | null;
  /** The members it mentions (distinct ids). */
  mentions?: number[];
  /** Ids of files the author uploaded to this room and has not attached yet, in order. */
  attachments?: string[];
}

/** Input for {@link Store.pruneStale}: the time now, and how long things are kept. */
export interface PruneOptions {
  /** The time to prune as of, in ms since the epoch (tests pass a fake clock). */
  now: number;
  /** Sessions unused for longer than this are removed. */
  sessionIdleMs: number;
  /** Guests older than this with no message and no live session are removed. */
  guestRetentionMs: number;
  /** Uploads not attached to a message for longer than this are removed (default a day). */
  uploadRetentionMs?: number;
}

/** What {@link Store.pruneStale} removed. */
export interface PruneCounts {
  sessions: number;
  invites: number;
  guests: number;
  /** Unattached uploads removed. */
  files: number;
}

/**
 * Which page of a room's history to read: newer than an id, older than an id, the latest, the
 * messages changed after a change number (ascending by it), or the page centred on an id.
 */
export type HistoryQuery =
  | { after: number; limit: number }
  | { before: number; limit: number }
  | { latest: true; limit: number }
  | { since: number; limit: number }
  | { around: number; limit: number };

/** A wait for changes in a room; resolves early when one arrives. */
export interface MessageWaiter {
  /** Resolves true when a change after the cursor arrived, false on timeout or abort. */
  arrived: Promise<boolean>;
  /** Stops waiting (resolves `arrived` with false if still pending). */
  cancel(): void;
}

/** "Someone is typing" (or stopped): an ephemeral signal, never stored. */
export interface TypingSignal {
  roomId: number;
  memberId: number;
  /** The member's display name, shown as "Ada is typing…". */
  name: string;
  /** False when they stopped (sent their message). */
  typing: boolean;
}

/** A member as the admin page lists it. */
export interface AdminMember extends MemberSummary {
  isAdmin: boolean;
  /** When an admin banned them (ms since the epoch), or null. */
  bannedAt: number | null;
  createdAt: number;
  /** The latest use of any of their sessions, or null when they have none. */
  lastSeenAt: number | null;
  /** Messages they wrote that are not deleted. */
  messageCount: number;
}

/** One entry of the audit log: who did what, when, to what. */
export interface AuditEntry {
  id: number;
  /** ms since the epoch. */
  at: number;
  /** The admin who acted (their name now), or null when they are gone. */
  actor: Member | null;
  /** What was done, e.g. `member.ban`, `room.delete`. */
  action: string;
  /** What it was done to: `member`, `room`… */
  targetKind: string;
  /** Which one: a member id or a room slug. */
  targetId: string;
  /** More about it (names, counts). */
  detail: Record<string, unknown>;
}

/** Input for {@link Store.recordAudit}. */
export type NewAuditEntry = Omit<AuditEntry, "id" | "actor"> & { actorId: number };

/** A room as the admin page lists it. */
export interface AdminRoom extends Room {
  members: number;
  /** Messages in it that are not deleted. */
  messages: number;
}

/** An invitation not used yet and not expired. */
export interface OpenInvite {
  id: number;
  createdBy: Member;
  createdAt: number;
  expiresAt: number;
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
  /** The room with this id, or null. */
  getRoomById(id: number): Promise<Room | null>;
  /** Creates a room with its creator as the first member; null when the slug is taken. */
  createRoom(input: NewRoom): Promise<Room | null>;
  /** Sets a room's topic; returns the room, or null when there is none. */
  setRoomTopic(roomId: number, topic: string): Promise<Room | null>;
  /** The direct room with this key, or null. */
  getDirectRoom(directKey: string): Promise<Room | null>;
  /**
   * Public rooms, the most recently active first (latest message, then the newest room), at
   * most `limit`: only those `notJoinedBy` has not joined when given, only those whose name
   * contains `query` (any case) when given.
   */
  listPublicRooms(options: PublicRoomQuery): Promise<Room[]>;
  /** The rooms a member belongs to, with unread counts (capped at `unreadCap`). */
  listMyRooms(memberId: number, unreadCap: number): Promise<MyRoom[]>;
  /** Whether a member belongs to a room. */
  isRoomMember(roomId: number, memberId: number): Promise<boolean>;
  /**
   * Adds a member to a room (no change if already in); starts reading at the newest message.
   * An addition wakes the member's {@link waitForChanges} with `member`, on every instance.
   */
  addRoomMember(roomId: number, memberId: number): Promise<void>;
  /** Removes a member from a room; returns whether they were in it. */
  removeRoomMember(roomId: number, memberId: number): Promise<boolean>;
  /** Moves a member's read cursor forward (never back). */
  markRead(roomId: number, memberId: number, messageId: number): Promise<void>;
  /** The members of a room. */
  listRoomMembers(roomId: number): Promise<Member[]>;
  /** Creates a member. */
  createMember(name: string): Promise<Member>;
  /**
   * Members whose name or username contains `query` (any case), by name, at most `limit`.
   * With `sharingRoomWith`, only members who share a room with that member, not counting
   * the room `exceptRoomId` (the default room, which everyone is in).
   */
  searchMembers(
    query: string,
    limit: number,
    options?: { sharingRoomWith?: number; exceptRoomId?: number },
  ): Promise<MemberSummary[]>;
  /** The accounts with these username keys (lower case), in no particular order. */
  findAccounts(usernameKeys: string[]): Promise<MemberSummary[]>;
  /**
   * Accounts in a room whose name or username contains `query` (any case), by name, at most
   * `limit`; with `authorsOnly`, only those who wrote a message in the room.
   */
  searchRoomAccounts(
    roomId: number,
    query: string,
    limit: number,
    options?: { authorsOnly?: boolean },
  ): Promise<MemberSummary[]>;
  /** The names and usernames of every account except member `exceptMemberId`'s. */
  accountNames(exceptMemberId: number): Promise<string[]>;
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
   * Registers an account in one transaction, serialized with every other registration: makes
   * the guest `memberId` (or a new member) an account, using up the invitation if one is
   * needed. The first account becomes the admin. Nothing changes when it is refused: the
   * username (compared by `usernameKey`) is taken, the invitation is missing, used or expired,
   * or the member already has an account.
   */
  registerAccount(input: NewAccount): Promise<Registration>;
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
  /**
   * Stores a message unless its author already sent one with the same client id; returns
   * the stored message and whether it was created by this call. A new message takes the
   * room's next change number. Its `attachments` are attached in the same transaction;
   * {@link AttachmentError} (nothing stored) when one cannot be.
   */
  addMessage(input: NewMessage): Promise<{ message: Message; created: boolean }>;
  /**
   * A page of a room's messages: ascending by id, or with `since` ascending by change number
   * (each changed message once, in its current state).
   */
  listMessages(room: Room, query: HistoryQuery): Promise<MessagePage>;
  /** The message an author sent with this client id (in whichever room), or null. */
  findSent(authorId: number, clientId: string): Promise<Message | null>;
  /** The message `id` if it is in `room`, or null. */
  getMessage(room: Room, id: number): Promise<Message | null>;
  /**
   * Replaces the text of a message that is not deleted; it takes the room's next change
   * number and `editedAt`. `not_found` when it is not in the room, `deleted` when deleted.
   */
  editMessage(
    input: { room: Room; id: number; body: string; now: number; mentions?: number[] },
  ): Promise<MessageChange>;
  /**
   * Deletes a message: its text, reactions and attachments are erased from storage (not
   * hidden; a file's bytes go when no other file has them), the tombstone keeps its place and
   * takes the room's next change number. Deleting a deleted message changes nothing
   * (`changed` false).
   */
  deleteMessage(input: { room: Room; id: number; now: number }): Promise<MessageChange>;
  /**
   * Adds (or with `add` false removes) a member's reaction; a change takes the room's next
   * change number, a reaction already there (or already gone) changes nothing. A message
   * takes at most `maxEmoji` different emoji (`too_many_emoji`).
   */
  react(input: ReactionChange): Promise<MessageChange>;
  /**
   * Waits for a change numbered above `since` in the room. Changes recorded before the wait
   * started count too, so reading first and then waiting from the cursor read misses nothing.
   */
  waitForChange(
    room: Room,
    since: number,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): MessageWaiter;
  /**
   * Waits for a change in any of several rooms, each after its own change number; with
   * `member`, also for {@link addRoomMember} adding that member to a room (on any instance)
   * at or after `member.since` (`Date.now()` taken before reading the member's rooms).
   */
  waitForChanges(
    rooms: { roomId: number; since: number }[],
    options: { timeoutMs: number; signal?: AbortSignal; member?: { id: number; since: number } },
  ): MessageWaiter;
  /**
   * Passes a typing signal to the {@link onTyping} listeners of every instance sharing this
   * database, this one included (PostgreSQL: NOTIFY; SQLite: in-process). Nothing is stored.
   */
  publishTyping(signal: TypingSignal): Promise<void>;
  /** Calls `listener` with every typing signal published; returns the function that stops it. */
  onTyping(listener: (signal: TypingSignal) => void): () => void;
  /**
   * Removes what is no longer of use as of `now`: sessions idle for longer than
   * `sessionIdleMs`, expired invitations, and guests (members without an account) created
   * more than `guestRetentionMs` ago that have no session left and never wrote a message,
   * created a room or an invitation (with their room memberships), and uploads left
   * unattached for longer than `uploadRetentionMs` (with their bytes when nothing else has
   * them). Returns the counts, or
   * null when another instance is pruning the same database at this moment.
   */
  pruneStale(options: PruneOptions): Promise<PruneCounts | null>;
  /**
   * Stores an uploaded file (unattached): streams `content` to storage while hashing it,
   * keeps the same bytes once (by SHA-256) however many files have them, and throws
   * {@link FileTooLargeError} (keeping nothing) past `maxBytes`.
   */
  addFile(input: NewFile): Promise<StoredFile>;
  /**
   * Gives an unattached file of the uploader's a preview image (replacing any); null when the
   * file does not exist. {@link FileTooLargeError} past `maxBytes`.
   */
  setFilePreview(input: NewPreview): Promise<StoredFile | null>;
  /** The file with this id (attached or not), or null. */
  getFile(id: string): Promise<StoredFile | null>;
  /** Bytes a member uploaded since a time (ms since the epoch), for the upload quota. */
  uploadedBytes(memberId: number, since: number): Promise<number>;
  /**
   * The stored content with this key (a file's `sha256` or `previewSha256`), whole or the
   * `range` of it, as a stream read in small chunks; null when there is none.
   */
  readContent(sha256: string, range?: ByteRange): Promise<ReadableStream<Uint8Array> | null>;
  /**
   * Messages matching a search that the reader can see (public rooms and their own rooms,
   * never deleted ones), newest first, at most `limit`.
   */
  searchMessages(query: SearchQuery): Promise<Message[]>;
  /**
   * Bans a member at `now` and ends every session of theirs, in one transaction; returns how
   * many sessions ended, or null when there is no such member. Sessions of a banned member are
   * never found ({@link getSession}).
   */
  banMember(memberId: number, now: number): Promise<number | null>;
  /** Lifts a member's ban; returns whether they were banned. */
  unbanMember(memberId: number): Promise<boolean>;
  /** Whether a member is banned. */
  isBanned(memberId: number): Promise<boolean>;
  /**
   * Members (accounts and guests) whose name or username contains `query` (any case), newest
   * first, at most `limit`, with what the admin page shows of them.
   */
  listAdminMembers(options: { query?: string; limit: number }): Promise<AdminMember[]>;
  /** Makes an account an admin or not; returns false when the member has no account. */
  setAdmin(memberId: number, admin: boolean): Promise<boolean>;
  /** How many admins there are. */
  countAdmins(): Promise<number>;
  /**
   * Deletes every message of a member as {@link deleteMessage} does (erased; each takes its
   * room's next change number, so readers see the deletions live); returns how many.
   */
  deleteMessagesBy(memberId: number, now: number): Promise<number>;
  /** Every public and private room (not direct ones), by name, at most `limit`. */
  listAdminRooms(limit: number): Promise<AdminRoom[]>;
  /** Archives a room (read-only from then on); returns false when there is no such room. */
  archiveRoom(roomId: number, now: number): Promise<boolean>;
  /**
   * Deletes a room with its messages, reactions, memberships and files (their bytes too when
   * no other file has them); returns false when there is no such room.
   */
  deleteRoom(roomId: number): Promise<boolean>;
  /** Invitations not used and not expired at `now`, newest first. */
  listOpenInvites(now: number): Promise<OpenInvite[]>;
  /** Records an admin action. */
  recordAudit(entry: NewAuditEntry): Promise<void>;
  /** The audit log, newest first, at most `limit`, with ids below `before` when given. */
  listAuditLog(options: { before?: number; limit: number }): Promise<AuditEntry[]>;
  /**
   * Resolves when the database answers and has every migration of this Parley; throws
   * {@link StoreUnavailableError} otherwise (for `GET /readyz`).
   */
  checkReady(): Promise<void>;
  /** Closes the database. */
  close(): Promise<void>;
}
