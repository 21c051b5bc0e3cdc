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

/**
 * Most ACKs one acknowledgement may take to report every SACK range changed since the last:
 * up to 4 × 4 = 16 ranges.
 * @example
 * MAX_SACK_PAGES //=> 4
 */
export const MAX_SACK_PAGES = 4;

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

/** A segment held out of order; `arrival` orders the SACK ranges. */
interface Held extends Delivered {
  readonly arrival: number;
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
  /** Segments held out of order, each with the count of arrivals when it arrived. */
  readonly #held = new Map<number, Held>();
  #arrivals = 0;
  /** `#arrivals` when {@link sackPages} last ran: later arrivals are not reported yet. */
  #reported = 0;
  /** {@link #ranges} until the held segments change: a pump asks for it for every segment. */
  #rangesCache: readonly { start: number; end: number; latest: number }[] | undefined;
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
      this.#held.set(seq, { payload, fin, arrival: ++this.#arrivals });
      this.#rangesCache = undefined;
      return { arrival: "out-of-order", delivered: [] };
    }
    const delivered: Delivered[] = [{ payload, fin }];
    this.#next++;
    for (let item = this.#held.get(this.#next); item !== undefined; ) {
      this.#held.delete(this.#next);
      this.#rangesCache = undefined;
      delivered.push(item);
      this.#next++;
      item = this.#held.get(this.#next);
    }
    return { arrival: "in-order", delivered };
  }

  /**
   * Up to `max` SACK ranges of the held segments, the most recently changed first, as RFC 2018
   * asks: the range holding the latest arrival, then the others by their latest arrival.
   * Reporting the lowest ranges instead would leave those between them and the latest
   * unreported, and their segments sent again for nothing.
   */
  sack(max = MAX_SACK_RANGES): { start: number; end: number }[] {
    return this.#ranges()
      .slice(0, max)
      .map(({ start, end }) => ({ start, end }));
  }

  /**
   * The SACK ranges to send now, in pages of up to `max`. The first page, for the segment
   * about to leave, is {@link sack}. Each further page, for an ACK of its own, holds more of the
   * ranges changed since the last call: one turn's datagrams can make more than `max` new
   * ranges (5 % loss among packed datagrams does), and a range never reported is a range its
   * sender takes for lost. At most `maxPages` pages.
   */
  sackPages(max = MAX_SACK_RANGES, maxPages = MAX_SACK_PAGES): { start: number; end: number }[][] {
    const ranges = this.#ranges();
    const reported = this.#reported;
    this.#reported = this.#arrivals;
    const page = ({ start, end }: { start: number; end: number }) => ({ start, end });
    const pages = [ranges.slice(0, max).map(page)];
    // Sorted by latest arrival: the changed ranges come first.
    let changed = ranges.findIndex((range) => range.latest <= reported);
    if (changed === -1) changed = ranges.length;
    for (let from = max; from < changed && pages.length < maxPages; from += max) {
      pages.push(ranges.slice(from, Math.min(from + max, changed)).map(page));
    }
    return pages;
  }

  /** Ranges of held numbers, each with its latest arrival, the most recent first. */
  #ranges(): readonly { start: number; end: number; latest: number }[] {
    if (this.#rangesCache !== undefined) return this.#rangesCache;
    const numbers = [...this.#held.keys()].sort((a, b) => a - b);
    const ranges: { start: number; end: number; latest: number }[] = [];
    for (const seq of numbers) {
      const { arrival } = this.#held.get(seq) as Held;
      const last = ranges.at(-1);
      if (last !== undefined && seq === last.end) {
        last.end++;
        last.latest = Math.max(last.latest, arrival);
      } else ranges.push({ start: seq, end: seq + 1, latest: arrival });
    }
    this.#rangesCache = ranges.sort((a, b) => b.latest - a.latest);
    return this.#rangesCache;
  }
}
