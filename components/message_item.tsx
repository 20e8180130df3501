// One message in the conversation: author, time and text; mine look different from others'.
import type { ComponentChildren } from "preact";
import type { Message } from "../db/store.ts";
import { MessageBody } from "./message_body.tsx";

const formats = new Map<string, Intl.DateTimeFormat>();

function formatTime(date: Date, kind: "clock" | "full", timeZone?: string): string {
  const key = `${kind}:${timeZone}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(
      "en-GB",
      kind === "clock"
        ? { hour: "2-digit", minute: "2-digit", timeZone }
        : { dateStyle: "full", timeStyle: "medium", timeZone },
    );
    formats.set(key, format);
  }
  return format.format(date);
}

/** What a reply shows of the message it answers. */
export type Quote = NonNullable<Message["replyTo"]>;

/** Props of {@link MessageItem}. */
export interface MessageItemProps {
  message:
    & Pick<Message, "id" | "body" | "author" | "createdAt">
    & Partial<Pick<Message, "editedAt" | "deleted">>
    & { replyTo?: Quote | null };
  mine: boolean;
  /** Format times in the reader's time zone (in the browser) rather than UTC (on the server). */
  localTime: boolean;
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

/** A message, as an `<li class="message sent|received">`. */
export function MessageItem(
  { message, mine, localTime, status, children, toolbar, editor, onAuthor, onQuote }:
    MessageItemProps,
) {
  const date = new Date(message.createdAt);
  const zone = localTime ? undefined : "UTC";
  const classes = [
    "message",
    mine ? "sent" : "received",
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
        {onAuthor && !mine
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
          : <span class="author">{message.author.name}</span>}{" "}
        <AuthorMark username={message.author.username} />{" "}
        <time dateTime={message.createdAt} title={formatTime(date, "full", zone)}>
          {formatTime(date, "clock", zone)}
        </time>
        {message.editedAt && !message.deleted && (
          <>
            {" "}
            <time
              class="edited"
              dateTime={message.editedAt}
              title={`Edited ${formatTime(new Date(message.editedAt), "full", zone)}`}
            >
              (edited)
            </time>
          </>
        )}
      </div>
      {message.replyTo && !message.deleted && (
        <QuoteLine quote={message.replyTo} onQuote={onQuote} />
      )}
      {message.deleted
        ? <p class="body tombstone">message deleted</p>
        : editor ?? <MessageBody body={message.body} />}
      {children}
      {toolbar}
    </li>
  );
}
