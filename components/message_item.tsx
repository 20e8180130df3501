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

/** Props of {@link MessageItem}. */
export interface MessageItemProps {
  message: Pick<Message, "id" | "body" | "author" | "createdAt">;
  mine: boolean;
  /** Format times in the reader's time zone (in the browser) rather than UTC (on the server). */
  localTime: boolean;
  /** Extra classes, e.g. `pending` or `failed`. */
  status?: string;
  /** Shown under the text (sending state, errors, retry buttons). */
  children?: ComponentChildren;
  /** When given, another member's name is a button that calls it (to message them directly). */
  onAuthor?: (author: Message["author"]) => void;
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

/** A message, as an `<li class="message sent|received">`. */
export function MessageItem(
  { message, mine, localTime, status, children, onAuthor }: MessageItemProps,
) {
  const date = new Date(message.createdAt);
  const zone = localTime ? undefined : "UTC";
  const classes = ["message", mine ? "sent" : "received", status].filter(Boolean).join(" ");
  return (
    <li class={classes} data-id={message.id > 0 ? message.id : undefined}>
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
      </div>
      <MessageBody body={message.body} />
      {children}
    </li>
  );
}
