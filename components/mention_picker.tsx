// The composer's `@` autocomplete: typing `@` and letters offers the room's accounts (by username
// or display name); arrow keys move, Enter or Tab picks (inserting `@username `), Escape closes.
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";

/** An account that can be mentioned. */
export interface Mentionable {
  id: number;
  name: string;
  username: string;
}

/** The `@query` being typed just before the caret, and where its `@` is; null when none. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const match = /(?:^|[^\p{L}\p{N}_@./-])@([\p{L}\p{N}_-]{0,32})$/u.exec(text.slice(0, caret));
  if (!match) return null;
  return { start: caret - match[1].length - 1, query: match[1] };
}

/** `text` with the `@query` at `start..caret` replaced by `@username `, and the new caret. */
export function insertMention(
  text: string,
  start: number,
  caret: number,
  username: string,
): { text: string; caret: number } {
  const inserted = `@${username} `;
  const rest = text.slice(caret).replace(/^ /, "");
  return { text: text.slice(0, start) + inserted + rest, caret: start + inserted.length };
}

const LIST_ID = "mention-options";
const ROOM_ENTRY: Mentionable = { id: 0, name: "Notify everyone in this room", username: "room" };

/**
 * State and handlers of the autocomplete for one textarea. `update` after input and caret moves;
 * `onKeyDown` first in the textarea's key handler (true when it handled the key);
 * `inputProps` on the textarea; `list` rendered next to it (inside a positioned container).
 */
export function useMentionPicker(
  options: {
    roomSlug: string;
    meId: number;
    /** Whether `@room` is offered (accounts only). */
    allowRoom: boolean;
    area: { current: HTMLTextAreaElement | null };
    /** Sets the textarea's text (the composer keeps it in a signal). */
    setText: (text: string) => void;
  },
) {
  const open = useSignal<{ start: number; query: string } | null>(null);
  const options_ = useSignal<Mentionable[]>([]);
  const active = useSignal(0);
  const request = useRef<AbortController | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => () => {
    request.current?.abort();
    clearTimeout(timer.current);
  }, []);

  function close() {
    open.value = null;
    options_.value = [];
    request.current?.abort();
    clearTimeout(timer.current);
  }

  async function search(query: string) {
    request.current?.abort();
    const controller = new AbortController();
    request.current = controller;
    try {
      const response = await fetch(
        `/api/rooms/${encodeURIComponent(options.roomSlug)}/members?q=${encodeURIComponent(query)}`,
        { signal: controller.signal },
      );
      if (!response.ok || controller.signal.aborted) return;
      const { members } = await response.json() as {
        members: { id: number; name: string; username: string | null }[];
      };
      if (!open.value || open.value.query !== query) return;
      const found = members.filter((m): m is Mentionable =>
        m.username !== null && m.id !== options.meId
      );
      const room = options.allowRoom && "room".startsWith(query.toLowerCase()) ? [ROOM_ENTRY] : [];
      options_.value = [...found, ...room];
      active.value = 0;
    } catch {
      // Aborted or offline: no suggestions.
    }
  }

  /** Looks at the text before the caret: opens, updates or closes the list. */
  function update() {
    const el = options.area.current;
    if (!el || el.selectionStart !== el.selectionEnd) return close();
    const found = mentionQuery(el.value, el.selectionStart);
    if (!found) return close();
    if (open.value?.query === found.query && open.value.start === found.start) return;
    open.value = found;
    clearTimeout(timer.current);
    timer.current = setTimeout(() => search(found.query), 120);
  }

  function pick(choice: Mentionable) {
    const el = options.area.current;
    const at = open.value;
    if (!el || !at) return;
    const next = insertMention(el.value, at.start, el.selectionStart, choice.username);
    options.setText(next.text);
    el.value = next.text;
    el.setSelectionRange(next.caret, next.caret);
    close();
    el.focus();
  }

  const shown = open.value !== null && options_.value.length > 0;

  function onKeyDown(event: KeyboardEvent): boolean {
    if (!shown || event.isComposing) return false;
    const count = options_.value.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      active.value = (active.value + (event.key === "ArrowDown" ? 1 : count - 1)) % count;
    } else if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
      pick(options_.value[active.value]);
    } else if (event.key === "Escape") {
      close();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  const optionId = (index: number) => `${LIST_ID}-${index}`;
  const inputProps = {
    "aria-autocomplete": "list" as const,
    "aria-controls": shown ? LIST_ID : undefined,
    "aria-activedescendant": shown ? optionId(active.value) : undefined,
  };

  const list = shown && (
    <ul id={LIST_ID} class="mention-options" role="listbox" aria-label="People to mention">
      {options_.value.map((m, index) => (
        <li
          key={m.id}
          id={optionId(index)}
          role="option"
          aria-selected={index === active.value}
          class={index === active.value ? "active" : undefined}
          // Keeps focus in the textarea: the click picks.
          onMouseDown={(e) => e.preventDefault()}
          onClick={() =>
            pick(m)}
        >
          <span class="mention-name">{m.id === 0 ? "@room" : m.name}</span>{" "}
          <span class="mention-username">{m.id === 0 ? m.name : `@${m.username}`}</span>
        </li>
      ))}
    </ul>
  );

  return { update, onKeyDown, inputProps, list, close };
}
