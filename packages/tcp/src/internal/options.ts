/**
 * tcp's own argument check; the common ones (integers, booleans, functions, signals) are in
 * `@socket-lab/core/internal`.
 */

import { invalidArgType } from "@socket-lab/core/internal";
import type { Framing } from "../framing.js";

/**
 * Throws unless `value` looks like a {@link Framing}, such as `lines()` or `lengthPrefixed()`.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE`.
 */
export function checkFraming(value: unknown): asserts value is Framing<unknown> {
  const framing = value as Partial<Framing<unknown>> | null;
  if (
    typeof framing !== "object" ||
    framing === null ||
    typeof framing.createDecoder !== "function" ||
    typeof framing.encodedLength !== "function" ||
    typeof framing.encodeInto !== "function"
  ) {
    throw invalidArgType("framing", "a Framing such as lines() or lengthPrefixed()", value);
  }
}
