// The composer: the message box with @mentions, reply banner and character count, and files attached by button, paste or drop (chips with progress, cancel and errors).
import { type Signal, useComputed, useSignal } from "@preact/signals";
import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import type { Attachment, Message } from "../db/store.ts";
import { excerptOf } from "../chat/excerpt.ts";
import { bodyLength } from "../chat/message_text.ts";
import { formatSize, type Upload, type UploadQueue } from "../client/uploads.ts";
import { useMentionPicker } from "./mention_picker.tsx";
import { FileIcon, fileKind } from "./attachments.tsx";
import { LineIcon } from "./line_icon.tsx";

/** Props of {@link Composer}. */
export interface ComposerProps {
  roomSlug: string;
  meId: number;
  /** Whether `@room` is offered (accounts only). */
  allowRoom: boolean;
  roomName: string;
  maxChars: number;
  /** Sends a message: its text (may be empty when files go with it) and its files. */
  onSend: (body: string, attachments: Attachment[]) => void;
  /** The text changed (for reporting that I am typing). */
  onTyped: (text: string) => void;
  /** Who else is typing, as a sentence ("" when nobody is). */
  typing: string;
  onEditLast: () => boolean;
  replyTo: Message | null;
  onCancelReply: () => void;
  area: { current: HTMLTextAreaElement | null };
  /** The files being attached (also fed by drops onto the conversation). */
  uploads: UploadQueue;
}

// Feather-like line icons: a paperclip, and the × of a chip.
const PAPERCLIP =
  "M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48";
const CROSS = "M18 6 6 18M6 6l12 12";

/** Whether a drag carries files (not text or a link dragged from the page). */
function carriesFiles(event: DragEvent): boolean {
  return Array.from(event.dataTransfer?.types ?? []).includes("Files");
}

/**
 * Dropping files onto an element (the conversation): handlers to spread on it, and whether
 * files are being dragged over it (to show the drop zone). A file dropped elsewhere in the page
 * is ignored rather than opened in place of the chat.
 */
export function useFileDrop(onFiles: (files: File[]) => void) {
  const active = useSignal(false);
  const depth = useRef(0);
  useEffect(() => {
    const ignore = (e: DragEvent) => {
      if (carriesFiles(e) && !e.defaultPrevented) {
        e.preventDefault();
        if (e.dataTransfer) e.dataTransfer.dropEffect = "none";
      }
    };
    addEventListener("dragover", ignore);
    addEventListener("drop", ignore);
    return () => {
      removeEventListener("dragover", ignore);
      removeEventListener("drop", ignore);
    };
  }, []);
  return {
    active,
    handlers: {
      onDragEnter(e: DragEvent) {
        if (!carriesFiles(e)) return;
        e.preventDefault();
        depth.current++;
        active.value = true;
      },
      onDragOver(e: DragEvent) {
        if (!carriesFiles(e)) return;
        e.preventDefault();
        if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
        active.value = true;
      },
      onDragLeave(e: DragEvent) {
        if (!carriesFiles(e)) return;
        depth.current = Math.max(0, depth.current - 1);
        if (depth.current === 0) active.value = false;
      },
      onDrop(e: DragEvent) {
        if (!carriesFiles(e)) return;
        e.preventDefault();
        depth.current = 0;
        active.value = false;
        const files = Array.from(e.dataTransfer?.files ?? []);
        if (files.length) onFiles(files);
      },
    },
  };
}

/** One file in the composer: name, size, progress or error, and cancel/remove. */
function UploadChip({ upload, onRemove }: { upload: Upload; onRemove: () => void }) {
  const running = upload.state === "uploading" || upload.state === "preview";
  const percent = upload.size ? Math.round(upload.loaded / upload.size * 100) : 0;
  const kind = fileKind(upload.attachment?.type ?? "");
  return (
    <li class={`upload-chip ${upload.state}`}>
      <FileIcon kind={upload.attachment ? kind : "file"} size={20} />
      <span class="chip-text">
        <span class="chip-name" title={upload.name}>{upload.name}</span>
        <span class="chip-size">
          {upload.state === "preview"
            ? "Preparing preview…"
            : upload.state === "uploading"
            ? `${formatSize(upload.loaded)} of ${formatSize(upload.size)}`
            : formatSize(upload.size)}
        </span>
        {running && (
          <span
            class="chip-progress"
            role="progressbar"
            aria-label={`Uploading ${upload.name}`}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={percent}
          >
            <span class="chip-progress-bar" style={{ width: `${percent}%` }} />
          </span>
        )}
        {upload.error && <span class="chip-error" role="alert">{upload.error}</span>}
      </span>
      <button
        type="button"
        class="chip-remove"
        aria-label={`${running ? "Cancel upload of" : "Remove"} ${upload.name}`}
        title={running ? "Cancel upload" : "Remove"}
        onClick={onRemove}
      >
        <LineIcon d={CROSS} size={16} />
      </button>
    </li>
  );
}

/** The files in the composer, as chips. */
function UploadChips({ uploads, area }: { uploads: UploadQueue; area: ComposerProps["area"] }) {
  const list = uploads.uploads.value;
  if (list.length === 0) return null;
  return (
    <ul class="upload-chips" aria-label="Files to send">
      {list.map((upload) => (
        <UploadChip
          key={upload.key}
          upload={upload}
          onRemove={() => {
            uploads.remove(upload.key);
            area.current?.focus();
          }}
        />
      ))}
    </ul>
  );
}

/** What the hint under the box says about the files, or null to show the usual hint. */
function uploadHint(uploads: UploadQueue, waiting: Signal<boolean>): string | null {
  const running =
    uploads.uploads.value.filter((u) => u.state === "uploading" || u.state === "preview").length;
  if (running > 0) {
    const files = running === 1 ? "1 file" : `${running} files`;
    return waiting.value
      ? `Sending as soon as ${files} ${running === 1 ? "is" : "are"} uploaded…`
      : `Uploading ${files}… Enter sends once ${running === 1 ? "it is" : "they are"} done.`;
  }
  return null;
}

/** The box to write and send messages, with files. */
export function Composer(
  {
    roomName,
    maxChars,
    onSend,
    onTyped,
    typing,
    onEditLast,
    replyTo,
    onCancelReply,
    area,
    roomSlug,
    meId,
    allowRoom,
    uploads,
  }: ComposerProps,
) {
  const text = useSignal("");
  const waiting = useSignal(false);
  const picker = useRef<HTMLInputElement>(null);
  const length = useComputed(() => bodyLength(text.value));
  const tooLong = useComputed(() => length.value > maxChars);
  const mentions = useMentionPicker({
    roomSlug,
    meId,
    allowRoom,
    area,
    setText: (value) => text.value = value,
  });
  // Browsers without CSS `field-sizing`: the box follows its wrapped text (up to its CSS max).
  useLayoutEffect(() => {
    const el = area.current;
    if (!el || CSS.supports?.("field-sizing", "content")) return;
    el.style.height = "auto";
    el.style.height = `${el.scrollHeight + el.offsetHeight - el.clientHeight}px`;
  }, [text.value]);

  const busy = uploads.busy.value;
  const files = uploads.ready.value;
  // Enter pressed while files were uploading: send once they are.
  useEffect(() => {
    if (waiting.value && !busy) {
      waiting.value = false;
      submit();
    }
  }, [busy]);

  function submit(event?: Event) {
    event?.preventDefault();
    if (tooLong.value) return;
    if (uploads.busy.value) {
      waiting.value = true;
      return;
    }
    const ready = uploads.ready.value;
    if (text.value.trim() === "" && ready.length === 0) return;
    onSend(text.value.trim() === "" ? "" : text.value, ready);
    text.value = "";
    uploads.clear();
  }

  function onKeyDown(event: KeyboardEvent) {
    if (mentions.onKeyDown(event)) return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) submit(event);
    else if (
      event.key === "ArrowUp" && text.value === "" && !event.shiftKey && !event.altKey &&
      !event.ctrlKey && !event.metaKey && uploads.uploads.value.length === 0 && onEditLast()
    ) {
      event.preventDefault();
    } else if (event.key === "Escape" && waiting.value) {
      event.preventDefault();
      waiting.value = false;
    } else if (event.key === "Escape" && replyTo) {
      event.preventDefault();
      onCancelReply();
    }
  }

  /** Pasted files are attached (a paste that also carries text pastes the text). */
  function onPaste(event: ClipboardEvent) {
    const data = event.clipboardData;
    const pasted = Array.from(data?.files ?? []);
    if (pasted.length === 0 || data?.getData("text/plain")) return;
    event.preventDefault();
    uploads.add(pasted);
  }

  const rows = Math.min(8, text.value.split("\n").length);
  const hint = uploadHint(uploads, waiting);
  return (
    <form class="composer" aria-label="Send a message" onSubmit={submit}>
      <p class="typing-indicator" aria-live="polite">{typing}</p>
      {replyTo && (
        <div class="replying" id="replying-to">
          <span class="replying-text">
            Replying to <strong>{replyTo.author.name}</strong>
            <span class="replying-excerpt">
              {replyTo.deleted ? "message deleted" : excerptOf(replyTo.body)}
            </span>
          </span>
          <button
            type="button"
            class="link"
            aria-label={`Cancel reply to ${replyTo.author.name}`}
            onClick={() => {
              onCancelReply();
              area.current?.focus();
            }}
          >
            Cancel
          </button>
        </div>
      )}
      <UploadChips uploads={uploads} area={area} />
      {mentions.list}
      <button
        type="button"
        class="attach"
        aria-label="Attach files"
        title="Attach files"
        onClick={() => picker.current?.click()}
      >
        <LineIcon d={PAPERCLIP} />
      </button>
      <input
        ref={picker}
        type="file"
        multiple
        hidden
        aria-label="Files to attach"
        onChange={(e) => {
          const input = e.currentTarget as HTMLInputElement;
          if (input.files?.length) uploads.add(Array.from(input.files));
          input.value = "";
          area.current?.focus();
        }}
      />
      <textarea
        ref={area}
        id="composer-input"
        name="body"
        rows={rows}
        placeholder={replyTo
          ? `Reply to ${replyTo.author.name}`
          : files.length || busy
          ? "Add a message (optional)"
          : `Message ${roomName}`}
        aria-label={`Message ${roomName}`}
        aria-describedby={replyTo ? "replying-to composer-hint" : "composer-hint"}
        value={text.value}
        onInput={(e) => {
          text.value = (e.currentTarget as HTMLTextAreaElement).value;
          onTyped(text.value);
          mentions.update();
        }}
        onKeyDown={onKeyDown}
        onKeyUp={(e) => {
          if (["ArrowLeft", "ArrowRight", "Home", "End"].includes(e.key)) {
            mentions.update();
          }
        }}
        onPaste={onPaste}
        onClick={mentions.update}
        onBlur={mentions.close}
        {...mentions.inputProps}
        aria-invalid={tooLong.value}
      />
      <button type="submit" disabled={tooLong.value || busy}>Send</button>
      <span class="visually-hidden" role="status">
        {waiting.value ? "The message is sent as soon as the files are uploaded." : ""}
      </span>
      <p
        id="composer-hint"
        class={`composer-hint${tooLong.value ? " error" : ""}${hint ? " uploading" : ""}`}
      >
        {length.value > maxChars - 200
          ? `${length.value.toLocaleString("en")} / ${maxChars.toLocaleString("en")} characters`
          : hint ?? "Enter to send, Shift+Enter for a new line, ↑ to edit your last message"}
      </p>
    </form>
  );
}
