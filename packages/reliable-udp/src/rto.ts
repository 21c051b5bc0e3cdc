/**
 * The retransmission timeout, computed as RFC 6298 says: a smoothed round-trip time (SRTT),
 * its variation (RTTVAR), RTO = SRTT + max(G, 4 × RTTVAR), bounded, doubled on each timeout.
 * Pure arithmetic; the connection feeds it samples and reads `rtoMs`.
 */

import { checkNumber, outOfRange } from "@socket-lab/core/internal";

/**
 * RTO before the first sample, ms: RFC 6298 (2.1) says 1 s.
 * @example
 * DEFAULT_INITIAL_RTO_MS //=> 1000
 */
export const DEFAULT_INITIAL_RTO_MS = 1_000;
/**
 * Least RTO, ms. RFC 6298 (2.4) asks 1 s; Linux TCP uses 200 ms, and so do we: a loopback
 * RTT is well under 1 ms, so 1 s would only make every lost tail wait.
 */
export const DEFAULT_MIN_RTO_MS = 200;
/** Largest RTO, ms: RFC 6298 (2.5) allows a cap of at least 60 s. */
export const DEFAULT_MAX_RTO_MS = 60_000;
/** G of RFC 6298, the clock granularity, ms: our timers tick in milliseconds. */
export const CLOCK_GRANULARITY_MS = 1;

/** What {@link RtoEstimator} takes. */
export interface RtoOptions {
  /** RTO before the first RTT sample, ms. @default DEFAULT_INITIAL_RTO_MS (1000) */
  initialRtoMs?: number;
  /** Least RTO, ms. @default DEFAULT_MIN_RTO_MS (200) */
  minRtoMs?: number;
  /** Largest RTO, backoff included, ms. @default DEFAULT_MAX_RTO_MS (60000) */
  maxRtoMs?: number;
}

const ALPHA = 1 / 8;
const BETA = 1 / 4;
const K = 4;

/**
 * The RFC 6298 estimator. Karn's rule is the caller's half: never pass a sample measured on a
 * retransmitted segment (the connection only samples segments sent once).
 * @example
 * const rto = new RtoEstimator({ minRtoMs: 0 });
 * rto.sample(100); // first: SRTT = 100, RTTVAR = 50, RTO = 100 + 4 × 50
 * rto.rtoMs //=> 300
 * rto.backoff();
 * rto.rtoMs //=> 600
 */
export class RtoEstimator {
  readonly #initial: number;
  readonly #min: number;
  readonly #max: number;
  #srtt: number | undefined;
  #minRtt: number | undefined;
  #rttvar = 0;
  /** RTO before backoff. */
  #base: number;
  #backoffs = 0;

  /** @throws {RangeError} for a negative or non-finite bound, or `minRtoMs > maxRtoMs`. */
  constructor(options: RtoOptions = {}) {
    this.#initial = options.initialRtoMs ?? DEFAULT_INITIAL_RTO_MS;
    this.#min = options.minRtoMs ?? DEFAULT_MIN_RTO_MS;
    this.#max = options.maxRtoMs ?? DEFAULT_MAX_RTO_MS;
    for (const [name, value] of [
      ["initialRtoMs", this.#initial],
      ["minRtoMs", this.#min],
      ["maxRtoMs", this.#max],
    ] as const) {
      checkNumber(name, value, 0, Number.MAX_VALUE);
    }
    if (this.#min > this.#max)
      throw outOfRange("minRtoMs", `<= maxRtoMs (${this.#max})`, this.#min);
    this.#base = this.#clamp(this.#initial);
  }

  /** Smoothed RTT, ms; `undefined` before the first sample. */
  get srttMs(): number | undefined {
    return this.#srtt;
  }

  /** Least RTT sampled, ms; `undefined` before the first sample. */
  get minRttMs(): number | undefined {
    return this.#minRtt;
  }

  /** RTT variation, ms; 0 before the first sample. */
  get rttvarMs(): number {
    return this.#rttvar;
  }

  /** The timeout to use now, ms: the computed RTO doubled once per backoff, within the bounds. */
  get rtoMs(): number {
    return Math.min(this.#base * 2 ** this.#backoffs, this.#max);
  }

  /** Timeouts in a row since the last sample. */
  get backoffs(): number {
    return this.#backoffs;
  }

  /**
   * Takes one RTT measurement, ms (RFC 6298 2.2 and 2.3), and ends any backoff (5.7: a new
   * sample recomputes the RTO). Negative or non-finite samples are ignored.
   */
  sample(rttMs: number): void {
    if (!Number.isFinite(rttMs) || rttMs < 0) return;
    if (this.#minRtt === undefined || rttMs < this.#minRtt) this.#minRtt = rttMs;
    if (this.#srtt === undefined) {
      this.#srtt = rttMs;
      this.#rttvar = rttMs / 2;
    } else {
      // RTTVAR first, with the old SRTT, as 2.3 orders it.
      this.#rttvar = (1 - BETA) * this.#rttvar + BETA * Math.abs(this.#srtt - rttMs);
      this.#srtt = (1 - ALPHA) * this.#srtt + ALPHA * rttMs;
    }
    this.#base = this.#clamp(this.#srtt + Math.max(CLOCK_GRANULARITY_MS, K * this.#rttvar));
    this.#backoffs = 0;
  }

  /** A retransmission timer expired: the next RTO is twice this one, up to `maxRtoMs` (5.5). */
  backoff(): void {
    if (this.rtoMs < this.#max) this.#backoffs++;
  }

  #clamp(ms: number): number {
    return Math.min(Math.max(ms, this.#min), this.#max);
  }
}
