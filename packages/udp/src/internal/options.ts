/**
 * Private helpers for options: defaults applied once, and argument checks that name the
 * option and the bad value.
 */

/**
 * `{ ...defaults, ...options }`, except that a field the caller set to `undefined` keeps its
 * default (callers often forward optional flags as they are).
 */
export function _applyDefaults<D extends object, O extends object>(defaults: D, options: O): D & O {
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) merged[key] = value;
  }
  return merged as D & O;
}

/**
 * Checks an integer option.
 * @throws {TypeError} when `value` is not a number; {RangeError} when it is not an integer from
 *   `min` to `max`.
 */
export function _checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a number, got ${typeof value} (${String(value)})`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/**
 * Checks a number option that may be fractional (or `Infinity`, when `max` allows it).
 * @throws {TypeError} when `value` is not a number; {RangeError} when it is NaN or outside
 *   `min`–`max`.
 */
export function _checkNumber(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a number, got ${typeof value} (${String(value)})`);
  }
  if (Number.isNaN(value) || value < min || value > max) {
    throw new RangeError(`${name} must be a number from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/**
 * The size in bytes of a payload given as bytes or as a string (UTF-8).
 * @throws {TypeError} when it is neither.
 */
export function _payloadBytes(payload: Uint8Array | string): number {
  if (typeof payload === "string") return Buffer.byteLength(payload);
  if (payload instanceof Uint8Array) return payload.byteLength;
  throw new TypeError(`payload must be a Uint8Array or a string, got ${typeof payload}`);
}
