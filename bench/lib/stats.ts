/**
 * Order statistics for benchmark samples: nearest-rank percentiles (no interpolation, so a p99 is a value that was
 * actually observed) and a summary of a sample.
 */

/** The usual figures of one sample. */
export interface Summary {
  readonly count: number;
  readonly min: number;
  readonly median: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** The nearest-rank `q`-quantile (0 < q <= 1) of an ascending array; NaN when it is empty. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

/** The median of any array (the lower middle value for an even count, as nearest-rank does). */
export function median(values: readonly number[]): number {
  return percentile(ascending(values), 0.5);
}

/** Summarizes a sample; every figure is NaN when it is empty. */
export function summarize(values: readonly number[]): Summary {
  const sorted = ascending(values);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count: sorted.length,
    min: sorted[0] ?? Number.NaN,
    median: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
  };
}

function ascending(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}
