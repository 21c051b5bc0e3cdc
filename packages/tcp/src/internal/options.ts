/**
 * Argument checks shared by `listen()` and `connect()`: each throws a TypeError or RangeError
 * naming the option and the value.
 */

import type { Framing } from "../framing.js";

/** The largest delay `setTimeout` takes, in ms (about 24.8 days). */
export const MAX_TIMER_MS = 2_147_483_647;

/** Throws unless `value` is an integer from `min` to `max`. */
export function checkInteger(name: string, value: unknown, min: number, max = Infinity): void {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer, got ${String(value)}`);
  }
  if (value < min || value > max) {
    const range = max === Infinity ? `at least ${min}` : `from ${min} to ${max}`;
    throw new RangeError(`${name} must be ${range}, got ${value}`);
  }
}

/** Throws unless `value` is a finite number of at least `min`. */
export function checkNumber(name: string, value: unknown, min: number): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`${name} must be a finite number, got ${String(value)}`);
  }
  if (value < min) throw new RangeError(`${name} must be at least ${min}, got ${value}`);
}

/** Throws unless `value` is a boolean. */
export function checkBoolean(name: string, value: unknown): void {
  if (typeof value !== "boolean") {
    throw new TypeError(`${name} must be a boolean, got ${String(value)}`);
  }
}

/** Throws unless `value` is a function or, when optional, `undefined`. */
export function checkFunction(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== "function") {
    throw new TypeError(`${name} must be a function, got ${typeof value}`);
  }
}

/** Throws unless `value` looks like a {@link Framing}, such as `lines()` or `lengthPrefixed()`. */
export function checkFraming(value: unknown): asserts value is Framing<unknown> {
  const framing = value as Partial<Framing<unknown>> | null;
  if (
    typeof framing !== "object" ||
    framing === null ||
    typeof framing.createDecoder !== "function" ||
    typeof framing.encodedLength !== "function" ||
    typeof framing.encodeInto !== "function"
  ) {
    throw new TypeError(
      `framing must be a Framing such as lines() or lengthPrefixed(), got ${String(value)}`,
    );
  }
}
