// The browser side of a room: the long-poll loop, the outbox of unsent messages, older pages.
import { batch, signal } from "@preact/signals";
import type { Member, Message, Room } from "../db/store.ts";

/** A message the reader wrote that the server has not acknowledged yet. */
export interface OutboxItem {
  clientId: string;
  body: string;
  createdAt: string;
  /** `sending` (or waiting to retry after a network failure), or `failed` (refused). */
  state: "sending" | "failed";
  /** Why it was refused, or why the last attempt failed. */
  error?: string;
}

/** Connection status shown to the reader. */
export type ConnectionStatus = "live" | "reconnecting";

/** Options for {@link createRoomClient}. */
export interface RoomClientOptions {
  room: Pick<Room, "slug">;
  me: Member;
  messages: Message[];
  hasOlder: boolean;
  pollWait: number;
  pageSize: number;
  /** Where the outbox is kept across reloads (localStorage in the browser). */
  storage?: Pick<Storage, "getItem" | "setItem" | "removeItem">;
  /** Called with messages newer than any seen before (not with older pages). */
  onNewMessages?: (messages: Message[]) => void;
}

const MAX_BACKOFF_MS = 10_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

function backoff(attempt: number): number {
  const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(attempt, 10));
  return base / 2 + Math.random() * base / 2;
}

async function errorMessage(response: Response): Promise<string> {
  try {
    const body = await response.json();
    if (typeof body?.error?.message === "string") return body.error.message;
  } catch {
    // Not JSON: fall through to the status text.
  }
  return `The server answered ${response.status} ${response.statusText}`.trim();
}

/** A new client id for a message (unique per sender). */
export function newClientId(): string {
  return crypto.randomUUID();
}

/** Merges message lists by id, ascending, each id once. */
export function mergeMessages(current: Message[], incoming: Message[]): Message[] {
  if (incoming.length === 0) return current;
  const byId = new Map<number, Message>();
  for (const m of current) byId.set(m.id, m);
  for (const m of incoming) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** The state and actions of one room in the browser; `start()` begins polling. */
export function createRoomClient(options: RoomClientOptions) {
  const base = `/api/rooms/${encodeURIComponent(options.room.slug)}/messages`;
  const outboxKey = `parley:outbox:${options.room.slug}:${options.me.id}`;
  const storage = options.storage;

  const me = signal(options.me);
  const messages = signal(options.messages);
  const hasOlder = signal(options.hasOlder);
  const loadingOlder = signal(false);
  const status = signal<ConnectionStatus>("live");
  const outbox = signal<OutboxItem[]>(restoreOutbox());
  // Where the poll goes on from: the newest id the poll (or the page) has delivered. Messages
  // that arrive as answers to my own sends are shown at once but do not move it, or a message
  // someone else stored just before mine would be skipped.
  let cursor = options.messages.at(-1)?.id ?? 0;

  const stop = new AbortController();
  let flushing = false;
  let flushAgain = false;
  let sendAttempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  function restoreOutbox(): OutboxItem[] {
    try {
      const saved = JSON.parse(storage?.getItem(outboxKey) ?? "[]");
      return Array.isArray(saved)
        ? saved.map((item: OutboxItem) => ({ ...item, state: "sending" as const }))
        : [];
    } catch {
      return [];
    }
  }

  function setOutbox(items: OutboxItem[]) {
    outbox.value = items;
    try {
      if (items.length) storage?.setItem(outboxKey, JSON.stringify(items));
      else storage?.removeItem(outboxKey);
    } catch {
      // Storage full or disabled: the outbox still lives in memory.
    }
  }

  /** Adds messages; drops outbox entries they acknowledge; reports those not shown before. */
  function receive(incoming: Message[]) {
    if (incoming.length === 0) return;
    const shown = new Set(messages.value.map((m) => m.id));
    const acknowledged = new Set(
      incoming.filter((m) => m.author.id === me.value.id).map((m) => m.clientId),
    );
    batch(() => {
      messages.value = mergeMessages(messages.value, incoming);
      if (acknowledged.size && outbox.value.some((i) => acknowledged.has(i.clientId))) {
        setOutbox(outbox.value.filter((i) => !acknowledged.has(i.clientId)));
      }
    });
    const fresh = incoming.filter((m) => !shown.has(m.id));
    if (fresh.length) options.onNewMessages?.(fresh);
  }

  async function pollLoop() {
    let failures = 0;
    while (!stop.signal.aborted) {
      const started = Date.now();
      try {
        // After a failure, ask without waiting, so that being back is known at once.
        const wait = status.value === "live" ? options.pollWait : 0;
        const response = await fetch(
          `${base}?after=${cursor}&wait=${wait}`,
          { signal: stop.signal, headers: { accept: "application/json" } },
        );
        if (!response.ok) throw new Error(await errorMessage(response));
        const body = await response.json() as { messages: Message[] };
        if (status.value !== "live") {
          status.value = "live";
          flush();
        }
        failures = 0;
        receive(body.messages);
        cursor = Math.max(cursor, body.messages.at(-1)?.id ?? 0);
        // A server that answers an empty wait at once (shutting down) is not hammered.
        if (wait > 0 && body.messages.length === 0 && Date.now() - started < 1000) {
          await sleep(1000, stop.signal);
        }
      } catch {
        if (stop.signal.aborted) return;
        status.value = "reconnecting";
        await sleep(backoff(failures++), stop.signal);
      }
    }
  }

  /** Sends outbox messages in order until one needs a retry later. */
  async function flush(): Promise<void> {
    if (flushing) {
      flushAgain = true;
      return;
    }
    flushing = true;
    clearTimeout(retryTimer);
    try {
      do {
        flushAgain = false;
        for (const item of outbox.value) {
          if (item.state !== "sending" || stop.signal.aborted) continue;
          const retryIn = await deliver(item);
          if (retryIn !== null) {
            retryTimer = setTimeout(flush, retryIn);
            return;
          }
        }
      } while (flushAgain);
    } finally {
      flushing = false;
    }
  }

  function update(clientId: string, change: Partial<OutboxItem>) {
    setOutbox(outbox.value.map((i) => i.clientId === clientId ? { ...i, ...change } : i));
  }

  /** Sends one message; returns null when done (stored or refused), else ms until a retry. */
  async function deliver(item: OutboxItem): Promise<number | null> {
    let response: Response;
    try {
      response = await fetch(base, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ body: item.body, clientId: item.clientId }),
        signal: stop.signal,
      });
    } catch {
      update(item.clientId, { error: "Not sent yet: no connection. Retrying…" });
      return backoff(sendAttempt++);
    }
    if (response.ok) {
      sendAttempt = 0;
      receive([await response.json() as Message]);
      return null;
    }
    const error = await errorMessage(response);
    if (response.status === 429) {
      const seconds = Number(response.headers.get("retry-after")) || 1;
      update(item.clientId, { error: `${error} Retrying in ${seconds} s…` });
      return seconds * 1000;
    }
    if (response.status >= 500) {
      update(item.clientId, { error: "Not sent yet: the server had a problem. Retrying…" });
      return backoff(sendAttempt++);
    }
    update(item.clientId, { state: "failed", error });
    return null;
  }

  /** Queues a message and starts sending it. */
  function send(body: string) {
    const item: OutboxItem = {
      clientId: newClientId(),
      body,
      createdAt: new Date().toISOString(),
      state: "sending",
    };
    setOutbox([...outbox.value, item]);
    flush();
  }

  /** Sends a refused message again. */
  function retry(clientId: string) {
    update(clientId, { state: "sending", error: undefined });
    sendAttempt = 0;
    flush();
  }

  /** Drops an unsent message. */
  function discard(clientId: string) {
    setOutbox(outbox.value.filter((i) => i.clientId !== clientId));
  }

  /** Loads the page of messages before the oldest one shown. */
  async function loadOlder(): Promise<boolean> {
    const oldest = messages.value[0]?.id;
    if (loadingOlder.value || !hasOlder.value || oldest === undefined) return false;
    loadingOlder.value = true;
    try {
      const response = await fetch(`${base}?before=${oldest}&limit=${options.pageSize}`, {
        headers: { accept: "application/json" },
      });
      if (!response.ok) return false;
      const body = await response.json() as { messages: Message[] };
      batch(() => {
        hasOlder.value = body.messages.length >= options.pageSize;
        messages.value = mergeMessages(messages.value, body.messages);
      });
      return body.messages.length > 0;
    } catch {
      return false;
    } finally {
      loadingOlder.value = false;
    }
  }

  /** Changes the reader's name; returns an error message, or null when done. */
  async function rename(name: string): Promise<string | null> {
    try {
      const response = await fetch("/api/me", {
        method: "PATCH",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ name }),
      });
      if (!response.ok) return await errorMessage(response);
      const renamed = await response.json() as Member;
      batch(() => {
        me.value = renamed;
        messages.value = messages.value.map((m) =>
          m.author.id === renamed.id ? { ...m, author: { ...m.author, name: renamed.name } } : m
        );
      });
      return null;
    } catch {
      return "No connection; try again.";
    }
  }

  /** Starts polling and sending; returns a function that stops both. */
  function start(): () => void {
    pollLoop();
    flush();
    return () => {
      stop.abort();
      clearTimeout(retryTimer);
    };
  }

  return {
    me,
    messages,
    hasOlder,
    loadingOlder,
    status,
    outbox,
    send,
    retry,
    discard,
    loadOlder,
    rename,
    start,
  };
}

/** The state and actions of a room in the browser. */
export type RoomClient = ReturnType<typeof createRoomClient>;
