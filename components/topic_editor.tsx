// "Set topic" in a room's header: an inline form (Enter saves, Escape cancels, focus returns).
import type { Signal } from "@preact/signals";
import { useSignal } from "@preact/signals";
import { useRef } from "preact/hooks";

/** Props of {@link TopicEditor}. */
export interface TopicEditorProps {
  /** The room's slug. */
  room: string;
  /** The topic shown in the header; updated when saved. */
  topic: Signal<string>;
}

/** Lets a member with an account change the room's topic (the server checks who may). */
export function TopicEditor({ room, topic }: TopicEditorProps) {
  const editing = useSignal(false);
  const draft = useSignal("");
  const error = useSignal("");
  const saving = useSignal(false);
  const openButton = useRef<HTMLButtonElement>(null);

  function close() {
    editing.value = false;
    requestAnimationFrame(() => openButton.current?.focus());
  }

  async function save(event: Event) {
    event.preventDefault();
    saving.value = true;
    try {
      const response = await fetch(`/api/rooms/${encodeURIComponent(room)}/topic`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ topic: draft.value }),
      });
      const json = await response.json().catch(() => null);
      if (response.ok) {
        topic.value = json.topic;
        close();
      } else error.value = json?.error?.message ?? "Could not set the topic.";
    } catch {
      error.value = "No connection; try again.";
    } finally {
      saving.value = false;
    }
  }

  if (!editing.value) {
    return (
      <p class="account-links">
        <button
          type="button"
          class="link"
          ref={openButton}
          onClick={() => {
            draft.value = topic.value;
            error.value = "";
            editing.value = true;
          }}
        >
          Set topic
        </button>
      </p>
    );
  }
  return (
    <form class="me editing topic-editing" onSubmit={save}>
      <label>
        <span class="visually-hidden">Topic</span>
        <input
          name="topic"
          value={draft.value}
          maxLength={800}
          placeholder="What this room is about"
          autoFocus
          aria-invalid={error.value !== ""}
          aria-describedby="topic-error"
          onInput={(e) => draft.value = e.currentTarget.value}
          onKeyDown={(e) => {
            if (e.key !== "Escape") return;
            e.preventDefault();
            close();
          }}
        />
      </label>
      <button type="submit" disabled={saving.value}>Save</button>
      <button type="button" class="link" onClick={close}>Cancel</button>
      <p id="topic-error" class="error" role="alert">{error.value}</p>
    </form>
  );
}
