/**
 * netsim's two domain checks, made of `@socket-lab/core/internal`'s (Node's codes and wording).
 */

import { checkInteger, checkNumber } from "@socket-lab/core/internal";

/** A probability: a number from 0 to 1. */
export function checkRate(name: string, value: unknown): number {
  return checkNumber(name, value, 0, 1);
}

/** A seed: an unsigned 32-bit integer. */
export function checkSeed(name: string, value: unknown): number {
  return checkInteger(name, value, 0, 0xffff_ffff);
}
