// Output of the benchmark: aligned text tables and the PASS/MISS verdict of each target.

/** A target from the issue, checked against this run's figure. */
export interface TargetCheck {
  /** Key in the JSON line. */
  key: string;
  name: string;
  figure: string;
  target: string;
  /** true PASS, false MISS, null not applicable to this run. */
  pass: boolean | null;
  /** Why the verdict needs care (e.g. the run is smaller than the target's setup). */
  note?: string;
}

/** Formats rows as columns separated by two spaces; the first row is the header. */
export function formatTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, cell.length));
  }
  const line = (row: string[]) =>
    row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i])).join("  ")
      .trimEnd();
  const [header, ...body] = rows;
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join(
    "\n",
  );
}

/** PASS, MISS or n/a. */
export function verdict(pass: boolean | null): string {
  return pass === null ? "n/a" : pass ? "PASS" : "MISS";
}

/** The targets as a table with a verdict column. */
export function formatTargets(checks: TargetCheck[]): string {
  return formatTable([
    ["target", "measured", "required", "result", "note"],
    ...checks.map((c) => [c.name, c.figure, c.target, verdict(c.pass), c.note ?? ""]),
  ]);
}
