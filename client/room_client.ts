// The browser side of a room: the change-feed poll, the outbox of unsent messages, the loaded
// window of history (older, newer and "around" pages), and edits, deletions and reactions.
import { batch, signal } from "@preact/signals";
import type { Attachment, Member, Message, Room } from "../db/store.ts";
import { excerptOf } from "../chat/excerpt.ts";
import { sleep } from "./sleep.ts";

/** A message the reader wrote that the server has not acknowledged yet. */
export interface OutboxItem {
  clientId: string;
  body: string;
  createdAt: string;
  /** The message it answers, with what the composer showed of it. */
  replyTo?: { id: number; authorName: string; excerpt?: string; deleted?: true };
  /** The files it carries (uploaded already; sent by id, kept for retries and for showing). */
  attachments?: Attachment[];
  /** `sending` (or waiting to retry after a network failure), or `failed` (refused). */
  state: "sending" | "failed";
  /** Why it was refused, or why the last attempt failed. */
  error?: string;
}

/** Connection status shown to the reader. */
export type ConnectionStatus = "live" | "reconnecting";

/** A page of history as the API answers it. */
export interface HistoryPage {
  messages: Message[];
  cursor: number;
  hasOlder?: boolean;
  hasNewer?: boolean;
}

/** Options for {@link createRoomClient}. */
export interface RoomClientOptions {
  room: Pick<Room, "slug">;
  me: Member;
  messages: Message[];
  hasOlder: boolean;
  /** Whether newer messages exist than `messages` (a page opened at an older message). */
  hasNewer?: boolean;
  /** The room's change number when `messages` were read: polling goes on from it. */
  cursor: number;
  pollWait: number;
  pageSize: number;
  /** Where the outbox is kept across reloads (localStorage in the browser). */
  storage?: Pick<Storage, "getItem" | "setItem" | "removeItem">;
  /** Called with messages newer than any seen before (not with older pages, nor changes). */
  onNewMessages?: (messages: Message[]) => void;
  /**
   * Called just before the shown messages change (new, changed, older or newer pages), while
   * the page still shows the old ones: the moment to measure what the reader is looking at.
   */
  onBeforeChange?: () => void;
  /** `fetch`, replaceable in tests. */
  fetch?: typeof fetch;
}

const MAX_BACKOFF_MS = 10_000;
/** How many messages outside the loaded window are remembered in their latest state. */
const MAX_OUTSIDE = 2000;

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

export { excerptOf };

/**
 * The newer of two states of one message: the higher `seq` wins. At an equal `seq` only the
 * quote can differ (it follows the original): the later read wins then.
 */
function newer(current: Message | undefined, incoming: Message): Message {
  if (!current) return incoming;
  const a = current.seq ?? 0;
  const b = incoming.seq ?? 0;
  if (a !== b) return a > b ? current : incoming;
  return JSON.stringify(current.replyTo) === JSON.stringify(incoming.replyTo) ? current : incoming;
}

/**
 * Merges message lists by id, ascending, each id once; of two states of one message the one
 * with the higher `seq` is kept, so an older state never overwrites a newer one.
 */
export function mergeMessages(current: Message[], incoming: Message[]): Message[] {
  if (incoming.length === 0) return current;
  const byId = new Map<number, Message>();
  for (const m of current) byId.set(m.id, m);
  let changed = false;
  for (const m of incoming) {
    const kept = newer(byId.get(m.id), m);
    if (kept !== byId.get(m.id)) {
      byId.set(m.id, kept);
      changed = true;
    }
  }
  if (!changed) return current;
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/**
 * Brings what replies show of the messages they answer up to date with those messages (a
 * deletion turns the quote into "deleted", an edit changes its excerpt); returns `messages`
 * itself when nothing changed.
 */
export function updateQuotes(messages: Message[], targets: Iterable<Message>): Message[] {
  const byId = new Map<number, Message>();
  for (const t of targets) byId.set(t.id, t);
  if (byId.size === 0) return messages;
  let changed = false;
  const updated = messages.map((m): Message => {
    const target = m.replyTo ? byId.get(m.replyTo.id) : undefined;
    if (!m.replyTo || !target) return m;
    if (target.deleted) {
      if (m.replyTo.deleted) return m;
      changed = true;
      return {
        ...m,
        replyTo: { id: target.id, authorName: m.replyTo.authorName, deleted: true as const },
      };
    }
    const excerpt = excerptOf(target.body);
    if (m.replyTo.deleted || m.replyTo.excerpt === excerpt) return m;
    changed = true;
    return { ...m, replyTo: { ...m.replyTo, excerpt } };
  });
  return changed ? updated : messages;
}

/** What a change request came to: the message in its new state, or why not. */
export type ChangeResult = { ok: true; message: Message } | { ok: false; error: string };

/** The state and actions of one room in the browser; `start()` begins polling. */
export function createRoomClient(options: RoomClientOptions) {
  const base = `/api/rooms/${encodeURIComponent(options.room.slug)}/messages`;
  const outboxKey = `parley:outbox:${options.room.slug}:${options.me.id}`;
  const storage = options.storage;
  const http = options.fetch ?? ((input, init) => fetch(input, init));

  const me = signal(options.me);
  /** The loaded window of history: consecutive messages, ascending by id. */
  const messages = signal(options.messages);
  const hasOlder = signal(options.hasOlder);
  /** Whether newer messages exist than the window shows (after jumping to an old message). */
  const hasNewer = signal(options.hasNewer ?? false);
  const loadingOlder = signal(false);
  const loadingNewer = signal(false);
  const status = signal<ConnectionStatus>("live");
  const outbox = signal<OutboxItem[]>(restoreOutbox());
  // Where the change feed goes on from: the largest change number delivered. Answers to my
  // own requests are shown at once but do not move it, or someone else's change stored just
  // before mine would be skipped.
  let cursor = options.cursor;
  // The latest state seen of messages outside the window (changes to older messages, new ones
  // while an old page is shown, messages dropped by a jump): a page read a moment before such
  // a change must not bring back the state before it.
  const outside = new Map<number, Message>();

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

  function remember(m: Message) {
    outside.set(m.id, newer(outside.get(m.id), m));
    if (outside.size > MAX_OUTSIDE) outside.delete(outside.keys().next().value!);
  }

  /** Whether a message id belongs in the loaded window (between its ends, or past a live end). */
  function inWindow(id: number, shown: Message[]): boolean {
    const oldest = shown[0]?.id;
    const newest = shown.at(-1)?.id;
    if (oldest === undefined || newest === undefined) return !hasNewer.value;
    if (id < oldest && hasOlder.value) return false;
    if (id > newest && hasNewer.value) return false;
    return true;
  }

  /** Sets the window, keeping quotes of messages it knows in step. */
  function show(next: Message[], changed: Iterable<Message>) {
    const targets = new Map<number, Message>();
    for (const m of changed) targets.set(m.id, m);
    const updated = updateQuotes(next, targets.values());
    if (updated !== messages.value) {
      options.onBeforeChange?.();
      messages.value = updated;
    }
  }

  /**
   * Takes in messages from the feed or from answers to my requests: those in the window are
   * merged (newer state wins), the others remembered; the outbox entries they acknowledge are
   * dropped; messages not shown before at the live end are reported as new.
   */
  function receive(incoming: Message[]) {
    if (incoming.length === 0) return;
    const current = messages.value;
    const shown = new Set(current.map((m) => m.id));
    const newest = current.at(-1)?.id ?? 0;
    const taken: Message[] = [];
    // New messages beyond an old page are news too (the pill offers to jump to them).
    const news: Message[] = [];
    for (const m of incoming) {
      const isNew = !shown.has(m.id) && m.id > newest && !m.deleted;
      if (inWindow(m.id, current)) {
        taken.push(m);
        if (isNew) news.push(m);
      } else {
        if (isNew && !outside.has(m.id) && hasNewer.value) news.push(m);
        remember(m);
      }
    }
    const acknowledged = new Set(
      incoming.filter((m) => m.author.id === me.value.id).map((m) => m.clientId),
    );
    batch(() => {
      show(mergeMessages(current, taken), incoming);
      if (acknowledged.size && outbox.value.some((i) => acknowledged.has(i.clientId))) {
        setOutbox(outbox.value.filter((i) => !acknowledged.has(i.clientId)));
      }
    });
    if (news.length) options.onNewMessages?.(news);
  }

  /** Puts a page into the window (merged with what is there and with what is remembered). */
  function takePage(page: HistoryPage, mode: "older" | "newer" | "replace") {
    let next: Message[];
    if (mode === "replace") {
      for (const m of messages.value) remember(m);
      next = mergeMessages([], page.messages);
    } else {
      next = mergeMessages(messages.value, page.messages);
    }
    batch(() => {
      if (mode !== "newer") hasOlder.value = page.hasOlder ?? page.messages.length > 0;
      if (mode === "replace") hasNewer.value = page.hasNewer ?? false;
      const oldest = next[0]?.id ?? 0;
      const newest = next.at(-1)?.id ?? 0;
      const known = [...outside.values()].filter((m) =>
        m.id >= oldest && (m.id <= newest || !hasNewer.value)
      );
      for (const m of known) outside.delete(m.id);
      next = mergeMessages(next, known);
      show(next, [...known, ...outside.values()]);
    });
  }

  async function getPage(query: string): Promise<HistoryPage | null> {
    try {
      const response = await http(`${base}?${query}`, { headers: { accept: "application/json" } });
      if (!response.ok) return null;
      return await response.json() as HistoryPage;
    } catch {
      return null;
    }
  }

  async function pollLoop() {
    let failures = 0;
    while (!stop.signal.aborted) {
      const started = Date.now();
      try {
        // After a failure, ask without waiting, so that being back is known at once.
        const wait = status.value === "live" ? options.pollWait : 0;
        const response = await http(
          `${base}?since=${cursor}&wait=${wait}&limit=${options.pageSize}`,
          { signal: stop.signal, headers: { accept: "application/json" } },
        );
        if (!response.ok) throw new Error(await errorMessage(response));
        const body = await response.json() as HistoryPage;
        if (status.value !== "live") {
          status.value = "live";
          flush();
        }
        failures = 0;
        receive(body.messages);
        const last = body.messages.at(-1)?.seq ?? 0;
        cursor = Math.max(cursor, typeof body.cursor === "number" ? body.cursor : last, last);
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
      response = await http(base, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({
          body: item.body,
          clientId: item.clientId,
          ...(item.replyTo ? { replyTo: item.replyTo.id } : {}),
          ...(item.attachments?.length ? { attachments: item.attachments.map((a) => a.id) } : {}),
        }),
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

  /** Queues a message (optionally a reply, optionally with uploaded files) and starts sending it. */
  function send(body: string, replyTo?: Message, attachments?: Attachment[]) {
    const item: OutboxItem = {
      clientId: newClientId(),
      body,
      createdAt: new Date().toISOString(),
      state: "sending",
    };
    if (attachments?.length) item.attachments = attachments;
    if (replyTo) {
      item.replyTo = replyTo.deleted
        ? { id: replyTo.id, authorName: replyTo.author.name, deleted: true }
        : { id: replyTo.id, authorName: replyTo.author.name, excerpt: excerptOf(replyTo.body) };
    }
    setOutbox([...outbox.value, item]);
    // What I send shows at the live end: leave an old page for the latest one.
    if (hasNewer.value) jumpToLatest();
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

  /**
   * Asks for a change to a message (edit, delete, reaction), waiting out `429`s and retrying
   * a few times when the connection or the server fails; the answer is shown at once.
   */
  async function change(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<ChangeResult> {
    for (let attempt = 0;; attempt++) {
      let response: Response;
      try {
        response = await http(`${base}/${path}`, {
          method,
          headers: body === undefined
            ? { accept: "application/json" }
            : { "content-type": "application/json", accept: "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: stop.signal,
        });
      } catch {
        if (stop.signal.aborted || attempt >= 3) {
          return { ok: false, error: "No connection; try again." };
        }
        await sleep(backoff(attempt), stop.signal);
        continue;
      }
      if (response.ok) {
        const message = await response.json() as Message;
        receive([message]);
        return { ok: true, message };
      }
      const error = await errorMessage(response);
      if ((response.status === 429 || response.status === 503) && attempt < 5) {
        const seconds = Number(response.headers.get("retry-after")) || 1;
        await sleep(seconds * 1000, stop.signal);
        continue;
      }
      if (response.status >= 500 && attempt < 3) {
        await sleep(backoff(attempt), stop.signal);
        continue;
      }
      return { ok: false, error };
    }
  }

  /** Replaces the text of one of my messages. */
  function edit(id: number, body: string): Promise<ChangeResult> {
    return change("PATCH", String(id), { body });
  }

  /** Deletes a message (mine, or any as an admin or the room's owner). */
  function remove(id: number): Promise<ChangeResult> {
    return change("DELETE", String(id));
  }

  /** Adds or takes back my reaction with `emoji`. */
  function react(id: number, emoji: string, add: boolean): Promise<ChangeResult> {
    return change(add ? "PUT" : "DELETE", `${id}/reactions/${encodeURIComponent(emoji)}`);
  }

  /** Loads the page of messages before the oldest one shown. */
  async function loadOlder(): Promise<boolean> {
    const oldest = messages.value[0]?.id;
    if (loadingOlder.value || !hasOlder.value || oldest === undefined) return false;
    loadingOlder.value = true;
    try {
      const page = await getPage(`before=${oldest}&limit=${options.pageSize}`);
      if (!page) return false;
      if (page.hasOlder === undefined) page.hasOlder = page.messages.length >= options.pageSize;
      takePage(page, "older");
      return page.messages.length > 0;
    } finally {
      loadingOlder.value = false;
    }
  }

  /** Loads the page of messages after the newest one shown (after jumping to an old one). */
  async function loadNewer(): Promise<boolean> {
    const newest = messages.value.at(-1)?.id;
    if (loadingNewer.value || !hasNewer.value || newest === undefined) return false;
    loadingNewer.value = true;
    try {
      const page = await getPage(`after=${newest}&limit=${options.pageSize}`);
      if (!page) return false;
      const more = page.hasNewer ?? page.messages.length >= options.pageSize;
      batch(() => {
        hasNewer.value = more;
        takePage(page, "newer");
      });
      return page.messages.length > 0;
    } finally {
      loadingNewer.value = false;
    }
  }

  /** Makes sure message `id` is in the window, loading the page around it when it is not. */
  async function reveal(id: number): Promise<boolean> {
    if (messages.value.some((m) => m.id === id)) return true;
    const page = await getPage(`around=${id}&limit=${options.pageSize}`);
    if (!page || !page.messages.some((m) => m.id === id)) return false;
    takePage(page, "replace");
    return true;
  }

  /** Leaves an old page for the latest one. */
  async function jumpToLatest(): Promise<boolean> {
    if (!hasNewer.value) return true;
    const page = await getPage(`limit=${options.pageSize}`);
    if (!page) return false;
    takePage({ ...page, hasNewer: false }, "replace");
    return true;
  }

  /** Changes the reader's name; returns an error message, or null when done. */
  async function rename(name: string): Promise<string | null> {
    try {
      const response = await http("/api/me", {
        method: "PATCH",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ name }),
      });
      if (!response.ok) return await errorMessage(response);
      const renamed = await response.json() as Member;
      batch(() => {
        me.value = renamed;
        options.onBeforeChange?.();
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
    hasNewer,
    loadingOlder,
    loadingNewer,
    status,
    outbox,
    send,
    retry,
    discard,
    edit,
    remove,
    react,
    loadOlder,
    loadNewer,
    reveal,
    jumpToLatest,
    rename,
    start,
    /** The change number the feed goes on from (for tests). */
    cursor: () => cursor,
  };
}

/** The state and actions of a room in the browser. */
export type RoomClient = ReturnType<typeof createRoomClient>;
