// Browser notifications (the Notification API) while the tab is hidden: for mentions and direct
// messages by default, per room "all messages", "mentions" or "nothing" (kept in localStorage,
// per browser). Permission is asked for only from the bell button (a user gesture), never on load.
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { MyRoom } from "../db/store.ts";

/** What a room notifies about: every message, mentions (and direct messages), or nothing. */
export type NotifyLevel = "all" | "mentions" | "none";

const LEVELS: { value: NotifyLevel; label: string }[] = [
  { value: "all", label: "All messages" },
  { value: "mentions", label: "Mentions and DMs" },
  { value: "none", label: "Nothing" },
];

function storageKey(slug: string): string {
  return `parley:notify:${slug}`;
}

/** The level chosen for a room in this browser (mentions and direct messages by default). */
export function notifyLevel(slug: string): NotifyLevel {
  try {
    const stored = localStorage.getItem(storageKey(slug));
    if (stored === "all" || stored === "none" || stored === "mentions") return stored;
  } catch {
    // Storage refused (private mode): the default.
  }
  return "mentions";
}

function supported(): boolean {
  return typeof Notification !== "undefined";
}

/**
 * Which rooms of `next` deserve a notification, compared with `previous` (the list before): more
 * unread messages with the level "all", more mentions (or, in a direct room, more unread
 * messages) with the level "mentions". Pure, for tests.
 */
export function roomsToNotify(
  previous: MyRoom[],
  next: MyRoom[],
  level: (slug: string) => NotifyLevel,
): { room: MyRoom; mention: boolean }[] {
  const before = new Map(previous.map((room) => [room.slug, room]));
  const out: { room: MyRoom; mention: boolean }[] = [];
  for (const room of next) {
    const old = before.get(room.slug);
    const moreUnread = room.unread > (old?.unread ?? 0);
    const mention = (room.mentions ?? 0) > (old?.mentions ?? 0);
    const chosen = level(room.slug);
    if (chosen === "none" || !moreUnread) continue;
    if (chosen === "all" || mention || room.kind === "direct") out.push({ room, mention });
  }
  return out;
}

/**
 * Shows a notification for each room of `next` that deserves one while the tab is hidden (with
 * who wrote the latest message and its first words); clicking it focuses the tab and opens the
 * room.
 */
export async function notifyChanges(
  previous: MyRoom[],
  next: MyRoom[],
  roomUrl: (slug: string) => string,
  meId?: number,
): Promise<void> {
  if (!supported() || Notification.permission !== "granted") return;
  if (document.visibilityState !== "hidden") return;
  for (const { room, mention } of roomsToNotify(previous, next, notifyLevel)) {
    let author = "Someone";
    let body = "";
    try {
      const response = await fetch(
        `/api/rooms/${encodeURIComponent(room.slug)}/messages?limit=20`,
        { headers: { accept: "application/json" } },
      );
      type Latest = { author: { name: string }; body: string; mentions?: number[] };
      const recent = response.ok ? (await response.json() as { messages: Latest[] }).messages : [];
      // For a mention, the message that mentions me (others may have written since).
      const latest = (mention && meId !== undefined
        ? recent.findLast((m) =>
          m.mentions?.includes(meId)
        )
        : undefined) ?? recent.at(-1);
      if (latest) {
        author = latest.author.name;
        body = Array.from(latest.body.replace(/\s+/g, " ").trim()).slice(0, 140).join("");
      }
    } catch {
      // Offline: a notification without the text.
    }
    const where = room.kind === "direct" ? "" : ` in #${room.name}`;
    const title = room.kind === "direct"
      ? author
      : mention
      ? `${author} mentioned you${where}`
      : `${author}${where}`;
    const notification = new Notification(title, { body, tag: `parley-room-${room.slug}` });
    notification.onclick = () => {
      notification.close();
      globalThis.focus();
      location.assign(roomUrl(room.slug));
    };
  }
}

/**
 * The bell: asks for permission when clicked (never on load); once granted, chooses what the
 * current room notifies about. Rendered only after hydration (the server cannot know the
 * browser's permission).
 */
export function NotificationSettings({ slug, name }: { slug: string; name: string }) {
  const permission = useSignal<NotificationPermission | "unsupported" | null>(null);
  const level = useSignal<NotifyLevel>("mentions");
  useEffect(() => {
    permission.value = supported() ? Notification.permission : "unsupported";
    level.value = notifyLevel(slug);
  }, []);

  if (permission.value === null || permission.value === "unsupported") return null;
  if (permission.value === "denied") {
    return (
      <p class="notify-settings hint">
        <span aria-hidden="true">🔕</span> Notifications are blocked in this browser's settings.
      </p>
    );
  }
  if (permission.value === "default") {
    return (
      <div class="notify-settings">
        <button
          type="button"
          class="notify-enable"
          onClick={async () => {
            permission.value = await Notification.requestPermission();
          }}
        >
          <span aria-hidden="true">🔔</span> Turn on notifications
        </button>
      </div>
    );
  }
  return (
    <div class="notify-settings">
      <label>
        <span class="notify-label">
          <span aria-hidden="true">🔔</span> Notify me in {name} about
        </span>
        <select
          name="notify-level"
          value={level.value}
          onChange={(e) => {
            const value = e.currentTarget.value as NotifyLevel;
            level.value = value;
            try {
              localStorage.setItem(storageKey(slug), value);
            } catch {
              // Not kept: this page still uses it until it is reloaded.
            }
          }}
        >
          {LEVELS.map((l) => <option key={l.value} value={l.value}>{l.label}</option>)}
        </select>
      </label>
    </div>
  );
}
