// length-prefixed-stream ships no types; these cover what the benchmark uses.
declare module "length-prefixed-stream" {
  import type { Transform } from "node:stream";
  /** A Transform from bytes to messages, each read after its varint length prefix. */
  export function decode(options?: { limit?: number; allowEmpty?: boolean }): Transform;
  /** A Transform from messages to bytes, each written after its varint length prefix. */
  export function encode(): Transform;
}
