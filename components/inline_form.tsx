// One-field inline forms in the room header ("Change name", "Set topic"): Enter saves, Escape
// cancels, and focus goes back to the button that opened the form.
import { type Signal, useSignal } from "@preact/signals";
import type { RefObject } from "preact";
import { useRef } from "preact/hooks";

/** The state of an inline form, from {@link useInlineForm}. */
export interface InlineForm {
  editing: Signal<boolean>;
  draft: Signal<string>;
  error: Signal<string>;
  saving: Signal<boolean>;
  /** The button that opens the form (focus returns to it). */
  opener: RefObject<HTMLButtonElement | null>;
  /** Opens the form with `value` in the field. */
  open(value: string): void;
  /** Closes the form and puts focus back on the opener, once it is shown again. */
  close(): void;
  /** Saves with `run`, which answers a problem to show, or null when it worked. */
  save(event: Event, run: (value: string) => Promise<string | null>): Promise<void>;
}

/** State and behaviour of a one-field inline form. */
export function useInlineForm(): InlineForm {
  const editing = useSignal(false);
  const draft = useSignal("");
  const error = useSignal("");
  const saving = useSignal(false);
  const opener = useRef<HTMLButtonElement>(null);
  function close() {
    editing.value = false;
    requestAnimationFrame(() => opener.current?.focus());
  }
  return {
    editing,
    draft,
    error,
    saving,
    opener,
    open(value) {
      draft.value = value;
      error.value = "";
      editing.value = true;
    },
    close,
    async save(event, run) {
      event.preventDefault();
      saving.value = true;
      const problem = await run(draft.value).finally(() => saving.value = false);
      if (problem) error.value = problem;
      else close();
    },
  };
}

/** The field, Save, Cancel and the error line of an inline form. */
export function InlineFormFields(
  { form, label, name, maxLength, placeholder }: {
    form: InlineForm;
    label: string;
    name: string;
    maxLength: number;
    placeholder?: string;
  },
) {
  return (
    <>
      <label>
        <span class="visually-hidden">{label}</span>
        <input
          name={name}
          value={form.draft.value}
          maxLength={maxLength}
          placeholder={placeholder}
          autoFocus
          aria-invalid={form.error.value !== ""}
          aria-describedby={`${name}-error`}
          onInput={(e) => form.draft.value = e.currentTarget.value}
          onKeyDown={(e) => {
            if (e.key !== "Escape") return;
            e.preventDefault();
            form.close();
          }}
        />
      </label>
      <button type="submit" disabled={form.saving.value}>Save</button>
      <button type="button" class="link" onClick={form.close}>Cancel</button>
      <p id={`${name}-error`} class="error" role="alert">{form.error.value}</p>
    </>
  );
}
