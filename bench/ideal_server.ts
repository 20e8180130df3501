// Delivery baseline: Parley's messages API in memory (no sessions, no database) for the same load.

interface StoredMessage {
  id: number;
  json: string;
}

interface Waiter {
  resolve: () => void;
  timer: ReturnType<typeof setTimeout>;
}

const PATH = "/api/rooms/general/messages";
const PAGE = 50;
const encoder = new TextEncoder();
const messages: StoredMessage[] = []; // messages[i].id === i + 1
let waiters: Waiter[] = [];
let guests = 0;

let cache = new Map<number, Uint8Array<ArrayBuffer>>();

/** The messages after `after` as the API's JSON body, shared by every reader woken at once. */
function page(after: number): Response {
  let body = cache.get(after);
  if (!body) {
    const from = Math.max(0, Math.min(after, messages.length));
    const json = messages.slice(from, from + PAGE).map((m) => m.json).join(",");
    body = encoder.encode(`{"messages":[${json}]}`);
    cache.set(after, body);
  }
  return new Response(body, { headers: { "content-type": "application/json" } });
}

async function post(request: Request): Promise<Response> {
  const input = await request.json() as { body: string; clientId?: string };
  const id = messages.length + 1;
  const message = {
    id,
    room: "general",
    body: input.body,
    clientId: input.clientId ?? String(id),
    author: { id: 1, name: "Ideal", username: null },
    createdAt: new Date().toISOString(),
  };
  const json = JSON.stringify(message);
  messages.push({ id, json });
  cache = new Map();
  const woken = waiters;
  waiters = [];
  for (const waiter of woken) {
    clearTimeout(waiter.timer);
    waiter.resolve();
  }
  return new Response(json, { status: 201, headers: { "content-type": "application/json" } });
}

async function get(url: URL): Promise<Response> {
  const latest = messages.length;
  if (url.searchParams.has("limit") && !url.searchParams.has("after")) {
    return page(Math.max(0, latest - 1));
  }
  const after = Number(url.searchParams.get("after") ?? 0);
  const wait = Math.min(60, Number(url.searchParams.get("wait") ?? 0));
  if (latest > after || !(wait > 0)) return page(after);
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
  return page(after);
}

Deno.serve({
  port: Number(Deno.env.get("PORT") ?? "8000"),
  hostname: Deno.env.get("HOSTNAME") ?? "127.0.0.1",
  onListen: () => {},
}, (request) => {
  const url = new URL(request.url);
  if (url.pathname === PATH) return request.method === "POST" ? post(request) : get(url);
  if (url.pathname === "/") {
    return new Response("ideal", {
      headers: { "set-cookie": `parley_session=ideal-${++guests}; Path=/; HttpOnly` },
    });
  }
  return new Response("not found", { status: 404 });
});
