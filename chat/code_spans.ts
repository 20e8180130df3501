// Where a message's code is (fenced blocks and `inline spans`), found in linear time, so that
// text rules (emoji shortcodes, mentions) leave code as typed.

/** The [start, end) ranges of code in `text`: fenced blocks and inline code spans. */
export function codeRanges(text: string): [number, number][] {
  const ranges: [number, number][] = [];
  let prose = 0; // where the current stretch of prose began
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf("\n", at);
    const lineEnd = end === -1 ? text.length : end;
    const fence = /^(`{3,}|~{3,})/.exec(text.slice(at, Math.min(lineEnd, at + 64)));
    if (!fence) {
      at = lineEnd + 1;
      continue;
    }
    // A fenced block: to its closing fence, or to the end of the text.
    spans(text, prose, at, ranges);
    const marker = fence[1];
    let close = lineEnd + 1;
    let blockEnd = text.length;
    while (close < text.length) {
      const next = text.indexOf("\n", close);
      const closeEnd = next === -1 ? text.length : next;
      const line = text.slice(close, closeEnd);
      if (line.startsWith(marker) && /^[`~]*[ \t]*$/.test(line.slice(marker.length))) {
        blockEnd = closeEnd;
        break;
      }
      close = closeEnd + 1;
    }
    ranges.push([at, blockEnd]);
    at = prose = blockEnd + 1;
  }
  spans(text, prose, text.length, ranges);
  return ranges.sort((a, b) => a[0] - b[0]);
}

/**
 * Adds the inline code spans of `text[from, to)`: a run of N backticks up to the next run of
 * exactly N. Each run is looked at a bounded number of times (one pointer per run length).
 */
function spans(text: string, from: number, to: number, ranges: [number, number][]): void {
  const runs: { start: number; length: number }[] = [];
  for (let i = from; i < to; i++) {
    if (text[i] !== "`") continue;
    let j = i;
    while (j < to && text[j] === "`") j++;
    runs.push({ start: i, length: j - i });
    i = j - 1;
  }
  const byLength = new Map<number, { indexes: number[]; next: number }>();
  runs.forEach((run, index) => {
    let entry = byLength.get(run.length);
    if (!entry) byLength.set(run.length, entry = { indexes: [], next: 0 });
    entry.indexes.push(index);
  });
  for (let i = 0; i < runs.length; i++) {
    const entry = byLength.get(runs[i].length)!;
    while (entry.next < entry.indexes.length && entry.indexes[entry.next] <= i) entry.next++;
    if (entry.next >= entry.indexes.length) continue; // no closing run: the backticks are text
    const closing = entry.indexes[entry.next];
    ranges.push([runs[i].start, runs[closing].start + runs[closing].length]);
    i = closing;
  }
}

/** `text` with its code replaced by spaces (same length): what text rules look at. */
export function withoutCode(text: string): string {
  let out = "";
  let at = 0;
  for (const [start, end] of codeRanges(text)) {
    out += text.slice(at, start) + " ".repeat(end - start);
    at = end;
  }
  return out + text.slice(at);
}
