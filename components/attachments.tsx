// A message's files: images inline at their aspect ratio (opening a full-size viewer), audio and video players, and a download card for everything else.
import { useSignal } from "@preact/signals";
import { useEffect, useId, useRef } from "preact/hooks";
import type { Attachment } from "../db/store.ts";
import { formatSize } from "../client/uploads.ts";
import { LineIcon } from "./line_icon.tsx";

/** Image types shown inline (the server serves exactly these inline). */
const INLINE_IMAGES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"]);
const PLAYABLE = /^(audio\/(mpeg|mp4|ogg|wav|webm|aac|flac)|video\/(mp4|webm|ogg))$/;

/** The box an inline image fits in (CSS px); a message with several images uses a smaller one. */
const SINGLE = { width: 400, height: 320 };
const SEVERAL = { width: 240, height: 200 };

/**
 * The size an image is shown at: its natural aspect ratio, fitted into `box`, never enlarged.
 * Given as the `<img>`'s width and height attributes, the space is kept before it loads.
 */
export function fitInto(
  width: number,
  height: number,
  box: { width: number; height: number },
): { width: number; height: number } {
  const scale = Math.min(1, box.width / width, box.height / height);
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}

/**
 * The image's size as shown: the stored width and height are those of its pixels, before the
 * EXIF orientation the browser applies; the preview (made oriented) tells when they swap.
 */
export function shownSize(file: Attachment): { width: number; height: number } {
  const { width, height, preview } = file;
  if (!width || !height) return { width: preview?.width ?? 1, height: preview?.height ?? 1 };
  const turned = preview && preview.width !== preview.height && width !== height &&
    (preview.width > preview.height) !== (width > height);
  return turned ? { width: height, height: width } : { width, height };
}

/**
 * Pixels above which an image without a preview is not decoded inline (a decompression bomb
 * of a few KB can claim 50,000 × 50,000): it shows as a card to download instead.
 */
const MAX_INLINE_PIXELS = 40_000_000;

/** Whether an attachment shows as an inline image. */
function isImage(a: Attachment): boolean {
  if (!INLINE_IMAGES.has(a.type) || !a.width || !a.height) return false;
  return a.preview !== null || a.width * a.height <= MAX_INLINE_PIXELS;
}

// Line icons by kind of file (Feather-like strokes, as the message actions).
const FILE_ICONS: Record<string, string> = {
  file: "M14 3H6a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V9zM14 3v6h6",
  pdf: "M14 3H6a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V9zM14 3v6h6M8 13h8M8 17h5",
  image:
    "M5 3h14a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zM8.5 10a1.5 1.5 0 1 0 0-3 1.5 1.5 0 0 0 0 3zM21 15l-5-5L5 21",
  audio: "M9 18V5l12-2v13M9 18a3 3 0 1 1-6 0 3 3 0 0 1 6 0zM21 16a3 3 0 1 1-6 0 3 3 0 0 1 6 0z",
  video: "M23 7l-7 5 7 5zM3 5h11a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H3a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2z",
  archive: "M21 8v13H3V8M1 3h22v5H1zM10 12h4",
  text:
    "M14 3H6a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V9zM14 3v6h6M16 13H8M16 17H8M10 9H8",
};

/** The kind of file, for its icon and a word read to screen readers. */
export function fileKind(type: string): keyof typeof FILE_ICONS {
  if (type === "application/pdf") return "pdf";
  if (type.startsWith("image/")) return "image";
  if (type.startsWith("audio/")) return "audio";
  if (type.startsWith("video/")) return "video";
  if (/zip|x-tar|gzip|x-7z|x-rar|x-bzip|x-xz|zstd/.test(type)) return "archive";
  if (type.startsWith("text/") || /json|xml|csv/.test(type)) return "text";
  return "file";
}

/** A line icon (decorative). */
export function FileIcon({ kind, size = 24 }: { kind: string; size?: number }) {
  return <LineIcon class="file-icon" d={FILE_ICONS[kind] ?? FILE_ICONS.file} size={size} />;
}

/** A file as a card: icon, name and size, the whole card a download link. */
function FileCard({ file }: { file: Attachment }) {
  const kind = fileKind(file.type);
  return (
    <a class="file-card" href={file.url} download={file.name} data-kind={kind}>
      <FileIcon kind={kind} size={28} />
      <span class="file-text">
        <span class="visually-hidden">Download</span>
        <span class="file-name">{file.name}</span>
        <span class="file-size">{formatSize(file.size)}</span>
      </span>
    </a>
  );
}

/** An inline image: the preview when there is one, a link to the full size (a viewer once live). */
function InlineImage(
  { file, box, onOpen }: {
    file: Attachment;
    box: { width: number; height: number };
    onOpen?: (file: Attachment, opener: HTMLElement) => void;
  },
) {
  const shown = file.preview ?? file;
  const size = fitInto(shown.width!, shown.height!, box);
  return (
    <a
      class="attachment-image"
      href={file.url}
      aria-haspopup={onOpen ? "dialog" : undefined}
      title={`${file.name} (${formatSize(file.size)})`}
      onClick={onOpen && ((e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        onOpen(file, e.currentTarget as HTMLElement);
      })}
    >
      <img
        src={shown.url}
        alt={file.name}
        width={size.width}
        height={size.height}
        loading="lazy"
        decoding="async"
      />
    </a>
  );
}

/** The full-size viewer: a modal dialog; Escape or Close shut it and focus goes back. */
export function ImageViewer(
  { file, onClose }: { file: Attachment; onClose: () => void },
) {
  const dialog = useRef<HTMLDialogElement>(null);
  const id = useId();
  const fit = useSignal<{ width: number; height: number } | null>(null);
  const full = shownSize(file);
  useEffect(() => {
    const el = dialog.current;
    if (el && !el.open) el.showModal?.();
    el?.querySelector<HTMLButtonElement>("button.close")?.focus();
    const measure = () =>
      fit.value = fitInto(full.width, full.height, {
        width: Math.max(100, innerWidth - 48),
        height: Math.max(100, innerHeight - 140),
      });
    measure();
    addEventListener("resize", measure);
    return () => removeEventListener("resize", measure);
  }, []);
  const size = fit.value ?? fitInto(full.width, full.height, { width: 1200, height: 800 });
  return (
    <dialog
      ref={dialog}
      class="image-viewer"
      aria-labelledby={`${id}-title`}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClick={(e) => {
        // A click on the backdrop (the dialog itself, outside its content) closes it.
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div class="viewer-bar">
        <h2 id={`${id}-title`} class="viewer-title">{file.name}</h2>
        <span class="viewer-size">{formatSize(file.size)}</span>
        <a class="viewer-download" href={file.url} download={file.name}>Download</a>
        <button type="button" class="close" onClick={onClose}>Close</button>
      </div>
      <img
        class="viewer-image"
        src={file.url}
        alt={file.name}
        width={size.width}
        height={size.height}
      />
    </dialog>
  );
}

/** The files of a message, in their order: images first in a row, then players and cards. */
export function Attachments({ files }: { files: Attachment[] }) {
  const viewing = useSignal<Attachment | null>(null);
  const opener = useRef<HTMLElement | null>(null);
  if (files.length === 0) return null;
  const images = files.filter(isImage);
  const others = files.filter((f) => !isImage(f));
  const box = images.length > 1 ? SEVERAL : SINGLE;
  function close() {
    viewing.value = null;
    requestAnimationFrame(() => opener.current?.focus());
  }
  return (
    <div class="attachments">
      {images.length > 0 && (
        <div class="attachment-images">
          {images.map((file) => (
            <InlineImage
              key={file.id}
              file={file}
              box={box}
              onOpen={(f, el) => {
                opener.current = el;
                viewing.value = f;
              }}
            />
          ))}
        </div>
      )}
      {others.map((file) =>
        PLAYABLE.test(file.type)
          ? (
            <div class="attachment-media" key={file.id}>
              {file.type.startsWith("audio/")
                ? <audio controls preload="none" src={file.url} aria-label={file.name} />
                : <video controls preload="metadata" src={file.url} aria-label={file.name} />}
              <FileCard file={file} />
            </div>
          )
          : <FileCard key={file.id} file={file} />
      )}
      {viewing.value && <ImageViewer file={viewing.value} onClose={close} />}
    </div>
  );
}
