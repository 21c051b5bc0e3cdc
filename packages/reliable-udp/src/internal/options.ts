/** Option checks that name the option and the bad value, and defaults applied once. */

/** `{ ...defaults, ...options }`, except that a field set to `undefined` keeps its default. */
export function withDefaults<D extends object, O extends object>(defaults: D, options: O): D & O {
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) merged[key] = value;
  }
  return merged as D & O;
}

/** Largest delay `setTimeout` takes, ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * @throws {TypeError} when `value` is not a number; {RangeError} when it is not an integer from
 *   `min` to `max`.
 */
export function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a number, got ${typeof value} (${String(value)})`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}
