// The message list as rows: day separators and messages, grouped under one header when the
// same author writes again within a few minutes. Pure (no DOM): the server and the island run
// the same code with the same locale, time zone and clock, so hydration changes no text.

/** How the reader wants times: the browser's locale and time zone, as the server learnt them. */
export interface TimeSettings {
  /** A BCP 47 locale supported by `Intl` (from `Accept-Language`). */
  locale: string;
  /** An IANA time zone (from the island's `tz` cookie), or `UTC` when not known yet. */
  timeZone: string;
  /** False on a first visit (no `tz` cookie yet): times are rendered in UTC and say so. */
  zoneKnown: boolean;
}

/** {@link TimeSettings} and the time of the render (ms), for "Today" and "Yesterday". */
export interface TimelineOptions extends TimeSettings {
  now: number;
  /** Follow-ups within this many minutes join the previous message's group (default 5). */
  groupMinutes?: number;
}

/** What the timeline needs of a message. */
export interface TimelineMessage {
  author: { id: number };
  createdAt: string;
  deleted?: boolean;
  replyTo?: unknown;
}

/** One row of the list: a day separator or a message. */
export type TimelineRow<T> =
  | { kind: "day"; key: string; label: string }
  | { kind: "message"; message: T; grouped: boolean };

/** Formats dates for one reader; every text the timeline shows comes from here. */
export interface TimeFormatter {
  settings: TimeSettings;
  /** The time of day: "14:05", "2:05 PM" (with the zone's name when it is not the reader's). */
  clock(date: Date): string;
  /** The full date and time with the zone, for the tooltip and screen readers. */
  full(date: Date): string;
  /** The calendar day in the reader's zone, `YYYY-MM-DD`. */
  dayKey(date: Date): string;
  /** "Today", "Yesterday" or the date, for the day of `date` seen on the day of `now`. */
  dayLabel(date: Date, now: Date): string;
}

const DEFAULT_GROUP_MINUTES = 5;
const formatters = new Map<string, TimeFormatter>();
const MAX_FORMATTERS = 256;

// Different ICU versions put a narrow or a plain no-break space before "PM"; one space for all.
function tidy(text: string): string {
  return text.replace(/[\u00a0\u202f]/g, " ");
}

/** Formatted texts kept per formatter, by time step (the oldest go first). */
const MAX_MEMO = 4096;

/**
 * `format` remembered by `step`-ms slot of the time: the same text for every time in a slot.
 * Every message of a page has its time formatted two or three ways, on every page view, and
 * `Intl` takes several microseconds each time.
 */
function memoized(step: number, format: (date: Date) => string): (date: Date) => string {
  const memo = new Map<number, string>();
  return (date) => {
    const slot = Math.floor(date.getTime() / step);
    let text = memo.get(slot);
    if (text === undefined) {
      text = format(date);
      if (memo.size >= MAX_MEMO) memo.delete(memo.keys().next().value!);
      memo.set(slot, text);
    }
    return text;
  };
}

/** The formatter for these settings (cached: `Intl` objects are costly to create). */
export function timeFormatter(settings: TimeSettings): TimeFormatter {
  const { locale, timeZone, zoneKnown } = settings;
  const cacheKey = `${locale}|${timeZone}|${zoneKnown}`;
  const cached = formatters.get(cacheKey);
  if (cached) return cached;
  // "09:05" on a 24-hour clock, "9:05 AM" on a 12-hour one.
  const h12 = new Intl.DateTimeFormat(locale, { hour: "numeric" }).resolvedOptions().hour12;
  const clock = new Intl.DateTimeFormat(locale, {
    hour: h12 ? "numeric" : "2-digit",
    minute: "2-digit",
    timeZone,
    timeZoneName: zoneKnown ? undefined : "short",
  });
  const full = new Intl.DateTimeFormat(locale, {
    dateStyle: "full",
    timeStyle: "long",
    timeZone,
  });
  const day = new Intl.DateTimeFormat("en-US", {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    timeZone,
  });
  const date = new Intl.DateTimeFormat(locale, {
    weekday: "long",
    day: "numeric",
    month: "long",
    timeZone,
  });
  const dateWithYear = new Intl.DateTimeFormat(locale, {
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
    timeZone,
  });
  const relative = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  const capitalized = (text: string) => text.charAt(0).toLocaleUpperCase(locale) + text.slice(1);
  // Zone offsets are whole quarter hours, so a day changes only on a quarter hour (UTC),
  // a minute on a minute; the full form shows seconds.
  const dayKey = memoized(15 * 60_000, (d) => {
    const parts = Object.fromEntries(day.formatToParts(d).map((p) => [p.type, p.value]));
    return `${parts.year}-${parts.month}-${parts.day}`;
  });
  const formatter: TimeFormatter = {
    settings,
    clock: memoized(60_000, (d) => tidy(clock.format(d))),
    full: memoized(1000, (d) => tidy(full.format(d))),
    dayKey,
    dayLabel(d, now) {
      const key = dayKey(d);
      const today = dayKey(now);
      if (key === today) return capitalized(tidy(relative.format(0, "day")));
      if (key === previousDay(today)) return capitalized(tidy(relative.format(-1, "day")));
      return tidy((key.slice(0, 4) === today.slice(0, 4) ? date : dateWithYear).format(d));
    },
  };
  // A bounded cache (the oldest entry goes): locales and zones come from requests.
  if (formatters.size >= MAX_FORMATTERS) formatters.delete(formatters.keys().next().value!);
  formatters.set(cacheKey, formatter);
  return formatter;
}

/** The calendar day before `YYYY-MM-DD`. */
function previousDay(key: string): string {
  const [y, m, d] = key.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d - 1)).toISOString().slice(0, 10);
}

/**
 * The rows of a list of messages (ascending): a day separator before the first message of
 * each day in the reader's zone, and `grouped` on a follow-up by the same author within
 * `groupMinutes` of the previous message. A deleted message, a reply or a new day starts a
 * new group (with its header); a deleted message is never the head of a group.
 */
export function timelineRows<T extends TimelineMessage>(
  messages: readonly T[],
  options: TimelineOptions,
): TimelineRow<T>[] {
  const format = timeFormatter(options);
  const now = new Date(options.now);
  const window = (options.groupMinutes ?? DEFAULT_GROUP_MINUTES) * 60_000;
  const rows: TimelineRow<T>[] = [];
  let lastDay = "";
  let previous: { message: T; at: number } | null = null;
  for (const message of messages) {
    const date = new Date(message.createdAt);
    const at = date.getTime();
    const key = format.dayKey(date);
    if (key !== lastDay) {
      rows.push({ kind: "day", key, label: format.dayLabel(date, now) });
      lastDay = key;
      previous = null;
    }
    const grouped = previous !== null &&
      previous.message.author.id === message.author.id &&
      !previous.message.deleted && !message.deleted && !message.replyTo &&
      at >= previous.at && at - previous.at < window;
    rows.push({ kind: "message", message, grouped });
    previous = { message, at };
  }
  return rows;
}

/** The milliseconds from `now` until the next day starts in `timeZone` (at least 1 s). */
export function msUntilNextDay(now: number, timeZone: string): number {
  const format = timeFormatter({ locale: "en-US", timeZone, zoneKnown: true });
  const today = format.dayKey(new Date(now));
  // Days are 23 to 25 hours long: a binary search for the first instant of the next day.
  let low = now, high = now + 26 * 3_600_000;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (format.dayKey(new Date(mid)) === today) low = mid;
    else high = mid;
  }
  return Math.max(1000, high - now);
}
