/**
 * What became of each message a row sent, from its receipts in arrival order: the one reading of
 * the arrivals that the sparkline and the HTML plots share.
 */

import type { Arrivals } from "./internal/row.js";

/** What became of one message. */
export type Fate = "inOrder" | "late" | "lost";

/** Each message's fate, and which receipts were repeats. */
export interface ArrivalOrder {
  /** By sequence number, 0 to `sent` − 1. */
  readonly fates: readonly Fate[];
  /** Per receipt, in arrival order: a repeat of a message received before. */
  readonly repeat: readonly boolean[];
  /** Per receipt: the first receipt of a message numbered lower than one received before it. */
  readonly late: readonly boolean[];
  /** Messages received more than once. */
  readonly duplicated: ReadonlySet<number>;
}

/**
 * Reads the arrivals the way udp's SequenceTracker counts: a first receipt numbered below the
 * highest number seen before it came late; a second receipt of a number is a repeat.
 * @example
 * arrivalOrder({ seq: [0, 2, 1, 1], atMs: [0, 1, 2, 3] }, 4).fates //=> ["inOrder", "late", "inOrder", "lost"]
 */
export function arrivalOrder(arrivals: Arrivals, sent: number): ArrivalOrder {
  const fates: Fate[] = Array.from({ length: sent }, () => "lost");
  const seen = new Set<number>();
  const duplicated = new Set<number>();
  const repeat: boolean[] = [];
  const late: boolean[] = [];
  let highest = -1;
  for (const seq of arrivals.seq) {
    const again = seen.has(seq);
    repeat.push(again);
    late.push(!again && seq < highest);
    if (again) {
      duplicated.add(seq);
      continue;
    }
    seen.add(seq);
    if (seq < sent) fates[seq] = seq < highest ? "late" : "inOrder";
    highest = Math.max(highest, seq);
  }
  return { fates, repeat, late, duplicated };
}
