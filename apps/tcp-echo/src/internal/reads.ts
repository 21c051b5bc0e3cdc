/**
 * No framing at all, as in the tutorial's C programs: each message is what one `read()` of the
 * socket returned (at most `maxBytes`, the C programs' 255), and a message is sent as its bytes.
 * The stream keeps no boundaries, so this is only safe for one short message each way.
 */

import type { Framing } from "@socket-lab/tcp";

/** The tutorial's `read(sockfd, buffer, 255)`: at most 255 bytes per read. */
export const TUTORIAL_READ_BYTES = 255;

/** Messages are the reads themselves, split to at most `maxBytes` each. */
export function reads(maxBytes = TUTORIAL_READ_BYTES): Framing<Buffer> {
  return {
    name: "reads",
    maxBytes,
    createDecoder: () => ({
      push(chunk: Uint8Array): Buffer[] {
        const pieces: Buffer[] = [];
        for (let at = 0; at < chunk.length; at += maxBytes) {
          pieces.push(Buffer.from(chunk.subarray(at, at + maxBytes)));
        }
        return pieces;
      },
      end: () => [],
      bufferedBytes: 0,
    }),
    encodedLength: (message) => message.length,
    encodeInto: (message, target, offset) => offset + message.copy(target, offset),
    encode: (message) => Buffer.from(message),
  };
}

/**
 * The tutorial's `fgets(buffer, 255, stdin)`: the first line of stdin with its `\n`, at most
 * `size - 1` bytes (less at the end of input; empty when there is none).
 */
export async function fgets(size: number, input: NodeJS.ReadableStream): Promise<Buffer> {
  let read = Buffer.alloc(0);
  for await (const chunk of input) {
    read = Buffer.concat([read, Buffer.from(chunk as Uint8Array)]);
    if (read.includes(10) || read.length >= size - 1) break;
  }
  const newline = read.indexOf(10);
  return read.subarray(0, Math.min(size - 1, newline === -1 ? read.length : newline + 1));
}
