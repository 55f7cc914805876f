/** Percentiles (nearest rank) and histograms of latency samples. */

export interface Distribution {
  n: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of sorted values: the smallest value with at least q of the values at or below it. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = Math.min(n, Math.max(1, Math.ceil(q * n)));
  return sorted[rank - 1]!;
}

/** Summary of the samples; undefined when there are none. */
export function distribution(values: ArrayLike<number>): Distribution | undefined {
  const n = values.length;
  if (n === 0) return undefined;
  const s = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += s[i]!;
  return { n, min: s[0]!, mean: sum / n, p50: percentile(s, 0.5), p90: percentile(s, 0.9), p99: percentile(s, 0.99), max: s[n - 1]! };
}

export interface Histogram {
  /** Bin i holds values in [edges[i], edges[i+1]); the last bin also holds values equal to its upper edge. */
  edges: number[];
  counts: number[];
}

/** A step of 1, 2 or 5 times a power of ten, at least `raw`. */
export function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** Equal-width bins from 0 with a round width, about `bins` of them, covering every value. */
export function histogram(values: ArrayLike<number>, bins = 20): Histogram {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
  const width = niceStep(max / bins);
  const n = Math.max(1, Math.floor(max / width) + 1);
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = Math.max(0, values[i]!);
    counts[Math.min(n - 1, Math.floor(v / width))]!++;
  }
  return { edges: Array.from({ length: n + 1 }, (_, i) => i * width), counts };
}
