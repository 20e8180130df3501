// Small statistics helpers for the benchmark: percentiles and number formatting.

/** Percentiles (in the samples' unit) of a set of samples. */
export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  count: number;
}

/** Nearest-rank percentiles of `samples` (sorted in place); zeros when there are none. */
export function percentiles(samples: Float64Array): Percentiles {
  const count = samples.length;
  if (count === 0) return { p50: 0, p95: 0, p99: 0, max: 0, mean: 0, count };
  samples.sort();
  const at = (p: number) => samples[Math.min(count - 1, Math.max(0, Math.ceil(p * count) - 1))];
  let sum = 0;
  for (let i = 0; i < count; i++) sum += samples[i];
  return {
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    max: round(samples[count - 1]),
    mean: round(sum / count),
    count,
  };
}

/** Rounds to `digits` decimals (default 1). */
export function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** A whole number with thousands separators. */
export function int(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** A growable list of numbers kept in a Float64Array, for many samples with little garbage. */
export class Samples {
  #data: Float64Array;
  #length = 0;

  constructor(capacity = 1024) {
    this.#data = new Float64Array(Math.max(16, capacity));
  }

  /** Adds one sample. */
  push(value: number): void {
    if (this.#length === this.#data.length) {
      const bigger = new Float64Array(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data[this.#length++] = value;
  }

  /** Number of samples. */
  get length(): number {
    return this.#length;
  }

  /** The samples (a view; sorting it sorts the samples). */
  values(): Float64Array {
    return this.#data.subarray(0, this.#length);
  }
}
