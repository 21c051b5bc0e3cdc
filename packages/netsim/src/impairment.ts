/**
 * The impairment plan: a pure, seeded function that decides the fate of each datagram, with no
 * socket inside. The lossy link asks it once per datagram; callers and tests can ask their own
 * copy to know in advance exactly what the link will do.
 */

import { checkMs, checkOneOf } from "@socket-lab/core/internal";
import { checkRate, checkSeed } from "./internal/validate.js";
import { DEFAULT_SEED, deriveSeed, mulberry32 } from "./prng.js";

/** Which way a datagram travels through a lossy link: from a client, or back to one. */
export type Direction = "to-server" | "to-client";

/** The two directions, in the order the link reports them. */
export const DIRECTIONS: readonly Direction[] = ["to-server", "to-client"];

/** What `createImpairment()` takes. The rates and delays mean the same as the lossy link's. */
export interface ImpairmentOptions {
  /** Probability that a datagram is dropped, from 0 to 1. @default 0 */
  loss?: number;
  /** Probability that a datagram that is not dropped is sent twice, from 0 to 1. @default 0 */
  duplicate?: number;
  /**
   * Probability that a datagram that is not dropped is held back so that a later one overtakes
   * it, from 0 to 1 (see the lossy link for exactly when it is released). @default 0
   */
  reorder?: number;
  /** Delay added to every datagram that is not dropped, in whole milliseconds. @default 0 */
  delayMs?: number;
  /**
   * Extra random delay on top of `delayMs`, in whole milliseconds: uniform over
   * 0, 1, …, jitterMs. @default 0
   */
  jitterMs?: number;
  /** Seed of the generator, an integer from 0 to 2^32 − 1. @default 1 */
  seed?: number;
  /**
   * Which of a lossy link's two decision streams to reproduce: "to-server" draws from `seed`
   * itself, "to-client" from a seed derived from it, so replies are not decided like requests.
   * @default "to-server"
   */
  direction?: Direction;
}

/** The fate of one datagram. A dropped datagram is never also duplicated, reordered or delayed. */
export interface ImpairmentDecision {
  /** The datagram is discarded. */
  readonly drop: boolean;
  /** The datagram is sent twice, the copy right after the original. */
  readonly duplicate: boolean;
  /** The datagram (and its copy) is held back until a later datagram has passed it. */
  readonly reorder: boolean;
  /** How long the datagram waits before it is sent (or held), in milliseconds; 0 if dropped. */
  readonly delayMs: number;
}

/** A seeded sequence of decisions. */
export interface Impairment {
  /**
   * Draws the next decision. Every call draws exactly four numbers, in this order, whatever
   * they decide: loss, duplicate, reorder, jitter. So the n-th decision depends only on the
   * options and n, never on timing.
   */
  decide(): ImpairmentDecision;
  /** How many decisions have been drawn so far. */
  readonly decisions: number;
}

const DEFAULTS = {
  loss: 0,
  duplicate: 0,
  reorder: 0,
  delayMs: 0,
  jitterMs: 0,
  seed: DEFAULT_SEED,
  direction: "to-server",
} as const satisfies Required<ImpairmentOptions>;

/**
 * Checks impairment options and returns them complete. Shared with the lossy link, so both
 * reject the same values with the same words.
 * @throws {RangeError} naming the option and the value: a rate outside 0..1, a negative or
 *   fractional delay, a seed outside 0..2^32 − 1, an unknown direction.
 */
export function resolveImpairmentOptions(options: ImpairmentOptions): Required<ImpairmentOptions> {
  const resolved = { ...DEFAULTS, ...options };
  checkRate("loss", resolved.loss);
  checkRate("duplicate", resolved.duplicate);
  checkRate("reorder", resolved.reorder);
  checkMs("delayMs", resolved.delayMs);
  checkMs("jitterMs", resolved.jitterMs);
  checkMs("delayMs + jitterMs", resolved.delayMs + resolved.jitterMs);
  checkSeed("seed", resolved.seed);
  checkOneOf("direction", resolved.direction, DIRECTIONS);
  return resolved;
}

/**
 * Makes an impairment plan. Given the options a lossy link was started with (and a direction),
 * it yields the very decisions the link applies to that direction's datagrams, in arrival order.
 *
 * @throws {RangeError} naming the option and the value, e.g. `loss must be a probability from
 *   0 to 1, got 1.5`; {TypeError} for a value that is not a number.
 * @example
 * const plan = createImpairment({ loss: 0.5, seed: 7 });
 * plan.decide() //=> { drop: true, duplicate: false, reorder: false, delayMs: 0 }
 * plan.decide() //=> { drop: false, duplicate: false, reorder: false, delayMs: 0 }
 */
export function createImpairment(options: ImpairmentOptions = {}): Impairment {
  const { loss, duplicate, reorder, delayMs, jitterMs, seed, direction } =
    resolveImpairmentOptions(options);
  const random = mulberry32(direction === "to-server" ? seed : deriveSeed(seed, 1));
  let decisions = 0;
  return {
    decide() {
      decisions++;
      // Always four draws, in a fixed order, so one outcome never shifts the next decision.
      const drop = random() < loss;
      const twice = random() < duplicate;
      const held = random() < reorder;
      const jitter = Math.floor(random() * (jitterMs + 1));
      if (drop) return { drop, duplicate: false, reorder: false, delayMs: 0 };
      return { drop, duplicate: twice, reorder: held, delayMs: delayMs + jitter };
    },
    get decisions() {
      return decisions;
    },
  };
}
