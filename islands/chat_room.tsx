// The chat island: conversation with autoscroll and paging, message actions (reply, react,
// edit, delete), composer, name and connection status.
import { useComputed, useSignal } from "@preact/signals";
import { useEffect, useLayoutEffect, useMemo, useRef } from "preact/hooks";
import type { Attachment, Message } from "../db/store.ts";
import type { ChatRoomProps } from "../http/room_page.ts";
import { roomLabel, roomSigil } from "../chat/room_sigil.ts";
import {
  createRoomClient,
  excerptOf,
  type OutboxItem,
  type RoomClient,
} from "../client/room_client.ts";
import { createTypingClient, typingText } from "../client/typing_client.ts";
import { bodyLength } from "../chat/message_text.ts";
import { MessageItem } from "../components/message_item.tsx";
import {
  msUntilNextDay,
  type TimeFormatter,
  timeFormatter,
  timelineRows,
} from "../components/timeline.ts";
import { TIME_ZONE_COOKIE } from "../http/reader_time.ts";
import {
  ConfirmDelete,
  MessageEditor,
  MessageToolbar,
  ReactionChips,
  ReactionPicker,
} from "../components/message_actions.tsx";
import { Composer, useFileDrop } from "../components/composer.tsx";
import { createUploadQueue } from "../client/uploads.ts";
import { TopicEditor } from "../components/topic_editor.tsx";
import { InlineFormFields, useInlineForm } from "../components/inline_form.tsx";
import { SearchBox } from "../components/search_box.tsx";

// How close to the bottom (px) still counts as "at the bottom", and to the top as "load more".
const BOTTOM_SLACK = 48;
const TOP_SLACK = 200;
const HIGHLIGHT_MS = 2000;
/** How long a message opened from a search (or a link to it) keeps its outline. */
const TARGET_MS = 8000;

/**
 * Where a message's text starts: what stays in place when the list changes (a message that
 * joins a group above it loses its header, and its text must not move).
 */
function anchorTop(li: HTMLElement): number {
  return (li.querySelector(".body") ?? li).getBoundingClientRect().top;
}

/** Scroll to apply after the next render. */
type PendingScroll =
  | "bottom"
  | { anchor: string; y: number }
  | { reveal: number; target?: boolean };

/** The whole chat for one room. */
export function ChatRoom(props: ChatRoomProps) {
  const hydrated = useSignal(false);
  const atBottom = useSignal(true);
  const unseen = useSignal(0);
  const announcement = useSignal("");
  const alert = useSignal("");
  const editing = useSignal<number | null>(null);
  const replyTo = useSignal<Message | null>(null);
  const picker = useSignal<number | null>(null);
  const confirming = useSignal<number | null>(null);
  const actionsOpen = useSignal<number | null>(null);
  const highlight = useSignal<number | null>(null);
  /** The message the reader came to find (a search hit, `?at=`): outlined for a while. */
  const target = useSignal<number | null>(null);
  // The clock of "Today" and "Yesterday": the server's render time until the island ticks it.
  const now = useSignal(props.time.now);
  const time = timeFormatter(props.time);
  const menuOpen = useSignal(false);
  const topic = useSignal(props.room.topic);
  const menuToggle = useRef<HTMLButtonElement>(null);
  const conversation = useRef<HTMLElement>(null);
  const composer = useRef<HTMLTextAreaElement>(null);
  const pendingScroll = useRef<PendingScroll | null>(null);
  const editFromComposer = useRef(false);

  /** Where the reader is, measured before the list changes, to keep it there afterwards. */
  function captureScroll() {
    if (pendingScroll.current) return;
    const el = conversation.current;
    if (!el) return;
    if (atBottom.value && !client.hasNewer.value) {
      pendingScroll.current = "bottom";
      return;
    }
    // The first message whose top is in view: a change above it (even to one partly in view)
    // grows upwards, out of sight, rather than pushing what the reader reads down.
    const top = el.getBoundingClientRect().top;
    let partly: HTMLElement | undefined;
    for (const li of el.querySelectorAll<HTMLElement>(".message[data-id]")) {
      const box = li.getBoundingClientRect();
      if (box.bottom <= top) continue;
      partly ??= li;
      if (box.top >= top - 1) {
        pendingScroll.current = { anchor: li.dataset.id!, y: anchorTop(li) - top };
        return;
      }
    }
    if (partly) {
      pendingScroll.current = { anchor: partly.dataset.id!, y: anchorTop(partly) - top };
    }
  }

  const client = useMemo(() =>
    createRoomClient({
      ...props,
      cursor: props.cursor ?? 0,
      storage: typeof localStorage === "undefined" ? undefined : localStorage,
      onBeforeChange: captureScroll,
      onNewMessages(fresh: Message[]) {
        const others = fresh.filter((m) => m.author.id !== client.me.value.id);
        const last = others.at(-1);
        if (last) {
          const files = last.attachments?.map((a) => a.name).join(", ");
          announcement.value = `${last.author.name}: ${last.body.slice(0, 200)}${
            files ? ` (${files})` : ""
          }`;
        }
        now.value = Date.now();
        if (atBottom.value && !client.hasNewer.value) pendingScroll.current = "bottom";
        else unseen.value += others.length;
      },
    }), []);

  useEffect(() => {
    hydrated.value = true;
    // Opened at a message (`?at=`, a search hit in another room): show it, else the latest.
    const at = props.at;
    const opened = at !== undefined && client.messages.value.some((m) => m.id === at);
    pendingScroll.current = opened ? { reveal: at, target: true } : "bottom";
    scrollAfterRender();
    // Where that left the reader (not at the bottom, unless the room is short) counts now.
    if (opened) onScroll();
    return client.start();
  }, []);

  // Files attached in the composer: by its button, by paste, or dropped onto the conversation.
  const uploads = useMemo(
    () => createUploadQueue({ roomSlug: props.room.slug, maxBytes: props.maxUploadBytes }),
    [],
  );
  const drop = useFileDrop((files) => {
    uploads.add(files);
    composer.current?.focus();
  });

  const typing = useMemo(
    () => createTypingClient({ room: props.room, meId: props.me.id, pollWait: props.pollWait }),
    [],
  );
  useEffect(() => typing.start(), []);

  // Times keep the zone the page was rendered in (no text changes under the reader's eyes);
  // the browser's zone is remembered for the next page, which the server renders in it.
  useEffect(() => {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && zone !== props.time.timeZone) {
      document.cookie = `${TIME_ZONE_COOKIE}=${encodeURIComponent(zone)}; path=/; max-age=${
        400 * 86400
      }; samesite=lax`;
    }
    // "Today" becomes "Yesterday" at midnight, and the next message gets a new day.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = () => {
      now.value = Date.now();
      timer = setTimeout(tick, msUntilNextDay(now.value, props.time.timeZone) + 500);
    };
    timer = setTimeout(tick, msUntilNextDay(Date.now(), props.time.timeZone) + 500);
    return () => clearTimeout(timer);
  }, []);

  function scrollAfterRender() {
    const el = conversation.current;
    const pending = pendingScroll.current;
    if (!el || !pending) return;
    pendingScroll.current = null;
    if (pending === "bottom") {
      el.scrollTop = el.scrollHeight;
    } else if ("anchor" in pending) {
      const li = el.querySelector<HTMLElement>(`.message[data-id="${pending.anchor}"]`);
      if (!li) return;
      const y = anchorTop(li) - el.getBoundingClientRect().top;
      el.scrollTop += y - pending.y;
    } else {
      showMessage(pending.reveal, { target: pending.target });
    }
  }

  // The conversation shrinks as the composer grows (or the on-screen keyboard opens): a reader
  // at the bottom stays at the bottom.
  useEffect(() => {
    const el = conversation.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => {
      if (atBottom.value && !client.hasNewer.value) el.scrollTop = el.scrollHeight;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  // Runs after every render that changed the list (new, changed, older or pending messages).
  useLayoutEffect(scrollAfterRender, [client.messages.value, client.outbox.value]);

  // What the reader has seen at the bottom of a visible page counts as read.
  const lastRead = useRef(0);
  useEffect(() => {
    const newest = client.messages.value.at(-1)?.id ?? 0;
    if (!atBottom.value || client.hasNewer.value || newest <= lastRead.current) return;
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

  // Names of the members met in this room, for "who reacted".
  const names = useComputed(() => {
    const map = new Map<number, string>();
    for (const m of client.messages.value) map.set(m.author.id, m.author.name);
    map.set(client.me.value.id, client.me.value.name);
    return map;
  });

  async function messageAuthor(author: { id: number }) {
    const response = await fetch("/api/direct", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ memberId: author.id }),
    });
    if (response.ok) location.assign(`/rooms/${encodeURIComponent((await response.json()).slug)}`);
  }

  function loadOlder() {
    const el = conversation.current;
    if (!el || client.loadingOlder.value || !client.hasOlder.value) return;
    client.loadOlder();
  }

  function onScroll() {
    const el = conversation.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK;
    if (bottom !== atBottom.value) atBottom.value = bottom;
    if (bottom && unseen.value && !client.hasNewer.value) unseen.value = 0;
    if (el.scrollTop <= TOP_SLACK) loadOlder();
    if (bottom && client.hasNewer.value) client.loadNewer();
  }

  async function jumpToBottom() {
    unseen.value = 0;
    if (client.hasNewer.value) {
      pendingScroll.current = "bottom";
      if (!await client.jumpToLatest()) return;
    }
    const el = conversation.current;
    atBottom.value = true;
    if (el) el.scrollTop = el.scrollHeight;
  }

  /**
   * Scrolls a loaded message into view, highlights it briefly and moves focus to it; a
   * `target` (what the reader searched for) keeps an outline a while longer.
   */
  function showMessage(id: number, options: { target?: boolean } = {}) {
    const li = conversation.current?.querySelector<HTMLElement>(`.message[data-id="${id}"]`);
    if (!li) return;
    li.scrollIntoView({ block: "center" });
    li.focus({ preventScroll: true });
    highlight.value = id;
    setTimeout(() => {
      if (highlight.value === id) highlight.value = null;
    }, HIGHLIGHT_MS);
    if (options.target) {
      target.value = id;
      setTimeout(() => {
        if (target.value === id) target.value = null;
      }, TARGET_MS);
    }
  }

  /**
   * Goes to a message of this room (the original of a reply, a search hit), loading the
   * history around it when needed.
   */
  async function jumpTo(id: number, options: { target?: boolean } = {}) {
    if (client.messages.value.some((m) => m.id === id)) return showMessage(id, options);
    const what = options.target ? "message" : "original message";
    announcement.value = `Loading the ${what}…`;
    pendingScroll.current = { reveal: id, target: options.target };
    if (!await client.reveal(id)) {
      pendingScroll.current = null;
      alert.value = `The ${what} could not be loaded.`;
    } else {
      announcement.value = "";
    }
  }

  function send(body: string, attachments: Attachment[] = []) {
    pendingScroll.current = "bottom";
    atBottom.value = true;
    unseen.value = 0;
    client.send(body, replyTo.value ?? undefined, attachments);
    replyTo.value = null;
  }

  function startReply(message: Message) {
    replyTo.value = message;
    actionsOpen.value = null;
    composer.current?.focus();
  }

  function startEdit(message: Message, fromComposer = false) {
    editFromComposer.current = fromComposer;
    picker.value = null;
    actionsOpen.value = null;
    editing.value = message.id;
  }

  function endEdit(id: number) {
    editing.value = null;
    if (editFromComposer.current) composer.current?.focus();
    else {
      // Back to where the edit started, once the editor is gone.
      requestAnimationFrame(() =>
        conversation.current?.querySelector<HTMLElement>(`.message[data-id="${id}"]`)?.focus()
      );
    }
  }

  /** Up arrow in an empty composer: edit my last message. */
  function editLast(): boolean {
    const mine = client.messages.value.findLast((m) =>
      m.author.id === client.me.value.id && !m.deleted
    );
    if (!mine) return false;
    startEdit(mine, true);
    const li = conversation.current?.querySelector<HTMLElement>(`.message[data-id="${mine.id}"]`);
    li?.scrollIntoView({ block: "nearest" });
    return true;
  }

  async function saveEdit(id: number, body: string): Promise<string | null> {
    const result = await client.edit(id, body);
    if (!result.ok) return result.error;
    announcement.value = "Message edited.";
    endEdit(id);
    return null;
  }

  async function confirmDelete(id: number) {
    confirming.value = null;
    const result = await client.remove(id);
    if (result.ok) {
      announcement.value = "Message deleted.";
      if (replyTo.value?.id === id) replyTo.value = null;
      conversation.current?.querySelector<HTMLElement>(`.message[data-id="${id}"]`)?.focus();
    } else alert.value = `Not deleted: ${result.error}`;
  }

  async function react(id: number, emoji: string, add: boolean) {
    const result = await client.react(id, emoji, add);
    if (result.ok) {
      announcement.value = add ? `Reacted with ${emoji}.` : `Reaction ${emoji} removed.`;
    } else alert.value = `Reaction not ${add ? "added" : "removed"}: ${result.error}`;
  }

  async function pick(id: number, emoji: string) {
    picker.value = null;
    conversation.current?.querySelector<HTMLElement>(`.message[data-id="${id}"] .action.react`)
      ?.focus();
    const message = client.messages.value.find((m) => m.id === id);
    const already = message?.reactions.some((r) =>
      r.emoji === emoji && r.memberIds.includes(client.me.value.id)
    );
    if (!already) await react(id, emoji, true);
  }

  const me = client.me.value;
  const status = client.status.value;
  // An archived room is read-only: no composer, no replies, reactions or edits (deleting stays).
  const archived = props.room.archived === true;
  const moderator = Boolean(props.account?.isAdmin) ||
    (props.room.ownerId != null && props.room.ownerId === me.id);
  const deleting = confirming.value === null
    ? undefined
    : client.messages.value.find((m) => m.id === confirming.value);
  // Messages, then those still being sent (unless a later page is not loaded), by day.
  const entries: (Message | PendingEntry)[] = client.hasNewer.value ? client.messages.value : [
    ...client.messages.value,
    ...client.outbox.value.map((item) => ({
      author: me,
      createdAt: item.createdAt,
      replyTo: item.replyTo,
      pending: item,
    })),
  ];
  const rows = timelineRows(entries, { ...props.time, now: now.value });
  return (
    <main
      class="chat"
      data-hydrated={hydrated.value ? "" : undefined}
      {...(archived ? {} : drop.handlers)}
    >
      {drop.active.value && (
        <div class="drop-zone" aria-hidden="true">
          <p>Drop files to attach them</p>
        </div>
      )}
      <header
        class="room-header"
        onKeyDown={(e) => {
          if (e.key === "Escape" && menuOpen.value && !e.defaultPrevented) {
            menuOpen.value = false;
            menuToggle.current?.focus();
          }
        }}
      >
        <div class="room-title">
          <h1>
            <span aria-hidden="true">{roomSigil(props.room)}</span>
            {props.room.name}
            {props.room.kind === "private" && <span class="visually-hidden">, private</span>}
          </h1>
          {topic.value && <p class="topic">{topic.value}</p>}
        </div>
        <SearchBox
          room={props.room}
          time={time}
          now={now.value}
          onOpenHere={(id) => jumpTo(id, { target: true })}
        />
        {/* On phones the room's and the account's actions fold into this menu. */}
        <button
          type="button"
          class="menu-toggle"
          ref={menuToggle}
          aria-expanded={menuOpen.value}
          aria-controls="room-menu"
          onClick={() => menuOpen.value = !menuOpen.value}
        >
          <span aria-hidden="true">⋯</span>
          <span class="visually-hidden">Room and account menu</span>
        </button>
        <div class={`header-side${menuOpen.value ? " open" : ""}`} id="room-menu">
          <NameEditor client={client} maxChars={props.maxNameChars} />
          {props.account && props.room.kind !== "direct" && !archived && (
            <TopicEditor room={props.room.slug} topic={topic} />
          )}
          {props.room.kind === "private" && !archived && <AddPeople room={props.room.slug} />}
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
        aria-label={`Messages in ${roomLabel(props.room)}`}
      >
        <p class="history-edge">
          {client.hasOlder.value
            ? (
              <button type="button" class="link" onClick={loadOlder}>
                {client.loadingOlder.value ? "Loading earlier messages…" : "Load earlier messages"}
              </button>
            )
            : (
              <>
                This is the beginning of <span aria-hidden="true">{roomSigil(props.room)}</span>
                {props.room.name}.
              </>
            )}
        </p>
        <ol class="messages">
          {rows.map((row) => {
            if (row.kind === "day") {
              return <DaySeparator key={`day-${row.key}`} day={row.key} label={row.label} />;
            }
            if ("pending" in row.message) {
              const { pending } = row.message;
              return (
                <PendingMessage
                  key={pending.clientId}
                  item={pending}
                  client={client}
                  username={props.account?.username ?? null}
                  time={time}
                  grouped={row.grouped}
                />
              );
            }
            const message = row.message;
            const mine = message.author.id === me.id;
            const live = !message.deleted && hydrated.value;
            const label = `${mine ? "your" : `${message.author.name}'s`} message`;
            return (
              <MessageItem
                key={message.id}
                message={message}
                mine={mine}
                time={time}
                grouped={row.grouped}
                status={[
                  highlight.value === message.id && "highlight",
                  target.value === message.id && "target",
                  !mine && !message.deleted && message.mentions?.includes(me.id) && "mentions-me",
                ].filter(Boolean).join(" ") || undefined}
                onAuthor={props.room.kind === "direct" ? undefined : messageAuthor}
                onQuote={jumpTo}
                editor={editing.value === message.id && !message.deleted
                  ? (
                    <MessageEditor
                      initial={message.body}
                      maxChars={props.maxChars}
                      length={bodyLength}
                      onSave={(body) => saveEdit(message.id, body)}
                      onCancel={() => endEdit(message.id)}
                    />
                  )
                  : undefined}
                toolbar={live && editing.value !== message.id && (
                  <MessageToolbar
                    label={label}
                    open={actionsOpen.value === message.id}
                    onToggle={() =>
                      actionsOpen.value = actionsOpen.value === message.id ? null : message.id}
                    onReply={archived ? undefined : () => startReply(message)}
                    onReact={archived
                      ? undefined
                      : () => picker.value = picker.value === message.id ? null : message.id}
                    reactOpen={picker.value === message.id}
                    onEdit={mine && !archived ? () => startEdit(message) : undefined}
                    onDelete={mine || moderator
                      ? () => {
                        actionsOpen.value = null;
                        confirming.value = message.id;
                      }
                      : undefined}
                  />
                )}
              >
                {!mine && !message.deleted && message.mentions?.includes(me.id) && (
                  <p class="visually-hidden">Mentions you</p>
                )}
                {!message.deleted && (
                  <ReactionChips
                    reactions={message.reactions ?? []}
                    meId={me.id}
                    names={names.value}
                    onToggle={hydrated.value && !archived
                      ? (emoji, add) => react(message.id, emoji, add)
                      : undefined}
                  />
                )}
                {picker.value === message.id && !message.deleted && (
                  <ReactionPicker
                    onPick={(emoji) => pick(message.id, emoji)}
                    onClose={() => {
                      picker.value = null;
                      conversation.current?.querySelector<HTMLElement>(
                        `.message[data-id="${message.id}"] .action.react`,
                      )?.focus();
                    }}
                  />
                )}
              </MessageItem>
            );
          })}
        </ol>
        {client.hasNewer.value && (
          <p class="history-edge">
            <button type="button" class="link" onClick={() => client.loadNewer()}>
              {client.loadingNewer.value ? "Loading newer messages…" : "Load newer messages"}
            </button>
          </p>
        )}
      </div>
      {(unseen.value > 0 || client.hasNewer.value) && !atBottom.value && (
        <button type="button" class="new-messages-pill" onClick={jumpToBottom}>
          {unseen.value > 0
            ? `${unseen.value} new ${unseen.value === 1 ? "message" : "messages"} ↓`
            : "Jump to latest ↓"}
        </button>
      )}
      {archived
        ? (
          <p id="archived-notice" class="archived-notice" role="status" tabIndex={-1}>
            This room is archived: you can read it, but nobody can post, edit or react in it.
          </p>
        )
        : (
          <Composer
            roomName={roomLabel(props.room)}
            maxChars={props.maxChars}
            onSend={(body, attachments) => {
              typing.sent();
              send(body, attachments);
            }}
            onTyped={typing.typed}
            typing={typingText(typing.typists.value.map((t) => t.name))}
            onEditLast={editLast}
            replyTo={replyTo.value}
            onCancelReply={() => replyTo.value = null}
            area={composer}
            roomSlug={props.room.slug}
            meId={me.id}
            allowRoom={props.account !== null}
            uploads={uploads}
          />
        )}
      {deleting && (
        <ConfirmDelete
          excerpt={excerptOf(deleting.body)}
          author={deleting.author.name}
          mine={deleting.author.id === me.id}
          onConfirm={() => confirmDelete(deleting.id)}
          onCancel={() => {
            confirming.value = null;
            conversation.current?.querySelector<HTMLElement>(
              `.message[data-id="${deleting.id}"] .action.delete`,
            )?.focus();
          }}
        />
      )}
      <p class="visually-hidden" aria-live="polite">{announcement.value}</p>
      <p class="visually-hidden" role="alert">{alert.value}</p>
    </main>
  );
}

/** A message still in the outbox, as a timeline entry. */
interface PendingEntry {
  author: { id: number };
  createdAt: string;
  replyTo?: unknown;
  pending: OutboxItem;
}

/** The first row of a day: "Today", "Yesterday" or the date, as a heading to jump by. */
function DaySeparator({ day, label }: { day: string; label: string }) {
  return (
    <li class="day-separator">
      <h2>
        <time dateTime={day}>{label}</time>
      </h2>
    </li>
  );
}

function PendingMessage(
  { item, client, username, time, grouped }: {
    item: OutboxItem;
    client: RoomClient;
    username: string | null;
    time: TimeFormatter;
    grouped: boolean;
  },
) {
  const failed = item.state === "failed";
  const author = { ...client.me.value, username };
  return (
    <MessageItem
      message={{
        id: 0,
        body: item.body,
        author,
        createdAt: item.createdAt,
        replyTo: item.replyTo ?? null,
        attachments: item.attachments,
      }}
      mine
      time={time}
      grouped={grouped}
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

function NameEditor({ client, maxChars }: { client: RoomClient; maxChars: number }) {
  const form = useInlineForm();
  if (!form.editing.value) {
    return (
      <div class="me">
        <span>
          You are <strong class="my-name">{client.me.value.name}</strong>
        </span>{" "}
        <button
          type="button"
          class="link"
          ref={form.opener}
          onClick={() => form.open(client.me.value.name)}
        >
          Change name
        </button>
      </div>
    );
  }
  return (
    <form class="me editing" onSubmit={(e) => form.save(e, (value) => client.rename(value))}>
      <InlineFormFields form={form} label="Your name" name="name" maxLength={maxChars * 4} />
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
  const openButton = useRef<HTMLButtonElement>(null);

  /** Closes the panel and puts focus back on "Add people", once it is shown again. */
  function close() {
    open.value = false;
    requestAnimationFrame(() => openButton.current?.focus());
  }

  async function search(text: string) {
    query.value = text;
    if (text.trim() === "") return found.value = [];
    const params = new URLSearchParams({ q: text.trim(), notIn: room });
    const response = await fetch(`/api/members?${params}`);
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
      <button
        type="button"
        class="link add-people"
        ref={openButton}
        onClick={() => open.value = true}
      >
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
          onKeyDown={(e) => {
            if (e.key !== "Escape") return;
            e.preventDefault();
            close();
          }}
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
      <button type="button" class="link" onClick={close}>Done</button>
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
