// The room poll on its own path: GET /api/rooms/{room}/messages?since=… (or after=…), the most frequent request by far, answered without the page stack.
import { parse as parseCookies } from "hono/utils/cookie";
import type { Chat } from "../chat/chat.ts";
import { SESSION_COOKIE, type SessionResolver } from "../chat/sessions.ts";
import { DEFAULT_LIMITS } from "../chat/limits.ts";
import type { Room } from "../db/store.ts";
import { apiErrorFor, errorStatus } from "./api_errors.ts";
import { addressOf } from "./client_address.ts";
import { sharedBody } from "./json_response.ts";
import type { AnsweredRequest } from "./operations.ts";
import { requestIdOf } from "./request_log.ts";

/** The route pattern polls are logged and counted under, as through the app. */
export const POLL_ROUTE = "/api/rooms/:room/messages";

const PATH = /^\/api\/rooms\/([^/]+)\/messages$/;
const DIGITS = /^\d{1,16}$/;

/** What the server tells a handler about the connection (Deno.serve's and `serveGuarded`'s). */
export interface PeerInfo {
  remoteAddr: Deno.Addr;
}

/** Options for {@link roomPoll}. */
export interface RoomPollOptions {
  chat: Chat;
  resolveSession: SessionResolver;
  /** Whether guests may read (else a session with an account is needed). */
  guests: () => boolean;
  /** The Host values answered; empty: any (see `hostCheck`). */
  hosts: ReadonlySet<string>;
  proxyHops: number;
  /** Headers every API answer carries (security headers, `cache-control: no-store`). */
  apiHeaders: Record<string, string>;
  /** Records the answered request (access log and metrics), when either is on. */
  record?: (answered: AnsweredRequest) => void;
  /** Where every other request goes: the app. */
  app: (request: Request, info?: PeerInfo) => Response | Promise<Response>;
}

/** A poll's query: `since` or `after`, with `wait` and `limit`; null for anything else. */
interface PollQuery {
  since?: number;
  after?: number;
  wait?: number;
  limit?: number;
}

/**
 * Reads a poll's query when it is plainly valid: `since` or `after` (not both), optional
 * `wait` and `limit`, each once, whole numbers within the API's bounds. Anything else (and
 * every mistake) is left to the app, which answers it with its own validation and errors.
 */
function pollQuery(search: string): PollQuery | null {
  const query: PollQuery = {};
  for (const pair of search.split("&")) {
    const equals = pair.indexOf("=");
    if (equals < 0) return null;
    const key = pair.slice(0, equals);
    const text = pair.slice(equals + 1);
    if (!DIGITS.test(text)) return null;
    const value = Number(text);
    if (key !== "since" && key !== "after" && key !== "wait" && key !== "limit") return null;
    if (query[key] !== undefined || value > Number.MAX_SAFE_INTEGER) return null;
    query[key] = value;
  }
  if ((query.since === undefined) === (query.after === undefined)) return null;
  if (query.wait !== undefined && query.wait > DEFAULT_LIMITS.maxWaitSeconds) return null;
  if (query.limit !== undefined && (query.limit < 1 || query.limit > DEFAULT_LIMITS.maxPageSize)) {
    return null;
  }
  return query;
}

/**
 * A fetch handler that answers room polls itself — the same checks (host, session, the
 * guests policy, the room's visibility), the same answer, headers, log line and metrics as
 * the app gives — and hands every other request to the app. Whatever it is unsure of (an
 * unusual query, a missing room, no access) also goes to the app, which says why.
 */
export function roomPoll(options: RoomPollOptions) {
  const { chat, hosts, app } = options;
  return async (request: Request, info?: PeerInfo): Promise<Response> => {
    if (request.method !== "GET") return await app(request, info);
    const url = request.url;
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    const queryStart = url.indexOf("?", pathStart);
    if (pathStart < 0 || queryStart < 0 || url.includes("#", queryStart)) {
      return await app(request, info);
    }
    const match = PATH.exec(url.slice(pathStart, queryStart));
    const query = match && pollQuery(url.slice(queryStart + 1));
    const headers = request.headers;
    if (!match || !query) return await app(request, info);
    if (hosts.size > 0 && !hosts.has((headers.get("host") ?? "").toLowerCase())) {
      return await app(request, info);
    }
    let slug: string;
    try {
      slug = decodeURIComponent(match[1]);
    } catch {
      return await app(request, info);
    }
    const started = performance.now();
    const requestId = requestIdOf(headers.get("x-request-id") ?? undefined);
    const cookies = parseCookies(headers.get("cookie") ?? "", SESSION_COOKIE);
    const state = await options.resolveSession(cookies[SESSION_COOKIE]);
    if (!options.guests() && !state.session?.account) return await app(request, info);
    let room: Room;
    try {
      room = await chat.room(slug, state.member);
    } catch {
      return await app(request, info); // 404 and the like, said by the app
    }
    let response: Response;
    let failure: unknown;
    try {
      const wait = query.wait ?? 0;
      const page = await chat.read(room, {
        ...query,
        // Only a long poll needs to know when the reader goes away (reading it has a cost).
        signal: wait > 0 ? request.signal : undefined,
        address: wait > 0
          ? addressOf(
            headers.get("x-forwarded-for") ?? undefined,
            (info?.remoteAddr as Deno.NetAddr | undefined)?.hostname,
            options.proxyHops,
          )
          : undefined,
      });
      const body = sharedBody(page);
      response = new Response(body, {
        headers: {
          ...options.apiHeaders,
          "content-type": "application/json",
          "content-length": String(body.byteLength),
          "x-request-id": requestId,
        },
      });
    } catch (error) {
      failure = error;
      const status = errorStatus(error) ?? 500;
      response = apiErrorFor(status, error);
      if (status === 500) console.error(error);
      else if (status > 500) console.warn(`${status} ${POLL_ROUTE}: ${error}`);
      for (const [name, value] of Object.entries(options.apiHeaders)) {
        if (!response.headers.has(name)) response.headers.set(name, value);
      }
      response.headers.set("x-request-id", requestId);
    }
    options.record?.({
      method: "GET",
      route: POLL_ROUTE,
      status: response.status,
      started,
      requestId,
      error: failure,
      response,
    });
    return response;
  };
}
