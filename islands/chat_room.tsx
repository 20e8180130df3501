// The chat island: conversation with autoscroll and older pages, composer, name and connection status.
import { useComputed, useSignal } from "@preact/signals";
import { useEffect, useLayoutEffect, useMemo, useRef } from "preact/hooks";
import type { Message } from "../db/store.ts";
import type { ChatRoomProps } from "../http/room_page.ts";
import { roomSigil } from "../chat/room_sigil.ts";
import { createRoomClient, type OutboxItem, type RoomClient } from "../client/room_client.ts";
import { bodyLength } from "../chat/message_text.ts";
import { MessageItem } from "../components/message_item.tsx";

// How close to the bottom (px) still counts as "at the bottom", and to the top as "load more".
const BOTTOM_SLACK = 48;
const TOP_SLACK = 200;

/** The whole chat for one room. */
export function ChatRoom(props: ChatRoomProps) {
  const hydrated = useSignal(false);
  const atBottom = useSignal(true);
  const unseen = useSignal(0);
  const announcement = useSignal("");
  const conversation = useRef<HTMLElement>(null);
  // Scroll to apply after the next render: stick to the bottom, or keep the view on prepend.
  const pendingScroll = useRef<"bottom" | { height: number; top: number } | null>(null);

  const client = useMemo(() =>
    createRoomClient({
      ...props,
      storage: typeof localStorage === "undefined" ? undefined : localStorage,
      onNewMessages(fresh: Message[]) {
        const others = fresh.filter((m) => m.author.id !== client.me.value.id);
        const last = others.at(-1);
        if (last) announcement.value = `${last.author.name}: ${last.body.slice(0, 200)}`;
        if (atBottom.value) pendingScroll.current = "bottom";
        else unseen.value += others.length;
      },
    }), []);

  useEffect(() => {
    hydrated.value = true;
    pendingScroll.current = "bottom";
    scrollAfterRender();
    return client.start();
  }, []);

  function scrollAfterRender() {
    const el = conversation.current;
    const pending = pendingScroll.current;
    if (!el || !pending) return;
    pendingScroll.current = null;
    if (pending === "bottom") el.scrollTop = el.scrollHeight;
    else el.scrollTop = pending.top + (el.scrollHeight - pending.height);
  }

  // Runs after every render that changed the list (new, older or pending messages).
  useLayoutEffect(scrollAfterRender, [client.messages.value, client.outbox.value]);

  // What the reader has seen at the bottom of a visible page counts as read.
  const lastRead = useRef(0);
  useEffect(() => {
    const newest = client.messages.value.at(-1)?.id ?? 0;
    if (!atBottom.value || newest <= lastRead.current) return;
    const timer = setTimeout(() => {
      if (document.visibilityState !== "visible") return;
      lastRead.current = newest;
      fetch(`/api/rooms/${encodeURIComponent(props.room.slug)}/read`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ messageId: newest }),
      }).catch(() => lastRead.current = 0);
    }, 800);
    return () => clearTimeout(timer);
  }, [client.messages.value, atBottom.value]);

  async function messageAuthor(author: { id: number }) {
    const response = await fetch("/api/direct", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ memberId: author.id }),
    });
    if (response.ok) location.assign(`/rooms/${encodeURIComponent((await response.json()).slug)}`);
  }

  async function loadOlder() {
    const el = conversation.current;
    if (!el || client.loadingOlder.value || !client.hasOlder.value) return;
    const before = { height: el.scrollHeight, top: el.scrollTop };
    const loading = client.loadOlder();
    pendingScroll.current = before;
    if (!await loading && pendingScroll.current === before) pendingScroll.current = null;
  }

  function onScroll() {
    const el = conversation.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK;
    if (bottom !== atBottom.value) atBottom.value = bottom;
    if (bottom && unseen.value) unseen.value = 0;
    if (el.scrollTop <= TOP_SLACK) loadOlder();
  }

  function jumpToBottom() {
    const el = conversation.current;
    unseen.value = 0;
    atBottom.value = true;
    if (el) el.scrollTop = el.scrollHeight;
  }

  function send(body: string) {
    pendingScroll.current = "bottom";
    atBottom.value = true;
    unseen.value = 0;
    client.send(body);
  }

  const me = client.me.value;
  const status = client.status.value;
  return (
    <div class="chat" data-hydrated={hydrated.value ? "" : undefined}>
      <header class="room-header">
        <div class="room-title">
          <h1>
            <span aria-hidden="true">{roomSigil(props.room)}</span>
            {props.room.name}
          </h1>
          {props.room.topic && <p class="topic">{props.room.topic}</p>}
        </div>
        <div class="header-side">
          <NameEditor client={client} maxChars={props.maxNameChars} />
          {props.room.kind === "private" && <AddPeople room={props.room.slug} />}
          {props.room.kind !== "direct" && props.room.slug !== "general" && (
            <LeaveRoom room={props.room.slug} />
          )}
          <AccountLinks account={props.account} room={props.room.slug} />
        </div>
      </header>
      <p
        class={`connection ${status}`}
        role="status"
        hidden={status === "live"}
      >
        {status === "reconnecting" ? "Reconnecting…" : ""}
      </p>
      <div
        class="conversation"
        ref={conversation as never}
        onScroll={onScroll}
        tabIndex={0}
        role="log"
        aria-live="off"
        aria-label={`Messages in ${roomSigil(props.room)}${props.room.name}`}
      >
        <p class="history-edge">
          {client.hasOlder.value
            ? (
              <button type="button" class="link" onClick={loadOlder}>
                {client.loadingOlder.value ? "Loading earlier messages…" : "Load earlier messages"}
              </button>
            )
            : `This is the beginning of ${roomSigil(props.room)}${props.room.name}.`}
        </p>
        <ol class="messages">
          {client.messages.value.map((message) => (
            <MessageItem
              key={message.id}
              message={message}
              mine={message.author.id === me.id}
              localTime={hydrated.value}
              onAuthor={props.room.kind === "direct" ? undefined : messageAuthor}
            />
          ))}
          {client.outbox.value.map((item) => (
            <PendingMessage
              key={item.clientId}
              item={item}
              client={client}
              username={props.account?.username ?? null}
            />
          ))}
        </ol>
      </div>
      {unseen.value > 0 && !atBottom.value && (
        <button type="button" class="new-messages-pill" onClick={jumpToBottom}>
          {unseen.value} new {unseen.value === 1 ? "message" : "messages"} ↓
        </button>
      )}
      <Composer
        roomName={`${roomSigil(props.room)}${props.room.name}`}
        maxChars={props.maxChars}
        onSend={send}
      />
      <p class="visually-hidden" aria-live="polite">{announcement.value}</p>
    </div>
  );
}

function PendingMessage(
  { item, client, username }: { item: OutboxItem; client: RoomClient; username: string | null },
) {
  const failed = item.state === "failed";
  const author = { ...client.me.value, username };
  return (
    <MessageItem
      message={{ id: 0, body: item.body, author, createdAt: item.createdAt }}
      mine
      localTime
      status={failed ? "failed" : "pending"}
    >
      <p class="delivery" role={failed ? "alert" : undefined}>
        {failed ? `Not sent: ${item.error}` : item.error ?? "Sending…"}
        {failed && (
          <>
            {" "}
            <button type="button" class="link" onClick={() => client.retry(item.clientId)}>
              Retry
            </button>{" "}
            <button type="button" class="link" onClick={() => client.discard(item.clientId)}>
              Discard
            </button>
          </>
        )}
      </p>
    </MessageItem>
  );
}

function Composer(
  { roomName, maxChars, onSend }: {
    roomName: string;
    maxChars: number;
    onSend: (body: string) => void;
  },
) {
  const text = useSignal("");
  const length = useComputed(() => bodyLength(text.value));
  const tooLong = useComputed(() => length.value > maxChars);

  function submit(event?: Event) {
    event?.preventDefault();
    if (text.value.trim() === "" || tooLong.value) return;
    onSend(text.value);
    text.value = "";
  }

  function onKeyDown(event: KeyboardEvent) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) submit(event);
  }

  const rows = Math.min(8, text.value.split("\n").length);
  return (
    <form class="composer" onSubmit={submit}>
      <textarea
        name="body"
        rows={rows}
        placeholder={`Message ${roomName}`}
        aria-label={`Message ${roomName}`}
        aria-describedby="composer-hint"
        value={text.value}
        onInput={(e) => text.value = (e.currentTarget as HTMLTextAreaElement).value}
        onKeyDown={onKeyDown}
        aria-invalid={tooLong.value}
      />
      <button type="submit" disabled={tooLong.value}>Send</button>
      <p id="composer-hint" class={`composer-hint${tooLong.value ? " error" : ""}`}>
        {length.value > maxChars - 200
          ? `${length.value.toLocaleString("en")} / ${maxChars.toLocaleString("en")} characters`
          : "Enter to send, Shift+Enter for a new line"}
      </p>
    </form>
  );
}

function NameEditor({ client, maxChars }: { client: RoomClient; maxChars: number }) {
  const editing = useSignal(false);
  const draft = useSignal("");
  const error = useSignal("");
  const saving = useSignal(false);

  async function save(event: Event) {
    event.preventDefault();
    saving.value = true;
    const problem = await client.rename(draft.value);
    saving.value = false;
    if (problem) error.value = problem;
    else editing.value = false;
  }

  if (!editing.value) {
    return (
      <div class="me">
        <span>
          You are <strong class="my-name">{client.me.value.name}</strong>
        </span>{" "}
        <button
          type="button"
          class="link"
          onClick={() => {
            draft.value = client.me.value.name;
            error.value = "";
            editing.value = true;
          }}
        >
          Change name
        </button>
      </div>
    );
  }
  return (
    <form class="me editing" onSubmit={save}>
      <label>
        <span class="visually-hidden">Your name</span>
        <input
          name="name"
          value={draft.value}
          maxLength={maxChars * 4}
          autoFocus
          aria-invalid={error.value !== ""}
          aria-describedby="name-error"
          onInput={(e) => draft.value = (e.currentTarget as HTMLInputElement).value}
          onKeyDown={(e) => e.key === "Escape" && (editing.value = false)}
        />
      </label>
      <button type="submit" disabled={saving.value}>Save</button>
      <button type="button" class="link" onClick={() => editing.value = false}>Cancel</button>
      <p id="name-error" class="error" role="alert">{error.value}</p>
    </form>
  );
}

function AccountLinks(
  { account, room }: { account: ChatRoomProps["account"]; room: string },
) {
  const error = useSignal("");
  async function logout() {
    try {
      const response = await fetch("/api/auth/logout", { method: "POST" });
      if (!response.ok) throw new Error(String(response.status));
      location.assign("/");
    } catch {
      error.value = "Could not log out; try again.";
    }
  }
  if (!account) {
    const next = room === "general" ? "/" : `/rooms/${encodeURIComponent(room)}`;
    return (
      <p class="account-links">
        <a href={`/login?next=${encodeURIComponent(next)}`}>Log in or register</a>
      </p>
    );
  }
  return (
    <p class="account-links">
      <span class="username">@{account.username}</span>
      {account.isAdmin && <span class="badge">admin</span>} <a href="/account">Account</a>{" "}
      <button type="button" class="link" onClick={logout}>Log out</button>
      {error.value && <span class="error" role="alert">{error.value}</span>}
    </p>
  );
}

function AddPeople({ room }: { room: string }) {
  const open = useSignal(false);
  const query = useSignal("");
  const found = useSignal<{ id: number; name: string; username: string | null }[]>([]);
  const status = useSignal("");

  async function search(text: string) {
    query.value = text;
    if (text.trim() === "") return found.value = [];
    const response = await fetch(`/api/members?q=${encodeURIComponent(text.trim())}`);
    if (response.ok && query.value === text) found.value = (await response.json()).members;
  }

  async function add(member: { id: number; name: string }) {
    const response = await fetch(`/api/rooms/${encodeURIComponent(room)}/invite`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ memberId: member.id }),
    });
    const json = await response.json().catch(() => null);
    status.value = response.ok
      ? `${member.name} can now read and write here.`
      : json?.error?.message ?? "Could not add them.";
  }

  if (!open.value) {
    return (
      <button type="button" class="link add-people" onClick={() => open.value = true}>
        Add people
      </button>
    );
  }
  return (
    <div class="add-people-panel">
      <label>
        <span class="visually-hidden">Find a member</span>
        <input
          name="member-search"
          placeholder="Name or username"
          autoFocus
          value={query.value}
          onInput={(e) => search(e.currentTarget.value)}
          onKeyDown={(e) => e.key === "Escape" && (open.value = false)}
        />
      </label>
      <ul>
        {found.value.map((member) => (
          <li key={member.id}>
            {member.name}
            {member.username && <span class="hint">@{member.username}</span>}{" "}
            <button type="button" class="link" onClick={() => add(member)}>Add</button>
          </li>
        ))}
      </ul>
      <p class="hint" role="status">{status.value}</p>
    </div>
  );
}

function LeaveRoom({ room }: { room: string }) {
  const error = useSignal("");
  async function leave() {
    const response = await fetch(`/api/rooms/${encodeURIComponent(room)}/leave`, {
      method: "POST",
    });
    if (response.ok) location.assign("/");
    else error.value = (await response.json().catch(() => null))?.error?.message ?? "Try again.";
  }
  return (
    <p class="account-links">
      <button type="button" class="link" onClick={leave}>Leave room</button>
      {error.value && <span class="error" role="alert">{error.value}</span>}
    </p>
  );
}
