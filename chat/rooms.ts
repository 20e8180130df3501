// Rooms: creating, joining, leaving, inviting, direct messages, unread counts — and who may see what.
import type { Member, MyRoom, NewRoom, Room, Store } from "../db/store.ts";
import { ChatError } from "./chat_error.ts";
import { type Limiters, localLimiters } from "./limiters.ts";
import { PollGate } from "./poll_gate.ts";
import {
  graphemeCount,
  hasBidiControls,
  hasControlCharacters,
  MAX_MARKS_PER_CHARACTER,
  mostMarksInAGrapheme,
  utf8Length,
} from "./typed_text.ts";

const UNREAD_CAP = 99;
/** Public rooms to join listed at once; the rest are found by name (`GET /api/rooms?q=`). */
export const PUBLIC_ROOMS_LISTED = 30;
const HOUR_MS = 3600 * 1000;

/** What `GET /api/rooms` shows a member: their rooms, and public rooms they could join. */
export interface RoomList {
  rooms: MyRoom[];
  /**
   * Where the member's rooms stand (each room's id and change number): pass it back as
   * `since` to wait for the next change in any of them.
   */
  cursor: string;
  /** Public rooms not joined yet, the most recently active first, at most {@link PUBLIC_ROOMS_LISTED}. */
  publicRooms: Room[];
  /** Whether there are more public rooms to join than listed (search for them by name). */
  morePublicRooms: boolean;
}

/** Who may create rooms, and how many. */
export interface RoomPolicy {
  /** Rooms one member may create per hour. */
  perHour: number;
  /** Whether guests (members without an account) may create rooms. */
  guests: boolean;
}

/** Six random characters of base 36: the part of a private room's slug nobody can guess. */
function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (b) => (b % 36).toString(36)).join("");
}

/** A URL slug from a room name: lower case letters, digits and dashes. */
export function slugify(name: string): string {
  return name.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40).replace(/-+$/, "");
}

/** 404 `room_not_found`: what anyone who may not see a room, or asks for none, is told. */
export function roomNotFound(slug: string): ChatError {
  return new ChatError(404, "room_not_found", `There is no room "${slug}".`);
}

/** 403 `room_archived` for a room an admin archived: it can be read, not written to. */
export function refuseArchived(room: Room): void {
  if (room.archived) {
    throw new ChatError(
      403,
      "room_archived",
      "This room is archived: it can be read, but nobody can post, edit or react in it.",
    );
  }
}

/** Topic changes one member may make per hour. */
const TOPIC_CHANGES_PER_HOUR = 20;

/**
 * A room topic as typed, tidied (NFC, trimmed, spaces folded) and checked: at most 200
 * characters (800 bytes), no control characters or direction overrides, few marks per letter.
 */
export function checkTopic(input: string): string {
  const topic = input.normalize("NFC").trim().replace(/\s+/g, " ");
  if (hasControlCharacters(topic) || hasBidiControls(topic)) {
    throw new ChatError(
      400,
      "invalid_topic",
      "A topic cannot contain control characters or text-direction overrides.",
    );
  }
  if (
    graphemeCount(topic) > 200 || utf8Length(topic) > 800 ||
    mostMarksInAGrapheme(topic) > MAX_MARKS_PER_CHARACTER
  ) {
    throw new ChatError(
      400,
      "invalid_topic",
      `A topic has at most 200 characters, each with at most ${MAX_MARKS_PER_CHARACTER} marks.`,
    );
  }
  return topic;
}

/** What {@link Rooms.list} is asked. */
export interface RoomListQuery {
  /** Only public rooms to join whose name contains this. */
  query?: string;
  /** With `since`: hold the answer up to this many seconds until one of the rooms changes. */
  wait?: number;
  /** The `cursor` of the list the reader has. */
  since?: string;
  /** Aborted when the reader goes away. */
  signal?: AbortSignal;
  /** The reader's address, for the cap on waiting long polls per address. */
  address?: string;
}

/** How long a woken room-list poll waits for more changes of the same burst, in ms. */
const COALESCE_MS = 300;

/** A list's cursor: each room's id and change number (`3.120-9.4`). */
function roomsCursor(rooms: MyRoom[]): string {
  return rooms.map((room) => `${room.id}.${room.seq}`).join("-");
}

/** The room operations; one instance per app. */
export type Rooms = ReturnType<typeof createRooms>;

/** Whether `viewer` may see `room`: anyone a public one, only its members a private or direct one. */
export async function canSeeRoom(store: Store, room: Room, viewer?: Member): Promise<boolean> {
  return room.kind === "public" ||
    Boolean(viewer && await store.isRoomMember(room.id, viewer.id));
}

/** Creates the room operations over a store. */
export function createRooms(
  options: {
    store: Store;
    policy?: RoomPolicy;
    polls?: PollGate;
    shutdown?: AbortSignal;
    limiters?: Limiters;
  },
) {
  const { store } = options;
  const polls = options.polls ?? new PollGate({ maxPerAddress: Infinity });
  const policy = options.policy ?? { perHour: 10, guests: false };
  const limiters = options.limiters ?? localLimiters;
  const creations = limiters.rate("room-creations", { limit: policy.perHour, windowMs: HOUR_MS });
  const topicChanges = limiters.rate("topic-changes", {
    limit: TOPIC_CHANGES_PER_HOUR,
    windowMs: HOUR_MS,
  });

  function canSee(room: Room, viewer?: Member): Promise<boolean> {
    return canSeeRoom(store, room, viewer);
  }

  /**
   * The room `slug` as `viewer` may see it: public rooms for anyone, private and direct
   * rooms only for their members — for everyone else they do not exist (404).
   */
  async function open(slug: string, viewer?: Member): Promise<Room> {
    const room = await store.getRoom(slug);
    if (!room) throw roomNotFound(slug);
    if (!await canSee(room, viewer)) throw roomNotFound(slug);
    return room;
  }

  /**
   * Creates a public or private room; its creator is its first member. Guests need
   * `policy.guests` (403 `account_required`); each member creates at most `policy.perHour`
   * rooms an hour (429). A private room's slug ends in random characters, so that nobody can
   * guess it or learn it exists by taking its name; a public room takes its name's slug, or
   * one with random characters when that slug belongs to a room the creator cannot see (409
   * only when they can).
   */
  async function create(
    member: Member,
    input: { name: string; topic?: string; private?: boolean },
    options: { guest?: boolean } = {},
  ): Promise<Room> {
    if (options.guest && !policy.guests) {
      throw new ChatError(
        403,
        "account_required",
        "Guests cannot create rooms here: register (it keeps your name and messages) to create one.",
      );
    }
    const name = input.name.normalize("NFC").trim().replace(/\s+/g, " ");
    const slug = slugify(name);
    if (hasControlCharacters(name) || hasBidiControls(name)) {
      throw new ChatError(
        400,
        "invalid_room_name",
        "A room name cannot contain control characters or text-direction overrides.",
      );
    }
    const length = graphemeCount(name);
    if (length < 2 || length > 40 || utf8Length(name) > 160 || slug.length < 2) {
      throw new ChatError(
        400,
        "invalid_room_name",
        "A room name has 2 to 40 characters, with at least two letters or digits.",
      );
    }
    if (mostMarksInAGrapheme(name) > MAX_MARKS_PER_CHARACTER) {
      throw new ChatError(
        400,
        "invalid_room_name",
        `A character of a room name can carry at most ${MAX_MARKS_PER_CHARACTER} accents or marks.`,
      );
    }
    if (slug.startsWith("dm-")) {
      throw new ChatError(400, "invalid_room_name", 'Room names cannot start with "dm-".');
    }
    const topic = checkTopic(input.topic ?? "");
    const takenAt = Date.now();
    const wait = creations.take(String(member.id), takenAt);
    if (wait > 0) {
      const minutes = Math.ceil(wait / 60_000);
      throw new ChatError(
        429,
        "rate_limited",
        `You have created ${policy.perHour} rooms in the last hour; try again in ${minutes} min.`,
        { retryAfter: Math.ceil(wait / 1000) },
      );
    }
    const kind = input.private ? "private" : "public";
    const room: NewRoom = { slug, name, topic, kind, createdBy: member.id };
    if (kind === "public") {
      const made = await store.createRoom(room);
      if (made) return made;
      const taken = await store.getRoom(slug);
      if (!taken || await canSee(taken, member)) {
        // Nothing was created: the attempt does not count towards the hourly limit.
        creations.forgive(String(member.id), takenAt);
        throw new ChatError(409, "room_exists", `A room "${slug}" exists already.`);
      }
    }
    const base = slug.slice(0, 33).replace(/-+$/, "");
    for (let attempt = 0; attempt < 5; attempt++) {
      const made = await store.createRoom({ ...room, slug: `${base}-${randomSuffix()}` });
      if (made) return made;
    }
    throw new Error(`No free slug for a room named like "${slug}"`);
  }

  /** Joins a public room (a private one only by invitation). */
  async function join(member: Member, slug: string): Promise<Room> {
    const room = await open(slug, member);
    if (room.kind !== "public") return room; // already a member, or open() said 404
    await store.addRoomMember(room.id, member.id);
    return room;
  }

  /** Leaves a room (a direct room cannot be left). */
  async function leave(member: Member, slug: string): Promise<void> {
    const room = await open(slug, member);
    if (room.kind === "direct") {
      throw new ChatError(400, "cannot_leave", "A direct conversation cannot be left.");
    }
    if (!await store.removeRoomMember(room.id, member.id)) {
      throw new ChatError(409, "not_a_member", "You are not in this room.");
    }
  }

  /** A member of a room adds someone else to it. */
  async function invite(member: Member, slug: string, otherId: number): Promise<Member> {
    const room = await open(slug, member);
    if (room.kind === "direct") {
      throw new ChatError(400, "cannot_invite", "A direct conversation is for two people.");
    }
    refuseArchived(room);
    if (!await store.isRoomMember(room.id, member.id)) {
      throw new ChatError(403, "not_a_member", "Join the room before inviting others.");
    }
    const other = await store.getMember(otherId);
    if (!other) throw new ChatError(404, "member_not_found", "There is no such member.");
    await store.addRoomMember(room.id, other.id);
    return other;
  }

  /** The direct room between two members, created the first time. */
  async function direct(member: Member, otherId: number): Promise<Room> {
    if (otherId === member.id) {
      throw new ChatError(400, "invalid_request", "A direct conversation needs someone else.");
    }
    const other = await store.getMember(otherId);
    if (!other) throw new ChatError(404, "member_not_found", "There is no such member.");
    const [low, high] = [member.id, other.id].sort((a, b) => a - b);
    const key = `${low}:${high}`;
    const found = await store.getDirectRoom(key);
    if (found) return found;
    const room = await store.createRoom({
      slug: `dm-${low}-${high}`,
      name: "",
      topic: "",
      kind: "direct",
      createdBy: member.id,
      directKey: key,
    });
    const made = room ?? await store.getDirectRoom(key); // created meanwhile by the other side
    if (!made) throw new Error(`Direct room ${key} is neither creatable nor found`);
    await store.addRoomMember(made.id, other.id);
    await store.addRoomMember(made.id, member.id);
    return made;
  }

  /**
   * The member's rooms with unread counts, and some public rooms they have not joined (the
   * most recently active; with `query`, those whose name contains it).
   */
  async function list(member: Member, query: RoomListQuery = {}): Promise<RoomList> {
    const readAt = Date.now();
    let rooms = await store.listMyRooms(member.id, UNREAD_CAP);
    if (query.wait && query.since !== undefined && roomsCursor(rooms) === query.since) {
      rooms = await waitForRooms(member, rooms, readAt, query);
    }
    const found = await store.listPublicRooms({
      notJoinedBy: member.id,
      query: query.query?.trim() || undefined,
      limit: PUBLIC_ROOMS_LISTED + 1,
    });
    return {
      rooms,
      cursor: roomsCursor(rooms),
      publicRooms: found.slice(0, PUBLIC_ROOMS_LISTED),
      morePublicRooms: found.length > PUBLIC_ROOMS_LISTED,
    };
  }

  /**
   * Waits (a long poll) until something changes in one of `rooms`, or the member is added to
   * a room (joins, invitations, direct conversations others start) after `readAt`, then lets
   * further changes of the same moment arrive before reading the list again: one answer for a
   * burst. The cursor lists the rooms, so a list whose set of rooms changed answers at once.
   */
  async function waitForRooms(
    member: Member,
    rooms: MyRoom[],
    readAt: number,
    query: RoomListQuery,
  ): Promise<MyRoom[]> {
    const leave = polls.enter(query.address ?? "unknown");
    try {
      const signals = [query.signal, options.shutdown].filter((s) => s !== undefined);
      const signal = signals.length ? AbortSignal.any(signals) : undefined;
      const waiter = store.waitForChanges(
        rooms.map((room) => ({ roomId: room.id, since: room.seq })),
        { timeoutMs: query.wait! * 1000, signal, member: { id: member.id, since: readAt } },
      );
      const changed = await waiter.arrived;
      if (!changed || signal?.aborted) return rooms;
      await new Promise((resolve) => setTimeout(resolve, COALESCE_MS));
      return await store.listMyRooms(member.id, UNREAD_CAP);
    } finally {
      leave();
    }
  }

  /**
   * Sets the topic of a public or private room: members of the room with an account may
   * (guests 403; a direct room has none, 400); at most a few changes an hour each.
   */
  async function setTopic(
    member: Member,
    slug: string,
    input: { topic: string; isAccount: boolean },
  ): Promise<Room> {
    const room = await open(slug, member);
    if (room.kind === "direct") {
      throw new ChatError(400, "no_topic", "A direct conversation has no topic.");
    }
    if (!input.isAccount) {
      throw new ChatError(403, "account_required", "Register to set a room's topic.");
    }
    refuseArchived(room);
    if (!await store.isRoomMember(room.id, member.id)) {
      throw new ChatError(403, "not_a_member", "Join the room before setting its topic.");
    }
    const topic = checkTopic(input.topic);
    const wait = topicChanges.take(String(member.id));
    if (wait > 0) {
      throw new ChatError(
        429,
        "rate_limited",
        "You have changed topics often in the last hour; try again later.",
        { retryAfter: Math.ceil(wait / 1000) },
      );
    }
    const changed = await store.setRoomTopic(room.id, topic);
    if (!changed) throw roomNotFound(slug);
    return changed;
  }

  /** Records that the member has read a room up to `messageId`. */
  async function markRead(member: Member, slug: string, messageId: number): Promise<void> {
    const room = await open(slug, member);
    await store.markRead(room.id, member.id, messageId);
  }

  return { open, create, join, leave, invite, direct, list, markRead, setTopic };
}
