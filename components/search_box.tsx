// The header's message search: a combobox whose popup lists the hits as the reader types (room,
// author, date, the matching text highlighted), arrow keys and Enter to open one, `/` or
// Ctrl/Cmd+K to get there from anywhere.
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import type { Room } from "../db/store.ts";
import {
  highlightedExcerpt,
  nameOf,
  type RoomName,
  roomNames,
  type SearchHit,
  searchMessages,
} from "../client/search_client.ts";
import type { TimeFormatter } from "./timeline.ts";

/** How long typing pauses before the search runs (ms). */
const DEBOUNCE_MS = 250;
const INPUT_ID = "message-search";
const LIST_ID = "message-search-results";
const MORE_ID = "message-search-more";

/** Props of {@link SearchBox}. */
export interface SearchBoxProps {
  /** The room shown: its hits open in place, without loading the page. */
  room: Pick<Room, "slug" | "name" | "kind">;
  /** Formats dates like the conversation does. */
  time: TimeFormatter;
  /** The clock of "Today" and "Yesterday" (ms). */
  now: number;
  /** Shows a message of the room shown (loading the history around it when needed). */
  onOpenHere: (id: number) => void;
}

/** Whether a key typed at `target` is text for it (then `/` is not a shortcut). */
function typesText(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement) return true;
  if (target instanceof HTMLSelectElement) return true;
  if (!(target instanceof HTMLInputElement)) return false;
  return !["button", "checkbox", "radio", "submit", "reset", "range", "color", "file", "image"]
    .includes(target.type);
}

function hitId(id: number): string {
  return `search-hit-${id}`;
}

/** The search field of the room header and its popup of hits. */
export function SearchBox({ room, time, now, onOpenHere }: SearchBoxProps) {
  const text = useSignal("");
  const open = useSignal(false);
  const hits = useSignal<SearchHit[]>([]);
  const next = useSignal<number | null>(null);
  /** The query the hits answer (the text may have changed since). */
  const answered = useSignal("");
  const state = useSignal<"idle" | "loading" | "done" | "error">("idle");
  const error = useSignal("");
  const loadingMore = useSignal(false);
  /** The highlighted option: an index into the hits, `hits.length` for "Load more", or -1. */
  const active = useSignal(-1);
  const announcement = useSignal("");
  const names = useSignal<Map<string, RoomName>>(new Map());
  const input = useRef<HTMLInputElement>(null);
  const wrapper = useRef<HTMLDivElement>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const request = useRef<AbortController | null>(null);
  const namesAsked = useRef(false);

  // `/` (outside text fields) and Ctrl/Cmd+K (anywhere) go to the search field.
  useEffect(() => {
    function onKey(event: KeyboardEvent) {
      if (event.defaultPrevented || event.isComposing) return;
      const command = (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey &&
        event.key.toLowerCase() === "k";
      const slash = event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey &&
        !typesText(event.target);
      if (!command && !slash) return;
      event.preventDefault();
      input.current?.focus();
      input.current?.select();
    }
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("keydown", onKey);
      clearTimeout(timer.current);
      request.current?.abort();
    };
  }, []);

  // The highlighted option stays in view as the arrow keys move through a long list.
  useEffect(() => {
    if (!open.value || active.value < 0) return;
    const id = active.value < hits.value.length
      ? hitId(hits.value[active.value].message.id)
      : MORE_ID;
    document.getElementById(id)?.scrollIntoView({ block: "nearest" });
  }, [active.value, open.value]);

  async function askNames() {
    if (namesAsked.current) return;
    namesAsked.current = true;
    names.value = await roomNames();
  }

  function roomOf(slug: string): RoomName {
    if (slug === room.slug) return nameOf(room);
    return names.value.get(slug) ?? { shown: `#${slug}`, label: `#${slug}` };
  }

  /** Searches for `q` now (a new search: the hits so far are replaced). */
  async function run(q: string) {
    clearTimeout(timer.current);
    request.current?.abort();
    const controller = new AbortController();
    request.current = controller;
    state.value = "loading";
    loadingMore.value = false;
    try {
      const outcome = await searchMessages({ q, signal: controller.signal });
      if (controller.signal.aborted) return;
      answered.value = q;
      active.value = -1;
      if (outcome.ok) {
        hits.value = outcome.page.results;
        next.value = outcome.page.next;
        state.value = "done";
        error.value = "";
        const count = outcome.page.results.length;
        announcement.value = count === 0
          ? "No messages found."
          : `${count}${outcome.page.next === null ? "" : " or more"} ${
            count === 1 ? "message" : "messages"
          } found. Arrow keys to choose, Enter to open.`;
      } else {
        hits.value = [];
        next.value = null;
        state.value = "error";
        error.value = outcome.error;
        announcement.value = outcome.error;
      }
    } catch {
      // Replaced by a newer search.
    }
  }

  /** The next page of hits for the same query, after those shown. */
  async function loadMore() {
    if (next.value === null || loadingMore.value) return;
    const q = answered.value;
    const controller = new AbortController();
    request.current?.abort();
    request.current = controller;
    loadingMore.value = true;
    try {
      const outcome = await searchMessages({ q, before: next.value, signal: controller.signal });
      if (controller.signal.aborted) return;
      if (outcome.ok) {
        const shown = new Set(hits.value.map((h) => h.message.id));
        const fresh = outcome.page.results.filter((h) => !shown.has(h.message.id));
        hits.value = [...hits.value, ...fresh];
        next.value = outcome.page.next;
        error.value = "";
        announcement.value = `${fresh.length} more ${fresh.length === 1 ? "message" : "messages"}.`;
      } else {
        announcement.value = outcome.error;
        error.value = outcome.error;
      }
    } catch {
      // Replaced by a newer search.
    } finally {
      if (request.current === controller) loadingMore.value = false;
    }
  }

  function onInput(value: string) {
    text.value = value;
    clearTimeout(timer.current);
    const q = value.trim();
    if (q === "") {
      request.current?.abort();
      open.value = false;
      hits.value = [];
      next.value = null;
      answered.value = "";
      state.value = "idle";
      announcement.value = "";
      return;
    }
    open.value = true;
    askNames();
    timer.current = setTimeout(() => run(q), DEBOUNCE_MS);
  }

  function close() {
    open.value = false;
    active.value = -1;
  }

  function choose(hit: SearchHit) {
    const { id, room: slug } = hit.message;
    if (slug === room.slug) {
      close();
      onOpenHere(id);
    } else {
      location.assign(`/rooms/${encodeURIComponent(slug)}?at=${id}`);
    }
  }

  const count = hits.value.length + (next.value === null ? 0 : 1);
  const shown = open.value && text.value.trim() !== "";
  /** Whether the list of hits is shown (the popup may show only a note). */
  const listed = shown && count > 0;

  function onKeyDown(event: KeyboardEvent) {
    if (event.isComposing) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!shown) {
        if (text.value.trim() === "") return;
        open.value = true;
        if (answered.value !== text.value.trim()) run(text.value.trim());
        return;
      }
      if (count === 0) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      // -1 (the field itself) is one of the stops, as in a browser's own suggestions.
      const position = (active.value + 1 + step + count + 1) % (count + 1);
      active.value = position - 1;
    } else if (event.key === "Enter") {
      event.preventDefault();
      const q = text.value.trim();
      if (q === "") return;
      if (shown && active.value >= 0 && active.value < hits.value.length) {
        choose(hits.value[active.value]);
      } else if (shown && active.value === hits.value.length && next.value !== null) {
        loadMore();
      } else {
        open.value = true;
        run(q);
      }
    } else if (event.key === "Escape") {
      if (shown) {
        event.preventDefault();
        close();
      } else if (text.value !== "") {
        event.preventDefault();
        onInput("");
      }
    }
  }

  const activeId = !listed || active.value < 0
    ? undefined
    : active.value < hits.value.length
    ? hitId(hits.value[active.value].message.id)
    : MORE_ID;
  const today = new Date(now);
  return (
    <div
      class={`message-search${shown ? " open" : ""}`}
      role="search"
      ref={wrapper}
      onFocusOut={(event) => {
        const to = event.relatedTarget as Node | null;
        if (!to || !wrapper.current?.contains(to)) close();
      }}
    >
      <label for={INPUT_ID} class="visually-hidden">Search messages</label>
      <span class="search-icon" aria-hidden="true">
        <svg viewBox="0 0 20 20" width="18" height="18" focusable="false">
          <circle cx="8.5" cy="8.5" r="5.5" fill="none" stroke="currentColor" stroke-width="2" />
          <path
            d="M12.8 12.8 17 17"
            stroke="currentColor"
            stroke-width="2"
            stroke-linecap="round"
          />
        </svg>
      </span>
      <input
        ref={input}
        id={INPUT_ID}
        name="q"
        type="search"
        role="combobox"
        list={undefined}
        autoComplete="off"
        spellcheck={false}
        enterKeyHint="search"
        placeholder="Search messages"
        aria-keyshortcuts="/ Control+K Meta+K"
        aria-autocomplete="list"
        aria-expanded={listed}
        aria-controls={listed ? LIST_ID : undefined}
        aria-activedescendant={activeId}
        aria-describedby="message-search-hint"
        value={text.value}
        onInput={(e) => onInput(e.currentTarget.value)}
        onKeyDown={onKeyDown}
        onFocus={() => {
          askNames();
          if (text.value.trim() !== "") open.value = true;
        }}
      />
      {text.value === "" && <kbd class="search-key" aria-hidden="true">/</kbd>}
      <span id="message-search-hint" class="visually-hidden">
        Words, "a phrase", from:username, in:room. Press / or Control+K to come back here.
      </span>
      <button
        type="button"
        class="search-cancel link"
        // Keeps focus in the field until the click closes the search.
        onMouseDown={(e) => e.preventDefault()}
        onClick={() => {
          close();
          input.current?.blur();
        }}
      >
        Cancel
      </button>
      {shown && (
        <div
          class="search-popup"
          // A click in the popup (a hit, the scrollbar) keeps focus in the field.
          onMouseDown={(e) => e.preventDefault()}
        >
          {listed && (
            <ul id={LIST_ID} role="listbox" aria-label="Messages found">
              {hits.value.map((hit, index) => {
                const m = hit.message;
                const where = roomOf(m.room);
                const date = new Date(m.createdAt);
                return (
                  <li
                    key={m.id}
                    id={hitId(m.id)}
                    role="option"
                    aria-selected={index === active.value}
                    class={`search-hit${index === active.value ? " active" : ""}`}
                    onClick={() => choose(hit)}
                    onMouseMove={() => {
                      if (active.value !== index) active.value = index;
                    }}
                  >
                    <span class="hit-meta">
                      <span class="hit-room" aria-label={where.label}>{where.shown}</span>
                      <span class="hit-author">{m.author.name}</span>
                      <time class="hit-date" dateTime={m.createdAt} title={time.full(date)}>
                        {`${time.dayLabel(date, today)}, ${time.clock(date)}`}
                      </time>
                    </span>
                    <span class="hit-text">
                      {highlightedExcerpt(m.body, hit.highlights).map((piece, i) =>
                        piece.mark ? <mark key={i}>{piece.text}</mark> : piece.text
                      )}
                    </span>
                  </li>
                );
              })}
              {next.value !== null && (
                <li
                  id={MORE_ID}
                  role="option"
                  aria-selected={active.value === hits.value.length}
                  class={`search-more${active.value === hits.value.length ? " active" : ""}`}
                  onClick={loadMore}
                >
                  {loadingMore.value ? "Loading more…" : "Load more"}
                </li>
              )}
            </ul>
          )}
          {state.value === "loading" && hits.value.length === 0 && (
            <p class="search-note">Searching…</p>
          )}
          {state.value === "done" && hits.value.length === 0 && (
            <p class="search-note">
              No messages match <q>{answered.value}</q>. Try fewer or shorter words.
            </p>
          )}
          {error.value && state.value !== "loading" && (
            <p class="search-note error">{error.value}</p>
          )}
        </div>
      )}
      <p class="visually-hidden" aria-live="polite">{announcement.value}</p>
    </div>
  );
}
