/**
 * The congestion window, counted in segments: slow start, then additive increase,
 * multiplicative decrease (RFC 5681, in segments rather than bytes). Pure arithmetic.
 *
 * - Slow start: while `cwnd < ssthresh`, each newly acknowledged segment adds 1 (the window
 *   doubles every round trip).
 * - Congestion avoidance: above `ssthresh`, each newly acknowledged segment adds
 *   `perDatagram / cwnd`: one full datagram's worth of segments per round trip, as TCP adds
 *   one MSS (a full packet). Segments are packed several to a datagram, and loss takes whole
 *   datagrams: growing by one segment per round trip while a loss cuts 30 % of the window
 *   would leave a window of 1 KiB messages in 32 KiB datagrams at a datagram or two.
 * - A loss found by fast retransmit cuts the window to 0.7 of itself:
 *   `ssthresh = cwnd = max(0.7 × cwnd, 2)`, once per recovery episode (the caller decides
 *   when a loss starts a new one). Reno halves; 0.7 is CUBIC's factor (RFC 9438), kinder
 *   to a link that drops at random rather than because it is full. It scales the window, not
 *   the segments in flight, as QUIC (RFC 9002 7.3.2) and Linux's CUBIC do: after SACKed and
 *   lost segments leave the count, the flight is far below the window, and RFC 5681's
 *   `FlightSize / 2` taken that way cut a window of 20 to 2 on one random loss.
 * - A retransmission timeout starts over: `ssthresh = max(0.7 × flight, 2)`, `cwnd = 1`.
 * - A reduction found spurious (the retransmission was not needed) is undone, as the Eifel
 *   response (RFC 4015) does.
 */

import { checkNumber } from "@socket-lab/core/internal";

/**
 * Congestion window a connection starts with, in segments: RFC 6928's ten.
 * @example
 * DEFAULT_INITIAL_CWND //=> 10
 */
export const DEFAULT_INITIAL_CWND = 10;
/**
 * Least window a fast-retransmit loss leaves, and least `ssthresh`, segments: RFC 5681's
 * 2 × SMSS (eq. 4), QUIC's kMinimumWindow (RFC 9002 7.2).
 * @example
 * DEFAULT_MIN_CWND //=> 2
 */
export const DEFAULT_MIN_CWND = 2;
/**
 * What a loss multiplies the window by.
 * @example
 * DECREASE_FACTOR //=> 0.7
 */
export const DECREASE_FACTOR = 0.7;

/** The window and threshold of one connection's sender. */
export class CongestionControl {
  readonly #max: number;
  readonly #min: number;
  #cwnd: number;
  #ssthresh: number;
  /** The window and threshold before the latest reduction, for `undo()`. */
  #before: { cwnd: number; ssthresh: number } | undefined;

  /**
   * @param initialCwnd first window, segments.
   * @param maxCwnd largest window, segments (the most the sender keeps outstanding anyway).
   * @param minCwnd least window a fast-retransmit loss leaves, segments (a timeout still
   *   goes to 1).
   */
  constructor(
    initialCwnd = DEFAULT_INITIAL_CWND,
    maxCwnd = Number.POSITIVE_INFINITY,
    minCwnd = DEFAULT_MIN_CWND,
  ) {
    checkNumber("initialCwnd", initialCwnd, 1);
    checkNumber("maxCwnd", maxCwnd, 1);
    checkNumber("minCwnd", minCwnd, 1);
    this.#max = maxCwnd;
    this.#min = Math.min(minCwnd, maxCwnd);
    this.#cwnd = Math.min(initialCwnd, maxCwnd);
    this.#ssthresh = maxCwnd;
  }

  /** The congestion window, whole segments (at least 1). */
  get cwnd(): number {
    return Math.max(1, Math.floor(this.#cwnd));
  }

  /** The slow-start threshold, segments. */
  get ssthresh(): number {
    return this.#ssthresh;
  }

  /** Whether the window grows exponentially now. */
  get slowStart(): boolean {
    return this.#cwnd < this.#ssthresh;
  }

  /**
   * `segments` newly acknowledged (cumulatively or selectively): grows the window.
   * `perDatagram`: segments a full datagram holds, what congestion avoidance adds per round
   * trip (1 when each segment goes alone).
   */
  onAck(segments: number, perDatagram = 1): void {
    for (let i = 0; i < segments && this.#cwnd < this.#max; i++) {
      this.#cwnd += this.#cwnd < this.#ssthresh ? 1 : perDatagram / this.#cwnd;
    }
    if (this.#cwnd > this.#max) this.#cwnd = this.#max;
  }

  /** A loss found by fast retransmit, the first of its recovery episode: cuts the window. */
  onLoss(): void {
    this.#before = { cwnd: this.#cwnd, ssthresh: this.#ssthresh };
    this.#ssthresh = Math.max(Math.floor(this.#cwnd * DECREASE_FACTOR), this.#min);
    this.#cwnd = this.#ssthresh;
  }

  /** A retransmission timeout, with `flight` segments outstanding: back to one segment. */
  onTimeout(flight: number): void {
    this.#before = { cwnd: this.#cwnd, ssthresh: this.#ssthresh };
    this.#ssthresh = Math.max(Math.floor(flight * DECREASE_FACTOR), this.#min);
    this.#cwnd = 1;
  }

  /** The latest reduction was for a loss that was not one: back to the window before it. */
  undo(): void {
    const before = this.#before;
    if (before === undefined) return;
    this.#before = undefined;
    this.#cwnd = Math.max(this.#cwnd, before.cwnd);
    this.#ssthresh = Math.max(this.#ssthresh, before.ssthresh);
  }
}
