/**
 * Argument checks with Node's codes and Node's wording (`@socket-lab/core/internal`, not public
 * API). A value of the wrong type is a TypeError `ERR_INVALID_ARG_TYPE`, a value of the right
 * type that is not allowed a TypeError `ERR_INVALID_ARG_VALUE`, a number outside its range a
 * RangeError `ERR_OUT_OF_RANGE`:
 *
 * ```
 * The "timeoutMs" option must be of type number. Received type string ('5')
 * The "direction" option must be one of: 'both', 'to-server'. Received 'up'
 * The value of "window" is out of range. It must be an integer >= 1. Received 0
 * ```
 *
 * A name with a dot is a property (`"backoff.factor"` → `The "backoff.factor" property`), a
 * name ending in ` argument` is a positional argument (`"handler argument"` → `The "handler"
 * argument`), any other name an option.
 */

import { inspect } from "node:util";

/** The codes an argument error carries, as Node's own. */
export type ArgumentErrorCode =
  | "ERR_INVALID_ARG_TYPE"
  | "ERR_INVALID_ARG_VALUE"
  | "ERR_OUT_OF_RANGE";

/** A bad argument: a TypeError or RangeError with Node's `code`. */
export type ArgumentError = (TypeError | RangeError) & { code: ArgumentErrorCode };

/** The largest delay `setTimeout` takes, in ms (2^31 − 1, about 24.8 days); longer fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * `ERR_INVALID_ARG_TYPE`: `value` is not of the type `name` takes. `expected` follows "must be":
 * `"of type number"`, `"an instance of AbortSignal"`, `"of type string or an instance of Uint8Array"`.
 */
export function invalidArgType(name: string, expected: string, value: unknown): ArgumentError {
  return coded(
    new TypeError(`${subject(name)} must be ${expected}. Received ${describeType(value)}`),
    "ERR_INVALID_ARG_TYPE",
  );
}

/** `ERR_INVALID_ARG_VALUE`: `value` has the right type but is not allowed; `reason` says why. */
export function invalidArgValue(
  name: string,
  value: unknown,
  reason = "is invalid",
): ArgumentError {
  let shown = inspect(value);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
  return coded(
    new TypeError(`${subject(name)} ${reason}. Received ${shown}`),
    "ERR_INVALID_ARG_VALUE",
  );
}

/** `ERR_OUT_OF_RANGE`: `value` is outside what `name` takes; `range` follows "It must be". */
export function outOfRange(name: string, range: string, value: unknown): ArgumentError {
  return coded(
    new RangeError(
      `The value of "${bare(name)}" is out of range. It must be ${range}. Received ${describeNumber(value)}`,
    ),
    "ERR_OUT_OF_RANGE",
  );
}

/**
 * An integer from `min` to `max`; `-0` comes back as `0`.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` unless a number (a bigint is not).
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for NaN, ±Infinity, a fraction or a value out of range.
 */
export function checkInteger(
  name: string,
  value: unknown,
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== "number") throw invalidArgType(name, "of type number", value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw outOfRange(name, describeRange("an integer", min, max), value);
  }
  return value === 0 ? 0 : value;
}

/**
 * A number from `min` to `max`, fractions allowed; `-0` comes back as `0`. NaN never passes,
 * Infinity only when `max` is Infinity. Pass `Number.MAX_VALUE` as `max` for "any finite number".
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` unless a number.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for NaN or a value out of range.
 */
export function checkNumber(name: string, value: unknown, min = -Infinity, max = Infinity): number {
  if (typeof value !== "number") throw invalidArgType(name, "of type number", value);
  if (!(value >= min && value <= max)) {
    throw outOfRange(name, describeRange("a number", min, max), value);
  }
  return value === 0 ? 0 : value;
}

/** A whole number of milliseconds a timer can wait: an integer from `min` to {@link MAX_TIMER_MS}. */
export function checkMs(name: string, value: unknown, min = 0): number {
  return checkInteger(name, value, min, MAX_TIMER_MS);
}

/** @throws {TypeError} `ERR_INVALID_ARG_TYPE` unless `value` is a boolean. */
export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw invalidArgType(name, "of type boolean", value);
  return value;
}

/** @throws {TypeError} `ERR_INVALID_ARG_TYPE` unless `value` is a string. */
export function checkString(name: string, value: unknown): string {
  if (typeof value !== "string") throw invalidArgType(name, "of type string", value);
  return value;
}

/** @throws {TypeError} `ERR_INVALID_ARG_TYPE` unless `value` is a function. */
export function checkFunction<F extends (...args: never[]) => unknown>(
  name: string,
  value: unknown,
): F {
  if (typeof value !== "function") throw invalidArgType(name, "of type function", value);
  return value as F;
}

/** @throws {TypeError} `ERR_INVALID_ARG_VALUE` unless `value` is one of `allowed`. */
export function checkOneOf<T>(name: string, value: unknown, allowed: readonly T[]): T {
  if (!(allowed as readonly unknown[]).includes(value)) {
    const list = allowed.map((a) => inspect(a)).join(", ");
    throw invalidArgValue(name, value, `must be one of: ${list}`);
  }
  return value as T;
}

/** @throws {TypeError} `ERR_INVALID_ARG_TYPE` unless `value` is an AbortSignal or `undefined`. */
export function checkSignal(
  value: unknown,
  name = "signal",
): asserts value is AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw invalidArgType(name, "an instance of AbortSignal", value);
  }
}

function coded(error: TypeError | RangeError, code: ArgumentErrorCode): ArgumentError {
  return Object.assign(error, { code });
}

/** `The "x" option`, `The "a.b" property` or `The "x" argument`. */
function subject(name: string): string {
  if (name.endsWith(ARGUMENT)) return `The "${bare(name)}" argument`;
  return `The "${name}" ${name.includes(".") ? "property" : "option"}`;
}

const ARGUMENT = " argument";

/** `name` without a trailing ` argument`. */
function bare(name: string): string {
  return name.endsWith(ARGUMENT) ? name.slice(0, -ARGUMENT.length) : name;
}

/** `an integer >= 1 && <= 10`, `a number >= 0`, `a finite number`. */
function describeRange(kind: string, min: number, max: number): string {
  const finite = max === Number.MAX_VALUE;
  const bounds: string[] = [];
  if (min !== -Infinity && min !== Number.MIN_SAFE_INTEGER && min !== -Number.MAX_VALUE) {
    bounds.push(`>= ${min}`);
  }
  if (max !== Infinity && max !== Number.MAX_SAFE_INTEGER && !finite) bounds.push(`<= ${max}`);
  const what = finite ? kind.replace(/^an? /, "a finite ") : kind;
  return bounds.length === 0 ? what : `${what} ${bounds.join(" && ")}`;
}

/** What Node's ERR_INVALID_ARG_TYPE says it received: `type string ('5')`, `an instance of Foo`. */
function describeType(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "function") {
    return value.name === "" ? "function" : `function ${value.name}`;
  }
  if (typeof value === "object") {
    const constructorName = (value as { constructor?: { name?: string } }).constructor?.name;
    return constructorName ? `an instance of ${constructorName}` : inspect(value, { depth: -1 });
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `type ${typeof value} (${shown})`;
}

/** What Node's ERR_OUT_OF_RANGE says it received: `0`, `-0`, `4_294_967_296`, `5n`. */
function describeNumber(value: unknown): string {
  if (typeof value === "number" && Number.isInteger(value) && Math.abs(value) > 2 ** 32) {
    return groupDigits(String(value));
  }
  if (typeof value === "bigint") {
    const digits = String(value);
    return `${value > 2n ** 32n || value < -(2n ** 32n) ? groupDigits(digits) : digits}n`;
  }
  return inspect(value);
}

/** `4294967296` → `4_294_967_296`, as Node prints large numbers in range errors. */
function groupDigits(digits: string): string {
  const sign = digits.startsWith("-") ? "-" : "";
  const body = sign === "" ? digits : digits.slice(1);
  return sign + body.replace(/\B(?=(\d{3})+$)/g, "_");
}
