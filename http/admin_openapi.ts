// The admin API's part of the OpenAPI document (/api/admin/…), built with the document's own helpers.
import type { z } from "zod";
import {
  adminMemberListSchema,
  adminMemberQuery,
  adminRoomListSchema,
  adminRoomSchema,
  auditListSchema,
  auditQuery,
  banSchema,
  deletedMessagesSchema,
  deleteRoomBody,
  openInviteListSchema,
  setAdminBody,
  settingsSchema,
} from "./admin_schemas.ts";

/** The helpers of http/openapi.ts that the admin paths are written with. */
export interface OpenApiHelpers {
  json(description: string, s: z.ZodType): unknown;
  errors(...statuses: number[]): Record<string, unknown>;
  body(s: z.ZodType): unknown;
  queryParameters(s: z.ZodObject): unknown[];
  errorSchema: z.ZodType;
}

const memberParam = {
  name: "id",
  in: "path",
  required: true,
  schema: { type: "integer" },
  description: "The member's id",
};

const roomParam = {
  name: "room",
  in: "path",
  required: true,
  schema: { type: "string" },
  description: "The room's slug",
};

/** The `/api/admin/…` paths: admins only (401 without a session, 403 `forbidden` otherwise). */
export function adminPaths(h: OpenApiHelpers): Record<string, unknown> {
  const security = [{ session: [] }];
  const refused = (...statuses: number[]) => ({
    ...h.errors(401, 403, ...statuses),
    403: h.json(
      "Not an admin (`forbidden`), or a request from another site",
      h.errorSchema,
    ),
  });
  const done = { description: "Done" };
  return {
    "/api/admin/members": {
      get: {
        summary: "List members (admins)",
        description:
          "Accounts and guests whose name or username contains `q`, newest first (at most 200), with when they were last seen, how many messages they wrote, whether they are admins or banned.",
        security,
        parameters: h.queryParameters(adminMemberQuery),
        responses: { 200: h.json("The members", adminMemberListSchema), ...refused(400) },
      },
    },
    "/api/admin/members/{id}/ban": {
      post: {
        summary: "Ban a member (admins)",
        description:
          "Every session of the member ends at once (their next request has no session); they can no longer log in (`403 banned`) or post. Recorded in the audit log.",
        security,
        parameters: [memberParam],
        responses: { 200: h.json("The sessions ended", banSchema), ...refused(400, 404) },
      },
      delete: {
        summary: "Lift a ban (admins)",
        security,
        parameters: [memberParam],
        responses: { 204: done, ...refused(400, 404) },
      },
    },
    "/api/admin/members/{id}/admin": {
      put: {
        summary: "Make an account an admin, or not (admins)",
        description:
          "`409 last_admin` when the last admin would demote themselves; `400 not_an_account` for a guest.",
        security,
        parameters: [memberParam],
        requestBody: h.body(setAdminBody),
        responses: { 204: done, ...refused(400, 404, 409, 413, 415) },
      },
    },
    "/api/admin/members/{id}/messages": {
      delete: {
        summary: "Delete every message of a member (admins)",
        description:
          "Each is erased as a single deletion is (text, reactions and files gone, the tombstone takes its room's next change number, so readers see it at once).",
        security,
        parameters: [memberParam],
        responses: {
          200: h.json("How many were deleted", deletedMessagesSchema),
          ...refused(400, 404),
        },
      },
    },
    "/api/admin/rooms": {
      get: {
        summary: "List rooms (admins)",
        description: "Every public and private room (not direct conversations), by name.",
        security,
        responses: { 200: h.json("The rooms", adminRoomListSchema), ...refused() },
      },
    },
    "/api/admin/rooms/{room}": {
      delete: {
        summary: "Delete a room with its messages and files (admins)",
        description:
          "The body confirms with the room's slug (`400 confirmation_mismatch` otherwise); `general` cannot be deleted.",
        security,
        parameters: [roomParam],
        requestBody: h.body(deleteRoomBody),
        responses: { 204: done, ...refused(400, 404, 413, 415) },
      },
    },
    "/api/admin/rooms/{room}/archive": {
      post: {
        summary: "Archive a room (admins)",
        description:
          "The room stays readable; posting, editing and reacting in it answer `403 room_archived`.",
        security,
        parameters: [roomParam],
        responses: {
          200: h.json("The room", adminRoomSchema.omit({ members: true, messages: true })),
          ...refused(404),
        },
      },
    },
    "/api/admin/invites": {
      get: {
        summary: "List open invitations (admins)",
        security,
        responses: {
          200: h.json("Invitations not used nor expired", openInviteListSchema),
          ...refused(),
        },
      },
    },
    "/api/admin/settings": {
      get: {
        summary: "The instance's effective settings (admins)",
        description:
          "From the environment and the defaults. Secrets are never shown: `PARLEY_SECRET` and `PARLEY_METRICS_TOKEN` as `set` or `not set`, `DATABASE_URL` without its password.",
        security,
        responses: { 200: h.json("The settings", settingsSchema), ...refused() },
      },
    },
    "/api/admin/audit": {
      get: {
        summary: "The audit log (admins)",
        description:
          "Every admin action (who, what, when, target), newest first, 50 a page; `before` pages on.",
        security,
        parameters: h.queryParameters(auditQuery),
        responses: { 200: h.json("The entries", auditListSchema), ...refused(400) },
      },
    },
  };
}
