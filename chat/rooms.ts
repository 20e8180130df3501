// Rooms: creating, joining, leaving, inviting, direct messages, unread counts — and who may see what.
import type { Member, MyRoom, Room, Store } from "../db/store.ts";
import { ChatError } from "./chat_error.ts";

const UNREAD_CAP = 99;

/** What `GET /api/rooms` shows a member: their rooms, and public rooms they could join. */
export interface RoomList {
  rooms: MyRoom[];
  publicRooms: Room[];
}

/** A URL slug from a room name: lower case letters, digits and dashes. */
export function slugify(name: string): string {
  return name.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40).replace(/-+$/, "");
}

function notFound(slug: string): ChatError {
  return new ChatError(404, "room_not_found", `There is no room "${slug}".`);
}

/** The room operations; one instance per app. */
export type Rooms = ReturnType<typeof createRooms>;

/** Creates the room operations over a store. */
export function createRooms(options: { store: Store }) {
  const { store } = options;

  /**
   * The room `slug` as `viewer` may see it: public rooms for anyone, private and direct
   * rooms only for their members — for everyone else they do not exist (404).
   */
  async function open(slug: string, viewer?: Member): Promise<Room> {
    const room = await store.getRoom(slug);
    if (!room) throw notFound(slug);
    if (room.kind !== "public" && !(viewer && await store.isRoomMember(room.id, viewer.id))) {
      throw notFound(slug);
    }
    return room;
  }

  /** Creates a public or private room; its creator is its first member. */
  async function create(
    member: Member,
    input: { name: string; topic?: string; private?: boolean },
  ): Promise<Room> {
    const name = input.name.normalize("NFC").trim().replace(/\s+/g, " ");
    const slug = slugify(name);
    if (name.length < 2 || name.length > 40 || slug.length < 2) {
      throw new ChatError(
        400,
        "invalid_room_name",
        "A room name has 2 to 40 characters, with at least two letters or digits.",
      );
    }
    if (slug.startsWith("dm-")) {
      throw new ChatError(400, "invalid_room_name", 'Room names cannot start with "dm-".');
    }
    const topic = (input.topic ?? "").trim();
    if (topic.length > 200) {
      throw new ChatError(400, "invalid_topic", "A topic has at most 200 characters.");
    }
    const room = await store.createRoom({
      slug,
      name,
      topic,
      kind: input.private ? "private" : "public",
      createdBy: member.id,
    });
    if (!room) throw new ChatError(409, "room_exists", `A room "${slug}" exists already.`);
    return room;
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

  /** The member's rooms with unread counts, and the public rooms they have not joined. */
  async function list(member: Member): Promise<RoomList> {
    const rooms = await store.listMyRooms(member.id, UNREAD_CAP);
    const mine = new Set(rooms.map((r) => r.id));
    const publicRooms = (await store.listPublicRooms()).filter((r) => !mine.has(r.id));
    return { rooms, publicRooms };
  }

  /** Records that the member has read a room up to `messageId`. */
  async function markRead(member: Member, slug: string, messageId: number): Promise<void> {
    const room = await open(slug, member);
    await store.markRead(room.id, member.id, messageId);
  }

  return { open, create, join, leave, invite, direct, list, markRead };
}
