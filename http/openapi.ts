// The OpenAPI document, generated from the same zod schemas that validate requests.
import { z } from "zod";
import {
  attachmentSchema,
  editMessageBody,
  errorSchema,
  historyQuery,
  inviteSchema,
  loginBody,
  memberRefBody,
  memberSchema,
  memberSearchQuery,
  memberSearchSchema,
  meSchema,
  messageListSchema,
  messageSchema,
  newMessageBody,
  newRoomBody,
  passwordBody,
  readBody,
  registerBody,
  renameBody,
  roomListQuery,
  roomListSchema,
  roomMemberQuery,
  roomSchema,
  searchQuery,
  searchResultsSchema,
  topicBody,
  typingQuery,
  typingSchema,
} from "./api_schemas.ts";
import { adminPaths } from "./admin_openapi.ts";

function schema(s: z.ZodType, io: "input" | "output" = "output") {
  const { $schema: _, ...json } = z.toJSONSchema(s, { io, unrepresentable: "any" });
  return json;
}

function json(description: string, s: z.ZodType) {
  return { description, content: { "application/json": { schema: schema(s) } } };
}

function errors(...statuses: number[]) {
  const texts: Record<number, string> = {
    400: "Invalid input",
    401: "No valid session cookie",
    403: "Request from another site",
    404: "Unknown room (or one you may not see)",
    408: "The request body did not arrive in time (PARLEY_BODY_SECONDS)",
    409: "Conflict (clientId used in another room, username or name taken, already registered)",
    413: "Request body over 64 KiB",
    415: "Body is not JSON",
    421: "A host this server does not answer for (with PARLEY_PUBLIC_URL or PARLEY_ORIGINS)",
    429: "Rate limited (see Retry-After)",
    503: "The database is unavailable, or the server is busy checking passwords (see Retry-After)",
  };
  // Any request may meet the host check; any request with a body, the body timeout.
  const all = [...statuses, ...(statuses.includes(413) ? [408] : []), 421].sort((a, b) => a - b);
  return Object.fromEntries(all.map((s) => [s, json(texts[s], errorSchema)]));
}

/** A `multipart/form-data` body carrying one file in a part named `file`. */
const oneFileBody = {
  required: true,
  content: {
    "multipart/form-data": {
      schema: {
        type: "object",
        required: ["file"],
        properties: { file: { type: "string", format: "binary" } },
      },
    },
  },
};

const roomParam = {
  name: "room",
  in: "path",
  required: true,
  schema: { type: "string" },
  description: "The room's slug, e.g. general",
};

const messageParam = {
  name: "id",
  in: "path",
  required: true,
  schema: { type: "integer" },
  description: "The message's id",
};

const emojiParam = {
  name: "emoji",
  in: "path",
  required: true,
  schema: { type: "string" },
  description: "One emoji, URL-encoded (e.g. %F0%9F%91%8D for 👍)",
};

function body(s: z.ZodType) {
  return { required: true, content: { "application/json": { schema: schema(s, "input") } } };
}

/** The query parameters of a query schema, documented from it. */
function queryParameters(s: z.ZodObject) {
  const json = z.toJSONSchema(s, { io: "input", unrepresentable: "any" }) as {
    properties: Record<string, { description?: string }>;
    required?: string[];
  };
  return Object.entries(json.properties).map(([name, property]) => ({
    name,
    in: "query",
    required: json.required?.includes(name) ?? false,
    description: property.description,
    schema: property,
  }));
}

/** Builds the OpenAPI 3.1 document of the API. */
export function openApiDocument(): Record<string, unknown> {
  const query = z.toJSONSchema(historyQuery, { io: "input", unrepresentable: "any" }) as {
    properties: Record<string, { description?: string }>;
  };
  const queryParams = Object.entries(query.properties).map(([name, s]) => ({
    name,
    in: "query",
    required: false,
    description: s.description,
    schema: s,
  }));
  return {
    openapi: "3.1.0",
    info: {
      title: "Parley API",
      version: "1",
      description:
        "Parley's chat API. Identity is the session cookie set by the app; state-changing requests must come from the app's own origin and send JSON.",
    },
    components: {
      securitySchemes: {
        session: { type: "apiKey", in: "cookie", name: "parley_session" },
      },
    },
    paths: {
      "/api/rooms/{room}/messages": {
        get: {
          summary: "Read messages",
          description:
            "Without parameters: the latest page. `since`: every message created or changed after a change number, once each, in its current state, ascending by `seq` (the change feed; `cursor` is the next `since`). `after`: new messages with a greater id. With `wait` (after `since` or `after`), a long poll that answers as soon as there is something. `before`: the page just older than an id. `around`: the page centred on an id.",
          parameters: [roomParam, ...queryParams],
          responses: {
            200: json(
              "Messages, ascending by id (by seq with since), and the cursor",
              messageListSchema,
            ),
            ...errors(400, 404),
          },
        },
        post: {
          summary: "Send a message",
          security: [{ session: [] }],
          parameters: [roomParam],
          requestBody: {
            required: true,
            content: { "application/json": { schema: schema(newMessageBody, "input") } },
          },
          responses: {
            201: json("The stored message", messageSchema),
            200: json("The message already stored for this clientId", messageSchema),
            ...errors(400, 401, 403, 404, 409, 413, 415, 429),
          },
        },
      },
      "/api/rooms/{room}/messages/{id}": {
        patch: {
          summary: "Edit a message",
          description:
            "Only its author; the same rules and limits as sending. The message takes the room's next change number and `editedAt`. No edit history is kept: the earlier text is gone.",
          security: [{ session: [] }],
          parameters: [roomParam, messageParam],
          requestBody: body(editMessageBody),
          responses: {
            200: json("The edited message", messageSchema),
            ...errors(400, 401, 403, 404, 409, 413, 415, 429),
          },
        },
        delete: {
          summary: "Delete a message",
          description:
            'Its author, an admin or the room\'s owner. The text and reactions are erased from storage; the tombstone (`deleted: true`, `body: ""`) keeps its place. Deleting a deleted message changes nothing.',
          security: [{ session: [] }],
          parameters: [roomParam, messageParam],
          responses: {
            200: json("The tombstone", messageSchema),
            ...errors(401, 403, 404, 429),
          },
        },
      },
      "/api/rooms/{room}/messages/{id}/reactions/{emoji}": {
        put: {
          summary: "React to a message",
          description:
            "Adds your reaction (idempotent). One emoji, URL-encoded; at most 20 different emoji per message (409 `too_many_emoji`).",
          security: [{ session: [] }],
          parameters: [roomParam, messageParam, emojiParam],
          responses: {
            200: json("The message", messageSchema),
            ...errors(400, 401, 403, 404, 409, 429),
          },
        },
        delete: {
          summary: "Take back a reaction",
          security: [{ session: [] }],
          parameters: [roomParam, messageParam, emojiParam],
          responses: {
            200: json("The message", messageSchema),
            ...errors(400, 401, 403, 404, 409, 429),
          },
        },
      },
      "/api/me": {
        get: {
          summary: "Who am I",
          security: [{ session: [] }],
          responses: { 200: json("The member of this session", meSchema), ...errors(401) },
        },
        patch: {
          summary: "Change my name",
          description:
            "The name or username of another registered member (ignoring case and Unicode compatibility forms) is refused: 409 `name_taken`.",
          security: [{ session: [] }],
          requestBody: {
            required: true,
            content: { "application/json": { schema: schema(renameBody, "input") } },
          },
          responses: {
            200: json("The renamed member", memberSchema),
            ...errors(400, 401, 403, 409, 413, 415),
          },
        },
      },
      "/api/auth/register": {
        post: {
          summary: "Register",
          description:
            "Makes the current guest (keeping its name and history) an account, or a new member without a session. The first account is the admin. The session is replaced. A refused registration changes nothing (the invitation stays unused). Registrations are limited per address (429).",
          requestBody: body(registerBody),
          responses: {
            201: json("The new account", meSchema),
            ...errors(400, 403, 409, 413, 415, 429, 503),
          },
        },
      },
      "/api/auth/login": {
        post: {
          summary: "Log in",
          description:
            "Replaces the session. Failures give one message whether the username or the password was wrong. Failed attempts lock a username for one address (429) and an address; a username failing from many addresses is slowed down, not locked.",
          requestBody: body(loginBody),
          responses: { 200: json("The account", meSchema), ...errors(400, 401, 429, 503) },
        },
      },
      "/api/auth/logout": {
        post: {
          summary: "Log out",
          description: "Ends this session; the next visit starts as a fresh guest.",
          responses: { 204: { description: "Logged out" } },
        },
      },
      "/api/auth/sessions": {
        delete: {
          summary: "Log out everywhere",
          security: [{ session: [] }],
          responses: {
            200: json(
              "How many sessions ended",
              z.object({ ended: z.number().int() }),
            ),
            ...errors(401, 403),
          },
        },
      },
      "/api/auth/password": {
        put: {
          summary: "Change password",
          description: "Needs the current password; ends the member's other sessions.",
          security: [{ session: [] }],
          requestBody: body(passwordBody),
          responses: {
            200: json(
              "Changed",
              z.object({ endedOtherSessions: z.number().int() }),
            ),
            ...errors(400, 401, 403, 429),
          },
        },
      },
      "/api/rooms": {
        get: {
          summary: "My rooms and the public rooms to join",
          security: [{ session: [] }],
          parameters: [{
            name: "q",
            in: "query",
            required: false,
            schema: schema(roomListQuery.shape.q, "input"),
          }],
          responses: {
            200: json("Rooms with unread counts", roomListSchema),
            ...errors(400, 401),
          },
        },
        post: {
          summary: "Create a room",
          description:
            "Public (anyone may read and join) or private (members only; its slug ends in random characters). Guests may create rooms only where the instance allows it (403 `account_required`); each member may create a few rooms an hour (429).",
          security: [{ session: [] }],
          requestBody: body(newRoomBody),
          responses: {
            201: json("The room", roomSchema),
            ...errors(400, 401, 403, 409, 429),
          },
        },
      },
      "/api/rooms/{room}/topic": {
        put: {
          summary: "Set a room's topic",
          description:
            "Members of the room with an account; not for direct rooms (400); guests 403; a few changes an hour each (429).",
          security: [{ session: [] }],
          parameters: [roomParam],
          requestBody: body(topicBody),
          responses: {
            200: json("The room", roomSchema),
            ...errors(400, 401, 403, 404, 413, 415, 429),
          },
        },
      },
      "/api/rooms/{room}/join": {
        post: {
          summary: "Join a public room",
          security: [{ session: [] }],
          parameters: [roomParam],
          responses: { 200: json("The room", roomSchema), ...errors(401, 404) },
        },
      },
      "/api/rooms/{room}/leave": {
        post: {
          summary: "Leave a room",
          security: [{ session: [] }],
          parameters: [roomParam],
          responses: { 204: { description: "Left" }, ...errors(400, 401, 404, 409) },
        },
      },
      "/api/rooms/{room}/invite": {
        post: {
          summary: "Add a member to a room I am in",
          security: [{ session: [] }],
          parameters: [roomParam],
          requestBody: body(memberRefBody),
          responses: { 200: json("The member added", memberSchema), ...errors(400, 401, 403, 404) },
        },
      },
      "/api/rooms/{room}/read": {
        put: {
          summary: "Mark read up to a message",
          security: [{ session: [] }],
          parameters: [roomParam],
          requestBody: body(readBody),
          responses: { 204: { description: "Marked" }, ...errors(400, 401, 404) },
        },
      },
      "/api/rooms/{room}/typing": {
        get: {
          summary: "Who is typing",
          description:
            "Members typing in the room now (ephemeral: never stored, not in the change feed). With `since` equal to the current `version` and `wait`, a long poll answered when the set changes.",
          parameters: [
            roomParam,
            ...["since", "wait"].map((name) => ({
              name,
              in: "query",
              required: false,
              schema: schema(typingQuery.shape[name as "since" | "wait"], "input"),
            })),
          ],
          responses: {
            200: json("Who is typing, and the version", typingSchema),
            ...errors(400, 401, 404, 429),
          },
        },
        post: {
          summary: "Report that I am typing",
          description:
            "Send it every few seconds while typing; it counts for 6 s. Passed on at most once per 2 s per member (more often is accepted and coalesced); sending a message ends it.",
          security: [{ session: [] }],
          parameters: [roomParam],
          responses: { 204: { description: "Reported" }, ...errors(401, 404) },
        },
      },
      "/api/rooms/{room}/members": {
        get: {
          summary: "Find accounts in a room to mention",
          description:
            "Accounts (members with a username) of the room whose name or username contains `q`, by name. Guests in a public room find only those who wrote in it.",
          security: [{ session: [] }],
          parameters: [roomParam, {
            name: "q",
            in: "query",
            required: false,
            schema: schema(roomMemberQuery.shape.q, "input"),
          }],
          responses: { 200: json("Up to 8 members", memberSearchSchema), ...errors(400, 401, 404) },
        },
      },
      "/api/direct": {
        post: {
          summary: "Open the direct conversation with a member",
          description: "Found again rather than created twice; only its two members can see it.",
          security: [{ session: [] }],
          requestBody: body(memberRefBody),
          responses: { 200: json("The direct room", roomSchema), ...errors(400, 401, 404) },
        },
      },
      "/api/members": {
        get: {
          summary: "Find members",
          description:
            "Accounts find every member; guests only those they share a room with (besides `general`). Never yourself; accounts before guests.",
          security: [{ session: [] }],
          parameters: [{
            name: "q",
            in: "query",
            required: true,
            schema: schema(memberSearchQuery.shape.q, "input"),
          }, {
            name: "notIn",
            in: "query",
            required: false,
            schema: schema(memberSearchQuery.shape.notIn, "input"),
          }],
          responses: {
            200: json("Up to 10 members", memberSearchSchema),
            ...errors(400, 401, 404),
          },
        },
      },
      "/api/search": {
        get: {
          summary: "Search messages",
          description:
            'Messages you may read (public rooms and your rooms; never deleted ones) containing every word and phrase of `q`, newest first. A word matches the start of a word (`deplo` finds "deploy"), ignoring case and accents; words in scripts without spaces (Chinese, Japanese, Thai…) match anywhere in the text; `"a phrase"` matches its words in order. `from:username` and `in:room-slug` typed in `q` filter like `from` and `room`. 400 `invalid_query` when there is no word or phrase; 404 for a room you may not see; an unknown `from` finds nothing. At most 60 searches a minute (429).',
          security: [{ session: [] }],
          parameters: queryParameters(searchQuery),
          responses: {
            200: json("Messages found, newest first, with their highlights", searchResultsSchema),
            ...errors(400, 401, 404, 429),
          },
        },
      },
      "/api/rooms/{room}/files": {
        post: {
          summary: "Upload a file",
          description:
            "One file per request, as `multipart/form-data` in a part named `file`; streamed to storage and cut off at `PARLEY_MAX_UPLOAD_MB` (413 `file_too_large`, nothing kept). Its type and, for images, its size in pixels are decided from its bytes, not from its name or headers. Whoever may post in the room may upload there (uploading to a public room joins it). The upload is seen only by you until a message carries it (`attachments` of `POST /api/rooms/{room}/messages`); unsent uploads are removed after a day. Limits per member: `PARLEY_UPLOAD_MB_PER_DAY` in 24 hours (429 `upload_quota`) and 30 uploads a minute (429 `rate_limited`). An empty file is 400 `empty_file`; no `file` part 400 `missing_file`; a second file 400 `too_many_files`; a malformed form 400 `invalid_multipart`; a body that stops coming for `PARLEY_BODY_SECONDS` 408.",
          security: [{ session: [] }],
          parameters: [roomParam],
          requestBody: oneFileBody,
          responses: {
            201: json("The stored upload", attachmentSchema),
            ...errors(400, 401, 403, 404, 413, 415, 429),
          },
        },
      },
      "/api/rooms/{room}/files/{id}/preview": {
        put: {
          summary: "Give an image upload its preview",
          description:
            "A smaller image shown inline in place of a large one (made in the browser: longest side about 1,280 px, EXIF orientation applied, no metadata). `multipart/form-data` with a part `file`: a PNG, JPEG or WebP (decided from its bytes; else 400 `invalid_preview`), longest side at most 1,600 px, at most 512 KiB (413). Only for your own image upload in this room (else 404 `file_not_found`; 400 `not_an_image`), and only before it is sent (409 `file_attached`). Replaces any earlier preview.",
          security: [{ session: [] }],
          parameters: [roomParam, {
            name: "id",
            in: "path",
            required: true,
            schema: { type: "string" },
            description: "The upload's id",
          }],
          requestBody: oneFileBody,
          responses: {
            200: json("The upload with its preview", attachmentSchema),
            ...errors(400, 401, 403, 404, 409, 413, 415, 429),
          },
        },
      },
      "/files/{id}/{name}": {
        get: {
          summary: "Download or show a file",
          description:
            "For whoever may read the file's room (private and direct rooms: 404 for everyone else, as for the room); an unsent upload only for its uploader. `?preview` serves its preview image (404 when it has none). The id decides; the name is for people. Served with `X-Content-Type-Options: nosniff`, `Content-Security-Policy: sandbox; default-src 'none'`, `Content-Disposition: inline` only for PNG, JPEG, GIF, WebP and AVIF images and common audio and video (everything else, HTML, SVG, XML and PDF included, is a download: `attachment` with the name as `filename*`), `Cache-Control: private, max-age=31536000, immutable`, the SHA-256 of the bytes as `ETag` (304 on `If-None-Match`), and byte ranges (`Range: bytes=a-b`, `a-`, `-n`: 206 with `Content-Range`; 416 past the end). HEAD gives the headers only.",
          parameters: [
            {
              name: "id",
              in: "path",
              required: true,
              schema: { type: "string" },
              description: "The file's id",
            },
            {
              name: "name",
              in: "path",
              required: true,
              schema: { type: "string" },
              description: "The file's name (any name serves the file)",
            },
            {
              name: "preview",
              in: "query",
              required: false,
              schema: { type: "string" },
              description: "Present: the preview image instead of the file",
            },
            {
              name: "Range",
              in: "header",
              required: false,
              schema: { type: "string" },
              description: "One byte range, e.g. bytes=0-1023 or bytes=-500",
            },
          ],
          responses: {
            200: { description: "The file", content: { "*/*": {} } },
            206: { description: "The range asked for", content: { "*/*": {} } },
            304: { description: "Not modified (If-None-Match)" },
            404: { description: "No such file, or one you may not read" },
            416: { description: "The range starts past the end (Content-Range: bytes */size)" },
          },
        },
      },
      "/api/invites": {
        post: {
          summary: "Create an invitation (admins)",
          security: [{ session: [] }],
          responses: { 201: json("The invitation", inviteSchema), ...errors(401, 403) },
        },
      },
      ...adminPaths({ json, errors, body, queryParameters, errorSchema }),
    },
  };
}
