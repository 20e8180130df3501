// "Set topic" in a room's header: an inline form (Enter saves, Escape cancels, focus returns).
import type { Signal } from "@preact/signals";
import { InlineFormFields, useInlineForm } from "./inline_form.tsx";

/** Props of {@link TopicEditor}. */
export interface TopicEditorProps {
  /** The room's slug. */
  room: string;
  /** The topic shown in the header; updated when saved. */
  topic: Signal<string>;
}

/** Sends the topic; answers the problem to show, or null when it was saved. */
async function saveTopic(room: string, value: string, topic: Signal<string>) {
  try {
    const response = await fetch(`/api/rooms/${encodeURIComponent(room)}/topic`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ topic: value }),
    });
    const json = await response.json().catch(() => null);
    if (!response.ok) return json?.error?.message ?? "Could not set the topic.";
    topic.value = json.topic;
    return null;
  } catch {
    return "No connection; try again.";
  }
}

/** Lets a member with an account change the room's topic (the server checks who may). */
export function TopicEditor({ room, topic }: TopicEditorProps) {
  const form = useInlineForm();
  if (!form.editing.value) {
    return (
      <p class="account-links">
        <button
          type="button"
          class="link"
          ref={form.opener}
          onClick={() => form.open(topic.value)}
        >
          Set topic
        </button>
      </p>
    );
  }
  return (
    <form
      class="me editing topic-editing"
      onSubmit={(e) => form.save(e, (value) => saveTopic(room, value, topic))}
    >
      <InlineFormFields
        form={form}
        label="Topic"
        name="topic"
        maxLength={800}
        placeholder="What this room is about"
      />
    </form>
  );
}
