/**
 * The receiver's half of selective repeat: which numbers arrived, the ones held because an
 * earlier one is missing, and the SACK ranges that tell the sender so. Numbers are plain
 * counts from 0. Pure bookkeeping: no timer, no socket.
 *
 * Memory is bounded by the window: a segment is taken only if its number is below
 * `next + room`, where `room` is what the reader has not yet used up of the capacity. So the
 * segments held plus the messages waiting for the reader never exceed `capacity`.
 */

import { checkInteger } from "@socket-lab/core/internal";
import { MAX_SACK_RANGES } from "./header.js";

/** What became of one arriving segment. */
export type Arrival =
  /** It was the next expected: delivered, with any held segments it made consecutive. */
  | "in-order"
  /** It is held until the ones before it arrive. */
  | "out-of-order"
  /** Already delivered or already held: dropped. */
  | "duplicate"
  /** Beyond the window: dropped (the sender will send it again). */
  | "out-of-window";

/** A message (or the FIN) delivered in order. */
export interface Delivered {
  readonly payload: Buffer;
  readonly fin: boolean;
}

/** The result of {@link ReceiveWindow.accept}. */
export interface AcceptResult {
  readonly arrival: Arrival;
  /** In order, what this segment made deliverable (empty unless `arrival` is "in-order"). */
  readonly delivered: readonly Delivered[];
}

/** The receiver's window. */
export class ReceiveWindow {
  readonly capacity: number;
  #next = 0;
  readonly #held = new Map<number, Delivered>();
  /** The latest number held out of order: its range goes first in the SACK (RFC 2018). */
  #latest = -1;
  #finalSeq: number | undefined;

  /** @param capacity segments held plus messages waiting for the reader, at most. */
  constructor(capacity: number) {
    this.capacity = checkInteger("capacity argument", capacity, 1);
  }

  /** The next number expected: the cumulative acknowledgement. */
  get next(): number {
    return this.#next;
  }

  /** Segments held out of order. */
  get held(): number {
    return this.#held.size;
  }

  /** Whether the FIN was delivered: nothing more will come. */
  get finished(): boolean {
    return this.#finalSeq !== undefined && this.#next > this.#finalSeq;
  }

  /**
   * Takes one arriving segment. `room` is what the window has left beyond `next` (capacity
   * minus messages the reader has not taken); a FIN carries nothing and always has room for
   * itself.
   */
  accept(seq: number, payload: Buffer, fin: boolean, room: number): AcceptResult {
    if (seq < this.#next || this.#held.has(seq)) return { arrival: "duplicate", delivered: [] };
    if (seq >= this.#next + Math.max(room, fin ? 1 : 0)) {
      return { arrival: "out-of-window", delivered: [] };
    }
    if (this.#finalSeq !== undefined && seq > this.#finalSeq) {
      // Nothing follows a FIN: a number past it is made up.
      return { arrival: "out-of-window", delivered: [] };
    }
    if (fin) this.#finalSeq = seq;
    if (seq !== this.#next) {
      this.#held.set(seq, { payload, fin });
      this.#latest = seq;
      return { arrival: "out-of-order", delivered: [] };
    }
    const delivered: Delivered[] = [{ payload, fin }];
    this.#next++;
    for (let item = this.#held.get(this.#next); item !== undefined; ) {
      this.#held.delete(this.#next);
      delivered.push(item);
      this.#next++;
      item = this.#held.get(this.#next);
    }
    return { arrival: "in-order", delivered };
  }

  /**
   * Up to `max` SACK ranges of the held segments: the one holding the latest arrival first,
   * then the others from the lowest up.
   */
  sack(max = MAX_SACK_RANGES): { start: number; end: number }[] {
    if (this.#held.size === 0) return [];
    const numbers = [...this.#held.keys()].sort((a, b) => a - b);
    const ranges: { start: number; end: number }[] = [];
    let start = numbers[0] as number;
    let end = start + 1;
    for (let i = 1; i < numbers.length; i++) {
      const seq = numbers[i] as number;
      if (seq === end) end++;
      else {
        ranges.push({ start, end });
        start = seq;
        end = seq + 1;
      }
    }
    ranges.push({ start, end });
    const latest = ranges.findIndex((r) => r.start <= this.#latest && this.#latest < r.end);
    if (latest > 0) ranges.unshift(...ranges.splice(latest, 1));
    return ranges.slice(0, max);
  }
}
