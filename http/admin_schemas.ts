// The schemas of the admin API (/api/admin/…): what it reads and answers, for validation and the OpenAPI document.
import { z } from "zod";
import { roomSchema } from "./api_schemas.ts";

/** A member id in a path. */
export const memberIdParam = z.string().regex(/^[1-9]\d{0,15}$/, "the member id is a whole number")
  .transform(Number);

/** `GET /api/admin/members?q=`. */
export const adminMemberQuery = z.object({
  q: z.string().max(100).optional().describe("Only members whose name or username contains this"),
});

/** `GET /api/admin/audit?before=`. */
export const auditQuery = z.object({
  before: z.string().regex(/^[1-9]\d{0,15}$/, "before is an entry id").transform(Number)
    .optional().describe("Only entries older than this one (the next page)"),
});

/** `PUT /api/admin/members/{id}/admin`. */
export const setAdminBody = z.object({
  admin: z.boolean().describe("Whether the account is an admin"),
});

/** `DELETE /api/admin/rooms/{room}`: the room's slug, typed again. */
export const deleteRoomBody = z.object({
  confirm: z.string().describe("The room's slug, as a confirmation"),
});

/** A member as the admin API lists it. */
export const adminMemberSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  username: z.string().nullable().describe("Null for a guest"),
  isAdmin: z.boolean(),
  bannedAt: z.number().int().nullable().describe("When banned (ms since the epoch), or null"),
  createdAt: z.number().int(),
  lastSeenAt: z.number().int().nullable().describe("The latest use of any of their sessions"),
  messageCount: z.number().int().describe("Messages written and not deleted"),
});

/** `GET /api/admin/members`. */
export const adminMemberListSchema = z.object({ members: z.array(adminMemberSchema) });

/** A room as the admin API lists it. */
export const adminRoomSchema = roomSchema.extend({
  members: z.number().int(),
  messages: z.number().int().describe("Messages not deleted"),
});

/** `GET /api/admin/rooms`. */
export const adminRoomListSchema = z.object({ rooms: z.array(adminRoomSchema) });

/** `GET /api/admin/invites`. */
export const openInviteListSchema = z.object({
  invites: z.array(z.object({
    id: z.number().int(),
    createdBy: z.object({ id: z.number().int(), name: z.string() }),
    createdAt: z.number().int(),
    expiresAt: z.number().int(),
  })),
});

/** One audit log entry. */
export const auditEntrySchema = z.object({
  id: z.number().int(),
  at: z.number().int().describe("When (ms since the epoch)"),
  actor: z.object({ id: z.number().int(), name: z.string() }).nullable()
    .describe("The admin who acted (null when no longer a member)"),
  action: z.string().describe(
    "member.ban, member.unban, member.promote, member.demote, member.delete_messages, room.archive, room.delete",
  ),
  targetKind: z.string().describe("member or room"),
  targetId: z.string().describe("A member id or a room slug"),
  detail: z.record(z.string(), z.unknown()),
});

/** `GET /api/admin/audit`. */
export const auditListSchema = z.object({ entries: z.array(auditEntrySchema) });

/** `POST /api/admin/members/{id}/ban`. */
export const banSchema = z.object({ sessionsEnded: z.number().int() });

/** `DELETE /api/admin/members/{id}/messages`. */
export const deletedMessagesSchema = z.object({ deleted: z.number().int() });

/** `GET /api/admin/settings`: the effective settings, secrets as `set` or `not set`. */
export const settingsSchema = z.record(z.string(), z.unknown());
