// What one can do with a message: the actions bar, reaction chips and picker, the inline
// editor and the delete confirmation. Rendered by the chat island (and on the server with it).
import { useEffect, useRef } from "preact/hooks";
import { useSignal } from "@preact/signals";
import type { Reaction } from "../db/store.ts";
import { normalizeEmoji } from "../chat/emoji.ts";
import { ConfirmDialog } from "./confirm_dialog.tsx";
import { LineIcon } from "./line_icon.tsx";

/** Emoji offered first in the picker. */
export const FREQUENT_EMOJI = ["👍", "❤️", "😂", "🎉", "😮", "😢", "👀", "✅"];

// Small line icons (Feather-like strokes), so that no emoji font is needed for the actions.
const ICONS = {
  reply: "M9 14 4 9l5-5M4 9h11a5 5 0 0 1 5 5v6",
  react: "M12 21a9 9 0 1 1 0-18 9 9 0 0 1 0 18zM8 14s1.5 2 4 2 4-2 4-2M9 9h.01M15 9h.01",
  edit: "M12 20h9M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z",
  delete: "M3 6h18M8 6V4h8v2M19 6l-1 14H6L5 6M10 11v6M14 11v6",
  more: "M5 12h.01M12 12h.01M19 12h.01",
};

function Icon({ name }: { name: keyof typeof ICONS }) {
  return <LineIcon d={ICONS[name]} size={18} strokeWidth={name === "more" ? 3 : 2} />;
}

/** The actions of one message: buttons shown on hover and keyboard focus (a toggle on touch). */
export function MessageToolbar(
  props: {
    label: string;
    open: boolean;
    onToggle: () => void;
    onReply?: () => void;
    onReact?: () => void;
    onEdit?: () => void;
    onDelete?: () => void;
    reactOpen?: boolean;
  },
) {
  const { onReply, onReact, onEdit, onDelete } = props;
  if (!onReply && !onReact && !onEdit && !onDelete) return null;
  return (
    <div class={props.open ? "actions open" : "actions"}>
      <button
        type="button"
        class="actions-toggle"
        aria-expanded={props.open}
        aria-label={`Actions for ${props.label}`}
        title="Actions"
        onClick={props.onToggle}
      >
        <Icon name="more" />
      </button>
      <div class="action-buttons" role="group" aria-label={`Actions for ${props.label}`}>
        {onReply && (
          <button type="button" class="action reply" title="Reply" onClick={onReply}>
            <Icon name="reply" />
            <span class="action-label">Reply</span>
          </button>
        )}
        {onReact && (
          <button
            type="button"
            class="action react"
            title="Add a reaction"
            aria-expanded={props.reactOpen ?? false}
            onClick={onReact}
          >
            <Icon name="react" />
            <span class="action-label">React</span>
          </button>
        )}
        {onEdit && (
          <button type="button" class="action edit" title="Edit" onClick={onEdit}>
            <Icon name="edit" />
            <span class="action-label">Edit</span>
          </button>
        )}
        {onDelete && (
          <button type="button" class="action delete" title="Delete" onClick={onDelete}>
            <Icon name="delete" />
            <span class="action-label">Delete</span>
          </button>
        )}
      </div>
    </div>
  );
}

/** "Ada", "Ada and Bob", "Ada, Bob and 2 others", or "3 people" when no name is known. */
export function whoReacted(
  memberIds: number[],
  names: ReadonlyMap<number, string>,
  meId: number,
): string {
  const known: string[] = [];
  let unknown = 0;
  for (const id of memberIds) {
    if (id === meId) known.unshift("you");
    else if (names.has(id)) known.push(names.get(id)!);
    else unknown++;
  }
  if (known.length === 0) return unknown === 1 ? "1 person" : `${unknown} people`;
  if (unknown > 0) {
    known.push(unknown === 1 ? "1 other" : `${unknown} others`);
  }
  const text = known.length === 1
    ? known[0]
    : `${known.slice(0, -1).join(", ")} and ${known.at(-1)}`;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Chips under a message: emoji, count, mine pressed; a click toggles mine. */
export function ReactionChips(
  { reactions, meId, names, onToggle }: {
    reactions: Reaction[];
    meId: number;
    names: ReadonlyMap<number, string>;
    onToggle?: (emoji: string, add: boolean) => void;
  },
) {
  if (reactions.length === 0) return null;
  return (
    <ul class="reactions" aria-label="Reactions">
      {reactions.map((r) => {
        const mine = r.memberIds.includes(meId);
        const who = whoReacted(r.memberIds, names, meId);
        return (
          <li key={r.emoji}>
            <button
              type="button"
              class={mine ? "chip mine" : "chip"}
              aria-pressed={mine}
              aria-label={`${r.emoji} ${r.count}: ${who}. ${
                mine ? "Remove your reaction" : "React with " + r.emoji
              }`}
              disabled={!onToggle}
              onClick={() => onToggle?.(r.emoji, !mine)}
            >
              <span class="chip-emoji">{r.emoji}</span>
              <span class="chip-count">{r.count}</span>
              <span class="who" aria-hidden="true">{who}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

/** A small emoji picker: frequent emoji, and any other typed or chosen from the system's. */
export function ReactionPicker(
  { onPick, onClose }: { onPick: (emoji: string) => void; onClose: () => void },
) {
  const other = useSignal("");
  const error = useSignal("");
  const root = useRef<HTMLDivElement>(null);

  useEffect(() => {
    root.current?.querySelector("button")?.focus();
  }, []);

  function submit(event: Event) {
    event.preventDefault();
    const emoji = normalizeEmoji(other.value.trim());
    if (!emoji) {
      error.value = "Type or paste one emoji.";
      return;
    }
    onPick(emoji);
  }

  return (
    <div
      class="picker"
      role="dialog"
      aria-label="Add a reaction"
      ref={root}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <div class="picker-frequent">
        {FREQUENT_EMOJI.map((emoji) => (
          <button
            type="button"
            key={emoji}
            class="picker-emoji"
            aria-label={`React with ${emoji}`}
            onClick={() => onPick(emoji)}
          >
            {emoji}
          </button>
        ))}
      </div>
      <form class="picker-other" onSubmit={submit}>
        <label>
          <span class="visually-hidden">Another emoji</span>
          <input
            name="emoji"
            placeholder="Other emoji"
            autoComplete="off"
            value={other.value}
            aria-invalid={error.value !== ""}
            aria-describedby={error.value ? "picker-error" : undefined}
            onInput={(e) => {
              other.value = e.currentTarget.value;
              error.value = "";
            }}
          />
        </label>
        <button type="submit">Add</button>
        <button type="button" class="link" onClick={onClose}>Cancel</button>
      </form>
      {error.value && <p id="picker-error" class="error" role="alert">{error.value}</p>}
    </div>
  );
}

/** The inline editor: Enter saves, Escape cancels, Shift+Enter adds a line. */
export function MessageEditor(
  { initial, maxChars, onSave, onCancel, length }: {
    initial: string;
    maxChars: number;
    onSave: (body: string) => Promise<string | null>;
    onCancel: () => void;
    length: (text: string) => number;
  },
) {
  const text = useSignal(initial);
  const error = useSignal("");
  const saving = useSignal(false);
  const area = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    const el = area.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);

  const tooLong = length(text.value) > maxChars;

  async function save(event?: Event) {
    event?.preventDefault();
    if (saving.value) return;
    if (text.value.trim() === "") {
      error.value = "A message cannot be empty; delete it instead.";
      return;
    }
    if (tooLong) return;
    if (text.value === initial) return onCancel();
    saving.value = true;
    const problem = await onSave(text.value);
    saving.value = false;
    if (problem) error.value = problem;
  }

  function onKeyDown(event: KeyboardEvent) {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      onCancel();
    } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      save(event);
    }
  }

  return (
    <form class="editor" onSubmit={save}>
      <textarea
        ref={area}
        name="edit"
        aria-label="Edit message"
        aria-describedby="edit-hint"
        aria-invalid={tooLong || error.value !== ""}
        rows={Math.min(8, text.value.split("\n").length)}
        value={text.value}
        onInput={(e) => {
          text.value = e.currentTarget.value;
          error.value = "";
        }}
        onKeyDown={onKeyDown}
      />
      <div class="editor-bar">
        <span id="edit-hint" class="hint">
          {tooLong
            ? `${length(text.value).toLocaleString("en")} / ${
              maxChars.toLocaleString("en")
            } characters`
            : "Enter to save · Escape to cancel"}
        </span>
        <button type="button" class="link" onClick={onCancel}>Cancel</button>
        <button type="submit" disabled={saving.value || tooLong}>Save</button>
      </div>
      {error.value && <p class="error" role="alert">{error.value}</p>}
    </form>
  );
}

/** Asks before deleting a message: a modal dialog (focus inside, Escape cancels). */
export function ConfirmDelete(
  { excerpt, author, mine, onConfirm, onCancel }: {
    excerpt: string;
    author: string;
    mine: boolean;
    onConfirm: () => void;
    onCancel: () => void;
  },
) {
  return (
    <ConfirmDialog
      title={mine ? "Delete your message?" : `Delete ${author}'s message?`}
      confirmLabel="Delete"
      onConfirm={onConfirm}
      onCancel={onCancel}
    >
      <q>{excerpt}</q> will be erased for everyone. This cannot be undone.
    </ConfirmDialog>
  );
}
