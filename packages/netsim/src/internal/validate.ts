/**
 * Argument checks shared by every netsim entry point. Each throws a TypeError for a value of the
 * wrong type and a RangeError for one out of range, naming the option and the value.
 */

/** The longest timer Node can set, in ms (2^31 − 1); longer ones fire after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

function checkNumber(name: string, value: unknown): number {
  if (typeof value !== "number") {
    const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
    throw new TypeError(`${name} must be a number, got ${shown}`);
  }
  return value;
}

/** A probability: a number from 0 to 1. */
export function checkRate(name: string, value: unknown): number {
  const rate = checkNumber(name, value);
  if (!(rate >= 0 && rate <= 1)) {
    throw new RangeError(`${name} must be a probability from 0 to 1, got ${rate}`);
  }
  return rate;
}

/** An integer from `min` to `max`. */
export function checkInteger(name: string, value: unknown, min: number, max: number): number {
  const n = checkNumber(name, value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${n}`);
  }
  return n;
}

/** A duration: a whole number of milliseconds that a timer can wait. */
export function checkMs(name: string, value: unknown): number {
  return checkInteger(name, value, 0, MAX_TIMER_MS);
}

/** A seed: an unsigned 32-bit integer. */
export function checkSeed(name: string, value: unknown): number {
  return checkInteger(name, value, 0, 0xffff_ffff);
}

/** One of a fixed set of strings. */
export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]) {
  if (!(allowed as readonly unknown[]).includes(value)) {
    const list = allowed.map((a) => `"${a}"`).join(", ");
    throw new RangeError(`${name} must be one of ${list}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}
