/** Summaries of repeated measurements: medians, spreads and percentiles. */

/** One figure over several repetitions. */
export interface Summary {
  /** The middle repetition (the mean of the two middle ones for an even count). */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Every repetition, in the order measured. */
  readonly samples: readonly number[];
}

/** The median, min and max of `samples` (at least one). */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError("summarize needs at least one sample");
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return {
    median,
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
    samples: [...samples],
  };
}

/**
 * The `p`-th percentile (0–100) of `values`, nearest-rank; sorts `values` in place.
 * @example
 * percentile(Float64Array.of(3, 1, 2), 50) //=> 2
 */
export function percentile(values: Float64Array, p: number): number {
  if (values.length === 0) throw new RangeError("percentile needs at least one value");
  values.sort();
  const rank = Math.ceil((p / 100) * values.length);
  return values[Math.min(values.length, Math.max(1, rank)) - 1] as number;
}
