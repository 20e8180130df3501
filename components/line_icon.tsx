// A decorative line icon (Feather-like strokes on a 24-unit grid), shared by the chat's buttons and file cards.

/** An icon drawn with the path `d`; hidden from screen readers (the control carries the name). */
export function LineIcon(
  { d, size = 20, class: className = "icon", strokeWidth = 2 }: {
    d: string;
    size?: number;
    class?: string;
    strokeWidth?: number;
  },
) {
  return (
    <svg
      class={className}
      viewBox="0 0 24 24"
      width={size}
      height={size}
      aria-hidden="true"
      fill="none"
      stroke="currentColor"
      stroke-width={strokeWidth}
      stroke-linecap="round"
      stroke-linejoin="round"
    >
      <path d={d} />
    </svg>
  );
}
