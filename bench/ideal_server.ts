// Delivery baseline: Parley's messages API in memory (no sessions, no database) for the same load:
// new messages, edits and reactions, each taking the room's next change number (`seq`), read
// with `after` or with `since` and the cursor.

interface StoredMessage {
  id: number;
  seq: number;
  body: string;
  clientId: string;
  createdAt: string;
  editedAt: string | null;
  reactions: { emoji: string; count: number; memberIds: number[] }[];
  json: string;
}

interface Waiter {
  resolve: () => void;
  timer: ReturnType<typeof setTimeout>;
}

const PATH = "/api/rooms/general/messages";
const ONE = new URLPattern({ pathname: `${PATH}/:id` });
const REACTION = new URLPattern({ pathname: `${PATH}/:id/reactions/:emoji` });
const PAGE = 50;
const encoder = new TextEncoder();
const messages: StoredMessage[] = []; // messages[i].id === i + 1
/** Message ids by the seq they took (a message moves on with each change; old places go stale). */
const feed: number[] = []; // feed[seq - 1] = id
let waiters: Waiter[] = [];
let guests = 0;

let cache = new Map<string, Uint8Array<ArrayBuffer>>();

function serialize(message: StoredMessage): void {
  const { json: _json, ...fields } = message;
  message.json = JSON.stringify({
    ...fields,
    room: "general",
    deleted: false,
    replyTo: null,
    author: { id: 1, name: "Ideal", username: null },
  });
}

function answer(body: Uint8Array<ArrayBuffer>, status = 200): Response {
  return new Response(body, { status, headers: { "content-type": "application/json" } });
}

/** A page as the API's JSON body, shared by every reader woken at once. */
function cached(key: string, make: () => string): Response {
  let body = cache.get(key);
  if (!body) {
    body = encoder.encode(make());
    cache.set(key, body);
  }
  return answer(body);
}

/** New messages after id `after`. */
function pageAfter(after: number, limit: number): Response {
  return cached(`a${after}:${limit}`, () => {
    const from = Math.max(0, Math.min(after, messages.length));
    const json = messages.slice(from, from + limit).map((m) => m.json).join(",");
    return `{"messages":[${json}],"cursor":${feed.length}}`;
  });
}

/** Messages created or changed after change number `since`, each once, ascending by seq. */
function pageSince(since: number, limit: number): Response {
  return cached(`s${since}:${limit}`, () => {
    const parts: string[] = [];
    let cursor = Math.max(since, feed.length);
    for (let seq = Math.max(since, 0) + 1; seq <= feed.length; seq++) {
      const message = messages[feed[seq - 1] - 1];
      if (message.seq !== seq) continue; // changed again later: it comes at its newer place
      parts.push(message.json);
      if (parts.length === limit) {
        cursor = seq;
        break;
      }
    }
    return `{"messages":[${parts.join(",")}],"cursor":${cursor}}`;
  });
}

/** Gives `message` the next change number and wakes the long polls. */
function changed(message: StoredMessage, status = 200): Response {
  feed.push(message.id);
  message.seq = feed.length;
  serialize(message);
  cache = new Map();
  const woken = waiters;
  waiters = [];
  for (const waiter of woken) {
    clearTimeout(waiter.timer);
    waiter.resolve();
  }
  return answer(encoder.encode(message.json), status);
}

async function post(request: Request): Promise<Response> {
  const input = await request.json() as { body: string; clientId?: string };
  const id = messages.length + 1;
  const message: StoredMessage = {
    id,
    seq: 0,
    body: input.body,
    clientId: input.clientId ?? String(id),
    createdAt: new Date().toISOString(),
    editedAt: null,
    reactions: [],
    json: "",
  };
  messages.push(message);
  return changed(message, 201);
}

async function edit(id: number, request: Request): Promise<Response> {
  const input = await request.json() as { body: string };
  const message = messages[id - 1];
  if (!message) return new Response("not found", { status: 404 });
  message.body = input.body;
  message.editedAt = new Date().toISOString();
  return changed(message);
}

function react(id: number, emoji: string, request: Request): Response {
  const message = messages[id - 1];
  if (!message) return new Response("not found", { status: 404 });
  // One member per cookie, as Parley does with sessions.
  const member = Number(/ideal-(\d+)/.exec(request.headers.get("cookie") ?? "")?.[1] ?? 0);
  let reaction = message.reactions.find((r) => r.emoji === emoji);
  if (reaction?.memberIds.includes(member)) return answer(encoder.encode(message.json));
  if (!reaction) {
    reaction = { emoji, count: 0, memberIds: [] };
    message.reactions.push(reaction);
  }
  reaction.memberIds.push(member);
  reaction.count++;
  return changed(message);
}

async function get(url: URL): Promise<Response> {
  const params = url.searchParams;
  const limit = Math.min(200, Number(params.get("limit") ?? PAGE) || PAGE);
  const bySince = params.has("since");
  if (!bySince && !params.has("after")) {
    return pageAfter(Math.max(0, messages.length - limit), limit);
  }
  const from = Number(params.get(bySince ? "since" : "after") ?? 0);
  const wait = Math.min(60, Number(params.get("wait") ?? 0));
  const read = () => bySince ? pageSince(from, limit) : pageAfter(from, limit);
  const latest = bySince ? feed.length : messages.length;
  if (latest > from || !(wait > 0)) return read();
  await new Promise<void>((resolve) => {
    const waiter: Waiter = {
      resolve,
      timer: setTimeout(() => {
        waiters = waiters.filter((w) => w !== waiter);
        resolve();
      }, wait * 1000),
    };
    waiters.push(waiter);
  });
  return read();
}

Deno.serve({
  port: Number(Deno.env.get("PORT") ?? "8000"),
  hostname: Deno.env.get("HOSTNAME") ?? "127.0.0.1",
  onListen: () => {},
}, (request) => {
  const url = new URL(request.url);
  if (url.pathname === PATH) return request.method === "POST" ? post(request) : get(url);
  const reaction = REACTION.exec(url);
  if (reaction && request.method === "PUT") {
    const { id, emoji } = reaction.pathname.groups;
    return react(Number(id), decodeURIComponent(emoji!), request);
  }
  const one = ONE.exec(url);
  if (one && request.method === "PATCH") return edit(Number(one.pathname.groups.id), request);
  if (url.pathname === "/") {
    return new Response("ideal", {
      headers: { "set-cookie": `parley_session=ideal-${++guests}; Path=/; HttpOnly` },
    });
  }
  return new Response("not found", { status: 404 });
});
