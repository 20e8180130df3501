// Messages and the room's change feed: reading (pages, long polls by change number), sending,
// editing, deleting and reacting, with every rule and limit enforced.
import {
  AttachmentError,
  type HistoryQuery,
  type Member,
  type Message,
  type MessageChange,
  type MessagePage,
  type Room,
  type Store,
} from "../db/store.ts";
import { ChatError, tooFast } from "./chat_error.ts";
import { normalizeEmoji } from "./emoji.ts";
import { MAX_ATTACHMENTS } from "./files.ts";
import type { ChatLimits } from "./limits.ts";
import { checkBody } from "./message_text.ts";
import { type Author, createMentions, parseMentions } from "./mentions.ts";
import type { PollGate } from "./poll_gate.ts";
import { type Limiters, localLimiters } from "./limiters.ts";
import { refuseArchived, roomNotFound } from "./rooms.ts";

/** Which messages a reader asks for: at most one of after, before, since and around. */
export interface ReadOptions {
  /** New messages with an id above this (for simple clients). */
  after?: number;
  /** The page just older than this id. */
  before?: number;
  /** Messages created or changed after this change number, ascending by it. */
  since?: number;
  /** The page centred on this message id. */
  around?: number;
  limit?: number;
  /** With `after` or `since`: seconds to wait for something when there is nothing yet. */
  wait?: number;
  /** Aborted when the reader goes away. */
  signal?: AbortSignal;
  /** The reader's address, for the cap on waiting long polls per address. */
  address?: string;
}

/** What a sender gives: the text, and optionally its client id, the message it answers and files. */
export interface SendInput {
  body: string;
  clientId?: string;
  replyTo?: number;
  /** Ids of uploads to carry, in order (at most 10). */
  attachments?: string[];
}

/** Who is changing a message: the member, and whether their account is an admin. */
export interface Actor {
  member: Member;
  isAdmin: boolean;
}

/** Different emoji one message may carry. */
export const MAX_EMOJI_PER_MESSAGE = 20;
/** Edits, deletions and reactions one member may make per burst window (their own budget). */
const CHANGES_PER_WINDOW = 30;

/** Options for {@link createMessages}. */
export interface MessagesOptions {
  store: Store;
  limits: ChatLimits;
  polls: PollGate;
  /** Aborted when the server shuts down: long polls then answer at once. */
  shutdown?: AbortSignal;
  /** Where rate limits are counted (default: this worker's memory). */
  limiters?: Limiters;
}

/** The message operations; one instance per app. */
export type Messages = ReturnType<typeof createMessages>;

function author(member: Member, isAccount: boolean): Author {
  return { id: member.id, isAccount };
}

function messageNotFound(): ChatError {
  return new ChatError(404, "message_not_found", "There is no such message in this room.");
}

function messageDeleted(): ChatError {
  return new ChatError(409, "message_deleted", "This message was deleted.");
}

/** The message of a store change, or the error it comes to. */
function outcome(change: MessageChange): Message {
  if (change.ok) return change.message;
  if (change.problem === "not_found") throw messageNotFound();
  if (change.problem === "deleted") throw messageDeleted();
  throw new ChatError(
    409,
    "too_many_emoji",
    `A message can carry at most ${MAX_EMOJI_PER_MESSAGE} different emoji.`,
  );
}

/** Creates the message operations over a store. */
export function createMessages(options: MessagesOptions) {
  const { store, limits, polls, shutdown } = options;
  const limiters = options.limiters ?? localLimiters;
  const sendLimiter = limiters.rate("messages", {
    limit: limits.burstMessages,
    windowMs: limits.burstWindowMs,
  });
  const changeLimiter = limiters.rate("message-changes", {
    limit: CHANGES_PER_WINDOW,
    windowMs: limits.burstWindowMs,
  });
  const mentions = createMentions(store, limiters);

  // Readers woken by the same change ask the same question: answer it once while it is being
  // answered, and for the rest of that moment (the answer is the same for everyone: messages
  // carry nothing that depends on the reader). Readers woken in later batches join a read
  // still under way; one that started before a change it was woken for answers without it,
  // and the reader then reads again (its number is past the answer's cursor): nothing is lost.
  const reads = new Map<string, Promise<MessagePage>>();

  function sharedRead(room: Room, query: HistoryQuery & { since?: number; after?: number }) {
    const key = `${room.id}:${query.since ?? ""}:${query.after ?? ""}:${query.limit}`;
    let read = reads.get(key);
    if (!read) {
      const started = read = store.listMessages(room, query);
      reads.set(key, started);
      const forget = () => {
        if (reads.get(key) === started) reads.delete(key);
      };
      const later = () => setTimeout(forget, 0);
      started.then(later, later);
    }
    return read;
  }

  /** A page of a room's messages; with `wait`, held until there is something (long poll). */
  async function read(room: Room, options: ReadOptions): Promise<MessagePage> {
    const limit = Math.min(options.limit ?? limits.pageSize, limits.maxPageSize);
    const given = (["after", "before", "since", "around"] as const)
      .filter((key) => options[key] !== undefined);
    if (given.length > 1) {
      throw new ChatError(400, "invalid_request", `Use only one of ${given.join(" and ")}.`);
    }
    if (options.wait !== undefined && options.after === undefined && options.since === undefined) {
      throw new ChatError(400, "invalid_request", "wait only goes with after or since.");
    }
    if (options.before !== undefined) {
      return await store.listMessages(room, { before: options.before, limit });
    }
    if (options.around !== undefined) {
      return await store.listMessages(room, { around: options.around, limit });
    }
    if (options.after === undefined && options.since === undefined) {
      return await store.listMessages(room, { latest: true, limit });
    }
    const query: HistoryQuery = options.since !== undefined
      ? { since: options.since, limit }
      : { after: options.after!, limit };
    const wait = Math.min(options.wait ?? 0, limits.maxWaitSeconds);
    const first = await store.listMessages(room, query);
    if (wait === 0 || first.messages.length > 0) return first;
    return await waitAndRead(room, query, first.cursor, wait, options);
  }

  /**
   * Waits for a change after `cursor` and reads again, until the query finds something or the
   * wait ends (a poll for new messages only skips changes to old ones and waits on).
   */
  async function waitAndRead(
    room: Room,
    query: HistoryQuery,
    cursor: number,
    wait: number,
    options: ReadOptions,
  ): Promise<MessagePage> {
    const leave = polls.enter(options.address ?? "unknown");
    const signals = [options.signal, shutdown].filter((s) => s !== undefined);
    const signal = signals.length ? AbortSignal.any(signals) : undefined;
    const deadline = Date.now() + wait * 1000;
    try {
      for (;;) {
        const timeoutMs = deadline - Date.now();
        if (timeoutMs <= 0) break;
        // From the cursor just read: a change recorded in between still counts.
        const waiter = store.waitForChange(room, cursor, { timeoutMs, signal });
        const arrived = await waiter.arrived;
        waiter.cancel();
        if (!arrived) break;
        const page = await sharedRead(room, query);
        if (page.messages.length > 0) return page;
        // Woken with nothing to read: the room may have been deleted meanwhile.
        if (!await store.getRoomById(room.id)) throw roomNotFound(room.slug);
        cursor = page.cursor;
      }
      return await store.listMessages(room, query);
    } finally {
      leave();
    }
  }

  /** The message `id` of the room, or 404. */
  async function find(room: Room, id: number): Promise<Message> {
    const message = await store.getMessage(room, id);
    if (!message) throw messageNotFound();
    return message;
  }

  /**
   * Sends a message (possibly a reply, possibly carrying files); a repeated `clientId` gives
   * the stored one back. `isAccount` says whether the author has an account (`@room` is for
   * accounts only). With attachments (at most 10 files the author uploaded to this room and
   * has not attached yet; else 400 `invalid_attachment`) the text may be empty.
   */
  async function send(
    member: Member,
    room: Room,
    input: SendInput,
    isAccount = false,
  ): Promise<{ message: Message; created: boolean }> {
    refuseArchived(room);
    const attachments = input.attachments ?? [];
    if (attachments.length > MAX_ATTACHMENTS) {
      throw new ChatError(
        400,
        "too_many_attachments",
        `A message can carry at most ${MAX_ATTACHMENTS} files.`,
      );
    }
    const body = attachments.length > 0 && input.body.trim() === ""
      ? ""
      : checkBody(input.body, limits.maxMessageChars);
    try {
      return await storeMessage(member, room, { ...input, body }, isAccount);
    } catch (error) {
      // A retry of a message already stored gets it back, whatever the limits say now (looked
      // up only then: the store gives a retry back anyway when no limit stands in the way).
      if (error instanceof ChatError && error.status === 429 && input.clientId) {
        const sent = await store.findSent(member.id, input.clientId);
        if (sent) return { message: sameRoom(sent, room), created: false };
      }
      throw error;
    }
  }

  /** Stores a checked message within the send and `@room` limits. */
  async function storeMessage(
    member: Member,
    room: Room,
    input: SendInput,
    isAccount: boolean,
  ): Promise<{ message: Message; created: boolean }> {
    const { body } = input;
    const wait = sendLimiter.take(String(member.id));
    if (wait > 0) throw tooFast(wait, "sending messages");
    if (input.replyTo !== undefined && !await store.getMessage(room, input.replyTo)) {
      throw new ChatError(
        400,
        "invalid_reply",
        "A reply must answer a message of the same room.",
      );
    }
    const clientId = input.clientId ?? crypto.randomUUID();
    // Speaking in a public room joins it (it shows in the sidebar with unread counts).
    if (room.kind === "public") await store.addRoomMember(room.id, member.id);
    const mentioned = await mentions.resolve(author(member, isAccount), room, body);
    let result: { message: Message; created: boolean };
    try {
      result = await store.addMessage({
        room,
        authorId: member.id,
        body,
        clientId,
        replyTo: input.replyTo ?? null,
        mentions: mentioned.ids,
        attachments: input.attachments ?? [],
      });
    } catch (error) {
      mentioned.refund();
      if (!(error instanceof AttachmentError)) throw error;
      throw new ChatError(
        400,
        "invalid_attachment",
        "Only files you uploaded to this room and have not sent yet can be attached.",
      );
    }
    if (!result.created) mentioned.refund();
    return { message: sameRoom(result.message, room), created: result.created };
  }

  /** `message` if it is in `room`; a client id already used in another room is a 409. */
  function sameRoom(message: Message, room: Room): Message {
    if (message.room === room.slug) return message;
    throw new ChatError(
      409,
      "client_id_reused",
      "This clientId was already used for a message in another room.",
    );
  }

  function takeChange(member: Member): void {
    const wait = changeLimiter.take(String(member.id));
    if (wait > 0) throw tooFast(wait, "changing messages");
  }

  /**
   * Replaces the text of one's own message (the same rules as sending, mentions worked out
   * again; `@room` already in the message costs nothing more). No history is kept.
   */
  async function edit(
    member: Member,
    room: Room,
    id: number,
    input: { body: string },
    isAccount = false,
  ) {
    refuseArchived(room);
    const message = await find(room, id);
    if (message.author.id !== member.id) {
      throw new ChatError(403, "not_author", "Only the author of a message can edit it.");
    }
    if (message.deleted) throw messageDeleted();
    const body = checkBody(input.body, limits.maxMessageChars);
    takeChange(member);
    const hadRoom = parseMentions(message.body).room;
    const mentioned = await mentions.resolve(author(member, isAccount), room, body, hadRoom);
    return outcome(
      await store.editMessage({ room, id, body, now: Date.now(), mentions: mentioned.ids }),
    );
  }

  /** Whether `actor` may delete `message` in `room`: its author, an admin, or the room's owner. */
  function mayDelete(actor: Actor, room: Room, message: Message): boolean {
    return message.author.id === actor.member.id || actor.isAdmin ||
      (room.ownerId !== null && room.ownerId === actor.member.id);
  }

  /** Deletes a message: its text and reactions are erased; the tombstone stays in place. */
  async function remove(actor: Actor, room: Room, id: number): Promise<Message> {
    const message = await find(room, id);
    if (!mayDelete(actor, room, message)) {
      throw new ChatError(
        403,
        "not_allowed",
        "Only the author, an admin or the room's owner can delete this message.",
      );
    }
    if (message.deleted) return message;
    takeChange(actor.member);
    return outcome(await store.deleteMessage({ room, id, now: Date.now() }));
  }

  /** Adds (or with `add` false removes) the member's reaction `emoji`; idempotent. */
  async function react(
    member: Member,
    room: Room,
    id: number,
    input: { emoji: string; add: boolean },
  ): Promise<Message> {
    refuseArchived(room);
    const emoji = normalizeEmoji(input.emoji);
    if (emoji === null) {
      throw new ChatError(400, "invalid_emoji", "A reaction is one emoji.");
    }
    takeChange(member);
    // Reacting in a public room joins it, as speaking does.
    if (input.add && room.kind === "public") await store.addRoomMember(room.id, member.id);
    return outcome(
      await store.react({
        room,
        id,
        memberId: member.id,
        emoji,
        add: input.add,
        maxEmoji: MAX_EMOJI_PER_MESSAGE,
      }),
    );
  }

  return { read, send, edit, remove, react, mayDelete };
}
