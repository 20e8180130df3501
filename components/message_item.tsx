// One message in the conversation: author, time, text and files; mine look different from others'.
import type { ComponentChildren } from "preact";
import type { Attachment, Message } from "../db/store.ts";
import { MessageBody } from "./message_body.tsx";
import { Attachments } from "./attachments.tsx";
import type { TimeFormatter } from "./timeline.ts";

/** What a reply shows of the message it answers. */
export type Quote = NonNullable<Message["replyTo"]>;

/** Props of {@link MessageItem}. */
export interface MessageItemProps {
  message:
    & Pick<Message, "id" | "body" | "author" | "createdAt">
    & Partial<Pick<Message, "editedAt" | "deleted">>
    & { replyTo?: Quote | null; attachments?: Attachment[] };
  mine: boolean;
  /** Formats times for the reader (the same on the server and in the island). */
  time: TimeFormatter;
  /** A follow-up by the same author: no header, the time shows on hover and focus. */
  grouped?: boolean;
  /** Extra classes, e.g. `pending`, `failed` or `highlight`. */
  status?: string;
  /** Shown under the text (reactions, sending state, errors, retry buttons). */
  children?: ComponentChildren;
  /** The message's actions (reply, react, edit, delete), shown on hover and focus. */
  toolbar?: ComponentChildren;
  /** Shown instead of the text (the inline editor). */
  editor?: ComponentChildren;
  /** When given, another member's name is a button that calls it (to message them directly). */
  onAuthor?: (author: Message["author"]) => void;
  /** When given, the quote of a reply is a button that calls it with the original's id. */
  onQuote?: (id: number) => void;
}

/**
 * Who the author is beyond the name anyone can choose: a registered member's `@username`, or
 * a "guest" badge (words, not only a colour, for screen readers and in either theme).
 */
function AuthorMark({ username }: { username: string | null }) {
  return username === null
    ? <span class="guest-badge" title="A guest: not a registered member">guest</span>
    : <span class="username" title="Registered member">{`@${username}`}</span>;
}

/** The quote of the message a reply answers: a button that jumps to it, when it can. */
function QuoteLine({ quote, onQuote }: { quote: Quote; onQuote?: (id: number) => void }) {
  const text = quote.deleted ? "message deleted" : quote.excerpt ?? "";
  const content = (
    <>
      <span class="quote-author">{quote.authorName}</span>{" "}
      <span class={quote.deleted ? "quote-text deleted" : "quote-text"}>{text}</span>
    </>
  );
  return onQuote
    ? (
      <button
        type="button"
        class="quote"
        aria-label={`Reply to ${quote.authorName}: ${text}. Show the original message`}
        onClick={() => onQuote(quote.id)}
      >
        {content}
      </button>
    )
    : <p class="quote">{content}</p>;
}

/**
 * When a message was sent: the time of day, and the full date shown as a tooltip on hover and
 * while the message has keyboard focus (CSS), read by screen readers in place of the short one.
 */
function TimeOf({ date, dateTime, time }: { date: Date; dateTime: string; time: TimeFormatter }) {
  return (
    <time class="sent-at" dateTime={dateTime}>
      <span class="clock" aria-hidden="true">{time.clock(date)}</span>
      <span class="time-full">{time.full(date)}</span>
    </time>
  );
}

/** A message, as an `<li class="message sent|received">`. */
export function MessageItem(
  { message, mine, time, grouped, status, children, toolbar, editor, onAuthor, onQuote }:
    MessageItemProps,
) {
  const date = new Date(message.createdAt);
  const classes = [
    "message",
    mine ? "sent" : "received",
    grouped && "grouped",
    message.deleted && "deleted",
    editor ? "editing" : undefined,
    status,
  ].filter(Boolean).join(" ");
  return (
    <li
      class={classes}
      data-id={message.id > 0 ? message.id : undefined}
      tabIndex={message.id > 0 ? -1 : undefined}
    >
      <div class="meta">
        {grouped
          ? <span class="visually-hidden">{message.author.name}</span>
          : onAuthor && !mine
          ? (
            <button
              type="button"
              class="author link"
              title={`Message ${message.author.name} directly`}
              onClick={() => onAuthor(message.author)}
            >
              {message.author.name}
            </button>
          )
          : <span class="author">{message.author.name}</span>} {!grouped && (
          <>
            <AuthorMark username={message.author.username} />
            {" "}
          </>
        )}
        <TimeOf date={date} dateTime={message.createdAt} time={time} />
        {message.editedAt && !message.deleted && (
          <>
            {" "}
            <time
              class="edited"
              dateTime={message.editedAt}
              title={`Edited ${time.full(new Date(message.editedAt))}`}
            >
              (edited)
            </time>
          </>
        )}
      </div>
      {message.replyTo && !message.deleted && (
        <QuoteLine quote={message.replyTo} onQuote={onQuote} />
      )}
      {message.deleted ? <p class="body tombstone">message deleted</p> : editor ??
        (message.body === "" && message.attachments?.length
          ? null
          : <MessageBody body={message.body} />)}
      {!message.deleted && message.attachments?.length
        ? <Attachments files={message.attachments} />
        : null}
      {children}
      {toolbar}
    </li>
  );
}
