// The API's request and response schemas (zod): they validate requests and generate the OpenAPI document.
import { z } from "zod";
import { DEFAULT_LIMITS } from "../chat/limits.ts";

function whole(name: string, min: number, max: number) {
  return z.string()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .meta({ description: `${name}: a whole number from ${min} to ${max}` })
    .transform(Number)
    .pipe(
      z.number().int().min(min, `${name} must be at least ${min}`).max(
        max,
        `${name} must be at most ${max}`,
      ),
    );
}

/** Query of `GET /api/rooms/{room}/messages`. */
export const historyQuery = z.object({
  after: whole("after", 0, Number.MAX_SAFE_INTEGER).optional()
    .describe("Return messages with an id greater than this, oldest first."),
  before: whole("before", 1, Number.MAX_SAFE_INTEGER).optional()
    .describe("Return the page of messages just older than this id."),
  since: whole("since", 0, Number.MAX_SAFE_INTEGER).optional()
    .describe(
      "Return every message created or changed after this change number (`seq`), each once, in its current state, ascending by `seq`; pass the answer's `cursor` as the next `since`.",
    ),
  around: whole("around", 1, Number.MAX_SAFE_INTEGER).optional()
    .describe("Return the page centred on this message id, with hasOlder and hasNewer."),
  limit: whole("limit", 1, DEFAULT_LIMITS.maxPageSize).optional()
    .describe(
      `How many messages at most (default ${DEFAULT_LIMITS.pageSize}, at most ${DEFAULT_LIMITS.maxPageSize}).`,
    ),
  wait: whole("wait", 0, DEFAULT_LIMITS.maxWaitSeconds).optional()
    .describe(
      "With after or since: hold the request up to this many seconds until something arrives (long poll).",
    ),
});

/** Body of `POST /api/rooms/{room}/messages`. */
export const newMessageBody = z.object({
  body: z.string().describe(
    `The text: not blank (empty is fine with attachments), at most ${DEFAULT_LIMITS.maxMessageChars} characters.`,
  ),
  clientId: z.string().min(1).max(64).regex(
    /^[A-Za-z0-9._:-]+$/,
    "clientId may use letters, digits and . _ : - only",
  ).optional().describe(
    "Chosen by the client for each message; a retried send with the same clientId returns the stored message instead of a duplicate.",
  ),
  replyTo: z.number().int().positive().optional().describe(
    "The id of the message this one answers (in the same room).",
  ),
  attachments: z.array(z.string().min(1).max(64)).max(
    10,
    "a message can carry at most 10 files",
  ).optional().describe(
    "Ids of files you uploaded to this room (POST /api/rooms/{room}/files) and have not sent yet, in the order to show them; at most 10.",
  ),
});

/** Body of `PATCH /api/rooms/{room}/messages/{id}`. */
export const editMessageBody = z.object({
  body: z.string().describe(
    `The new text: the same rules as sending. No history of earlier texts is kept.`,
  ),
});

/** Path parameter of a message: its id. */
export const messageIdParam = z.string().regex(
  /^[1-9]\d{0,15}$/,
  "the message id is a whole number",
)
  .transform(Number);

/** Body of `PATCH /api/me`. */
export const renameBody = z.object({
  name: z.string().describe(
    `1 to ${DEFAULT_LIMITS.maxNameChars} visible characters.`,
  ),
});

/** Body of `POST /api/auth/register`. */
export const registerBody = z.object({
  username: z.string().describe("3 to 32 letters, digits, _ or -; unique ignoring case."),
  password: z.string().describe("At least 10 characters."),
  invite: z.string().max(200).optional().describe(
    "An invitation token, needed when registration is by invitation.",
  ),
});

/** Body of `POST /api/auth/login`. */
export const loginBody = z.object({
  username: z.string().max(200),
  password: z.string().max(4096),
});

/** Body of `PUT /api/auth/password`. */
export const passwordBody = z.object({
  currentPassword: z.string().max(4096),
  newPassword: z.string().describe("At least 10 characters."),
});

/** The signed-in member: its account, or null for a guest. */
export const meSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  account: z.object({ username: z.string(), isAdmin: z.boolean() }).nullable(),
});

/** An invitation: the token to pass to `POST /api/auth/register`, and its link. */
export const inviteSchema = z.object({
  token: z.string(),
  url: z.string(),
  expiresAt: z.string(),
});

/** Body of `POST /api/rooms`. */
export const newRoomBody = z.object({
  name: z.string().describe("2 to 40 characters; the URL slug is made from it."),
  topic: z.string().optional(),
  private: z.boolean().optional().describe("Visible and readable only by its members."),
});

/** Body of `PUT /api/rooms/{room}/topic`. */
export const topicBody = z.object({
  topic: z.string().max(2000).describe("At most 200 characters; empty clears it."),
});

/** Body of `POST /api/rooms/{room}/invite` and `POST /api/direct`. */
export const memberRefBody = z.object({ memberId: z.number().int().positive() });

/** Body of `PUT /api/rooms/{room}/read`. */
export const readBody = z.object({ messageId: z.number().int().min(0) });

/** A room as the API shows it. */
export const roomSchema = z.object({
  id: z.number().int(),
  slug: z.string(),
  name: z.string(),
  topic: z.string(),
  kind: z.enum(["public", "private", "direct"]),
  ownerId: z.number().int().nullable().describe(
    "Who created the room and may delete any message in it; null for direct rooms.",
  ),
  archived: z.literal(true).optional().describe(
    "Present (true) once an admin archived the room: it can be read, not written to.",
  ),
});

/** `GET /api/rooms`: my rooms with unread counts, and public rooms to join. */
export const roomListSchema = z.object({
  rooms: z.array(roomSchema.extend({
    unread: z.number().int().describe("Messages of others not read yet (at most 99)."),
    mentions: z.number().int().describe(
      "Of those, the ones that mention you (at most 99).",
    ),
    lastReadId: z.number().int(),
    seq: z.number().int().describe("The room's change number now."),
  })),
  cursor: z.string().describe(
    "Where these rooms stand: pass it as since, with wait, to be answered at the next change.",
  ),
  publicRooms: z.array(roomSchema).describe(
    "Public rooms not joined yet, the most recently active first, at most 30.",
  ),
  morePublicRooms: z.boolean().describe(
    "Whether more public rooms could be joined than listed: find them with `q`.",
  ),
});

/** Query of `GET /api/rooms`. */
export const roomListQuery = z.object({
  q: z.string().max(40, "q can have at most 40 characters").optional()
    .describe("Only public rooms whose name contains this."),
  since: z.string().max(4000).regex(/^(\d+\.\d+(-\d+\.\d+)*)?$/, "since is a room list's cursor")
    .optional().describe("The cursor of the room list you have."),
  wait: whole("wait", 0, DEFAULT_LIMITS.maxWaitSeconds).optional().describe(
    "With since: hold the answer up to this many seconds until something changes in one of your rooms (a long poll for live unread counts).",
  ),
});

/** Query of `GET /api/rooms/{room}/typing`. */
export const typingQuery = z.object({
  since: whole("since", 0, Number.MAX_SAFE_INTEGER).optional()
    .describe("The version of the answer you have."),
  wait: whole("wait", 0, DEFAULT_LIMITS.maxWaitSeconds).optional().describe(
    "With since: hold the answer up to this many seconds until who is typing changes (long poll).",
  ),
});

/** `GET /api/rooms/{room}/typing`: who is typing now (never stored). */
export const typingSchema = z.object({
  typing: z.array(z.object({ id: z.number().int(), name: z.string() })).describe(
    "Members who reported typing in the last few seconds, yourself left out.",
  ),
  version: z.number().int().describe(
    "The version of this set (0 when nobody types): pass it as since, with wait.",
  ),
});

/** Query of `GET /api/members`. */
export const memberSearchQuery = z.object({
  q: z.string().min(1, "q must not be empty").max(40, "q can have at most 40 characters")
    .describe("Part of a name or username."),
  notIn: z.string().max(80).optional()
    .describe("A room's slug: leave out its members (for adding people to it)."),
});

/** Query of `GET /api/rooms/{room}/members` (mention autocomplete). */
export const roomMemberQuery = z.object({
  q: z.string().max(40, "q can have at most 40 characters").optional()
    .describe("Part of a name or username (none: the first members by name)."),
});

/** `GET /api/members`: members found. */
export const memberSearchSchema = z.object({
  members: z.array(
    z.object({ id: z.number().int(), name: z.string(), username: z.string().nullable() }),
  ),
});

/** A member as the API shows it. */
export const memberSchema = z.object({
  id: z.number().int(),
  name: z.string(),
});

/** A message's author: the username tells registered members apart (null for a guest). */
export const authorSchema = memberSchema.extend({
  username: z.string().nullable().describe("The author's username; null for a guest."),
});

/** A file as the API shows it: an upload, or one a message carries. */
export const attachmentSchema = z.object({
  id: z.string().describe("Unguessable; the id to attach it with."),
  name: z.string().describe("The file name as uploaded (no folders, no control characters)."),
  size: z.number().int().describe("Bytes."),
  type: z.string().describe(
    "The media type decided from the bytes (application/octet-stream when unknown), never from the name or the client's header.",
  ),
  url: z.string().describe("Where it is served: /files/{id}/{name}."),
  width: z.number().int().nullable().describe("Pixels, for images (as shown); else null."),
  height: z.number().int().nullable().describe("Pixels, for images (as shown); else null."),
  preview: z.object({
    url: z.string().describe("/files/{id}/{name}?preview"),
    type: z.string(),
    size: z.number().int(),
    width: z.number().int(),
    height: z.number().int(),
  }).nullable().describe("A smaller image to show inline in place of a large one, or null."),
});

/** A message as the API shows it: the same JSON for every reader. */
export const messageSchema = z.object({
  id: z.number().int().describe("Increases with every message; orders the history."),
  room: z.string(),
  seq: z.number().int().describe(
    "The room's change number of this message's latest change (creation, edit, deletion, reaction).",
  ),
  body: z.string().describe("The text; empty once deleted."),
  clientId: z.string(),
  author: authorSchema,
  createdAt: z.string().describe("ISO 8601"),
  editedAt: z.string().nullable().describe("When the text last changed (ISO 8601), or null."),
  deleted: z.boolean().describe("Deleted: the text and reactions are erased, the place kept."),
  reactions: z.array(z.object({
    emoji: z.string(),
    count: z.number().int(),
    memberIds: z.array(z.number().int()).describe("Who reacted, in the order they did."),
  })).describe("In the order of the earliest reaction still there."),
  replyTo: z.object({
    id: z.number().int(),
    authorName: z.string(),
    excerpt: z.string().optional().describe("At most 100 characters of its text."),
    deleted: z.literal(true).optional().describe("Present once the message is deleted."),
  }).nullable().describe("The message this one answers, or null."),
  mentions: z.array(z.number().int()).describe(
    "The members it mentions (`@username`, or everyone in the room with `@room`), ascending; never its author.",
  ),
  attachments: z.array(attachmentSchema).describe(
    "The files it carries, in order; none once deleted.",
  ),
});

/** A page of messages with the change number to go on from. */
export const messageListSchema = z.object({
  messages: z.array(messageSchema),
  cursor: z.number().int().describe(
    "With since: the largest change number covered. Otherwise the room's change number when the page was read. Pass it as the next since.",
  ),
  hasOlder: z.boolean().optional().describe("Latest, before and around: older messages exist."),
  hasNewer: z.boolean().optional().describe("Around: newer messages exist."),
});

/** Query of `GET /api/search`. */
export const searchQuery = z.object({
  q: z.string().max(500, "q can have at most 500 characters").describe(
    'The search box\'s text: words (each found as a word or the start of one, any case, accents ignored; in Chinese, Japanese, Thai… anywhere in the text), "quoted phrases", and the filters from:username and in:room-slug.',
  ),
  room: z.string().max(80).optional().describe("Only in this room (its slug), like in:."),
  from: z.string().max(80).optional().describe("Only by this username, like from:."),
  before: whole("before", 1, Number.MAX_SAFE_INTEGER).optional()
    .describe("Only messages older than this id: the `next` of the previous page."),
  limit: whole("limit", 1, 50).optional().describe("How many results at most (default 20)."),
});

/** `GET /api/search`: messages found, newest first, with where they match. */
export const searchResultsSchema = z.object({
  results: z.array(z.object({
    message: messageSchema,
    highlights: z.array(z.tuple([z.number().int(), z.number().int()])).describe(
      "Where the text matches: sorted, non-overlapping [start, end) offsets into body, in UTF-16 code units (JavaScript string indices).",
    ),
  })),
  next: z.number().int().nullable().describe(
    "Pass as before for the next page; null when there are no more results.",
  ),
});

/** Every API error. */
export const errorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});

/** The first problem of a failed validation, as one readable sentence. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const where = issue.path.join(".");
  if (issue.code === "invalid_type") {
    return `${where || "the body"} must be ${
      issue.expected === "object" ? "a JSON object" : `a ${issue.expected}`
    }`;
  }
  return where && !issue.message.startsWith(where) ? `${where}: ${issue.message}` : issue.message;
}
