/**
 * The seeded pseudo-random number generator behind every netsim decision: mulberry32, a
 * 32-bit generator by Tommy Ettinger, small and fast, and good enough to pick which packets
 * to drop (it is not for cryptography).
 */

import { checkSeed } from "./internal/validate.js";

/** A source of numbers in [0, 1), like `Math.random`, but repeatable from its seed. */
export type Random = () => number;

/** The seed every netsim option uses when none is given. */
export const DEFAULT_SEED = 1;

/**
 * Makes a mulberry32 generator. The same seed always gives the same sequence; each call
 * returns the next 32-bit output divided by 2^32, so values lie in [0, 1) on a grid of 2^-32.
 *
 * @param seed An integer from 0 to 4,294,967,295 (2^32 − 1).
 * @throws {RangeError} when `seed` is not an integer in that range; {TypeError} when it is not
 *   a number.
 * @example
 * const random = mulberry32(1);
 * random() //=> 0.6270739405881613
 * random() //=> 0.002735721180215478
 */
export function mulberry32(seed: number): Random {
  let state = checkSeed("seed", seed);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Derives an independent seed for one of several streams that share a user's seed (a link's
 * reply direction, a relay's n-th connection), so those streams do not repeat each other:
 * murmur3's 32-bit finaliser over `seed` mixed with the stream number.
 */
export function deriveSeed(seed: number, stream: number): number {
  let h = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
