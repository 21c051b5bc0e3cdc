/**
 * Counting what datagrams did on the way: delivered, lost, duplicated, out of order — each
 * counted separately, with the definitions below.
 */

import { checkInteger } from "@socket-lab/core/internal";

/** What one receipt was, as {@link SequenceTracker.record} reports it. */
export type SequenceReceipt = "in-order" | "out-of-order" | "duplicate";

/**
 * The counts of a {@link SequenceTracker}. With the numbers sent being distinct:
 * - `received`: every receipt, duplicates included.
 * - `delivered`: distinct sequence numbers received.
 * - `duplicated`: receipts of a number already received (`received − delivered`).
 * - `outOfOrder`: first receipts whose number is lower than the highest number received
 *   before it. A gap alone (1, 3) is not out of order; the 2 arriving after the 3 is.
 * - `lost`: `sent − delivered`, given how many were sent.
 */
export interface SequenceCounts {
  readonly sent: number;
  readonly received: number;
  readonly delivered: number;
  readonly duplicated: number;
  readonly outOfOrder: number;
  readonly lost: number;
}

/**
 * Counts delivered, duplicated, out-of-order and (given the count sent) lost messages from the
 * sequence numbers a receiver sees. Memory grows with the distinct numbers received.
 *
 * @example
 * const tracker = new SequenceTracker();
 * for (const seq of [1, 3, 2, 2, 5]) tracker.record(seq);
 * tracker.counts(5)
 * //=> { sent: 5, received: 5, delivered: 4, duplicated: 1, outOfOrder: 1, lost: 1 }
 */
export class SequenceTracker {
  readonly #seen = new Set<number>();
  #received = 0;
  #duplicated = 0;
  #outOfOrder = 0;
  #highest = -1;

  /**
   * Records one receipt and says what it was.
   * @throws {RangeError} for a `seq` that is not an integer from 0 to 2³²−1.
   */
  record(seq: number): SequenceReceipt {
    checkInteger("seq", seq, 0, 0xffff_ffff);
    this.#received++;
    if (this.#seen.has(seq)) {
      this.#duplicated++;
      return "duplicate";
    }
    this.#seen.add(seq);
    if (seq < this.#highest) {
      this.#outOfOrder++;
      return "out-of-order";
    }
    this.#highest = seq;
    return "in-order";
  }

  /**
   * The counts so far; `lost` is `sent − delivered`.
   * @param sent How many distinct numbers the sender sent (so far).
   * @throws {RangeError} `ERR_OUT_OF_RANGE` when `sent` is not an integer or is less than
   *   `delivered`; {TypeError} `ERR_INVALID_ARG_TYPE` when it is not a number.
   */
  counts(sent: number): SequenceCounts {
    const delivered = this.#seen.size;
    checkInteger("sent argument", sent, delivered);
    return {
      sent,
      received: this.#received,
      delivered,
      duplicated: this.#duplicated,
      outOfOrder: this.#outOfOrder,
      lost: sent - delivered,
    };
  }
}
