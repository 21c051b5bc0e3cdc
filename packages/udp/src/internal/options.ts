/**
 * Private: the size of a payload. Option checks and defaults are in `@socket-lab/core/internal`.
 */

import { invalidArgType } from "@socket-lab/core/internal";

/**
 * The size in bytes of a payload given as bytes or as a string (UTF-8).
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when it is neither.
 */
export function payloadSize(payload: Uint8Array | string): number {
  if (typeof payload === "string") return Buffer.byteLength(payload);
  if (payload instanceof Uint8Array) return payload.byteLength;
  throw invalidArgType("data argument", "of type string or an instance of Uint8Array", payload);
}
