/**
 * What a run can be told: the defaults `pnpm demo` uses, the limits of each setting and why,
 * and the three ways the TCP relay can re-split the byte stream.
 */

import { UDP_SAFE_PAYLOAD_IPV4 } from "@socket-lab/core";
import type { Chunking } from "@socket-lab/netsim";
import { REQUEST_HEADER_BYTES, SEQUENCED_HEADER_BYTES } from "@socket-lab/udp";

/** Default number of messages each row sends. */
export const COMPARE_COUNT = 1_000;
/** Default message size in bytes, the 16-byte sequenced header included. */
export const COMPARE_SIZE = 256;
/** Default probability that the lossy link drops a datagram. */
export const COMPARE_LOSS = 0.05;
/** Default probability that the lossy link sends a datagram twice. */
export const COMPARE_DUPLICATE = 0.02;
/** Default probability that the lossy link holds a datagram back until the next one passes it. */
export const COMPARE_REORDER = 0.05;
/** Default seed of every netsim decision. */
export const COMPARE_SEED = 42;
/** Default delay of every datagram and TCP piece, in ms: none. */
export const COMPARE_DELAY_MS = 0;
/** Default extra random delay per datagram, in ms: none. */
export const COMPARE_JITTER_MS = 0;

/** Most messages a row sends: the receivers remember every sequence number they saw. */
export const MAX_COUNT = 1_000_000;
/** Smallest message: the 16-byte sequenced header and nothing else. */
export const MIN_SIZE = SEQUENCED_HEADER_BYTES;
/**
 * Largest message: 1,464 bytes, so that with the request/response row's 8-byte header every
 * datagram stays within the 1,472-byte UDP payload that crosses an Ethernet MTU unfragmented.
 */
export const MAX_SIZE = UDP_SAFE_PAYLOAD_IPV4 - REQUEST_HEADER_BYTES;
/** Longest `delayMs` or `jitterMs`: 10 s. */
export const MAX_DELAY_MS = 10_000;

/**
 * Longest the lossy link holds a datagram back for reordering, in ms: 1 s, so that it is always
 * a later datagram that releases it (a datagram overtaken in the same order every run), never
 * a timer. Datagrams still held when a row's last message has passed are released as the
 * link closes.
 */
export const REORDER_HOLD_MS = 1_000;

/**
 * The request/response row's wait for a reply to a first try, in ms, before the delays: 10 ms,
 * some 50 times a round trip on loopback. Each retry waits twice as long as the one before,
 * up to 8 times this; a request gets {@link REQUEST_RETRIES} retries.
 */
export const REQUEST_TIMEOUT_MS = 10;

/** Retries the request/response row allows each request: 11 tries in all. */
export const REQUEST_RETRIES = 10;

/** How the TCP relay re-splits the stream, by name, for a given message size. */
export const CHUNKINGS = {
  /** Pieces of 1 to 2 × size bytes: messages are cut apart and glued to their neighbours. */
  random: (size: number): Chunking => ({ mode: "random", min: 1, max: 2 * size }),
  /** One byte per write: the most a stream can be cut up. */
  bytes: (): Chunking => ({ mode: "bytes", size: 1 }),
  /** Reads joined into pieces of 8 × size bytes (or what is there after 1 ms): many messages per write. */
  coalesce: (size: number): Chunking => ({ mode: "coalesce", maxBytes: 8 * size, maxDelayMs: 1 }),
} as const;

/** A way the TCP relay re-splits the stream: "random", "bytes" or "coalesce". */
export type ChunkingName = keyof typeof CHUNKINGS;

/** The names of {@link CHUNKINGS}, in the order `--help` lists them. */
export const CHUNKING_NAMES = Object.keys(CHUNKINGS) as ChunkingName[];

/** Default way the TCP relay re-splits the stream. */
export const COMPARE_CHUNKING: ChunkingName = "random";

/** Words for a chunking, e.g. "random pieces of 1–512 bytes". */
export function describeChunking(name: ChunkingName, size: number): string {
  const chunking = CHUNKINGS[name](size);
  switch (chunking.mode) {
    case "random":
      return `random pieces of ${chunking.min}–${chunking.max} bytes`;
    case "bytes":
      return `${chunking.size}-byte pieces`;
    case "coalesce":
      return `pieces of ${chunking.maxBytes} bytes (or what came within ${chunking.maxDelayMs} ms)`;
  }
}

/** The settings of a run: every option of `runComparison` with its default applied. */
export interface Settings {
  /** Messages each row sends. */
  readonly count: number;
  /** Bytes per message, the 16-byte sequenced header included. */
  readonly size: number;
  /** Probability that the lossy link drops a datagram. */
  readonly loss: number;
  /** Probability that the lossy link sends a datagram twice. */
  readonly duplicate: number;
  /** Probability that the lossy link holds a datagram back until the next one passes it. */
  readonly reorder: number;
  /** Delay of every datagram and every piece of the TCP stream, in ms. */
  readonly delayMs: number;
  /** Extra random delay per datagram, 0 to this many ms. */
  readonly jitterMs: number;
  /** Seed of every netsim decision. */
  readonly seed: number;
  /** How the TCP relay re-splits the stream. */
  readonly chunking: ChunkingName;
  /**
   * Share of TCP and UDP packets the kernel drops (a `withKernelLoss` namespace), or `null`:
   * with a share, the rows send straight to their servers and netsim's settings above go unused.
   */
  readonly kernelLoss: number | null;
}

/** The rows of a comparison, in the order they run and print. */
export type RowId = "tcp" | "udp" | "udpRetries" | "udpWindow";

/** What every row shows in the table. */
export const ROW_LABELS: Readonly<Record<RowId, string>> = {
  tcp: "TCP stream",
  udp: "UDP datagrams",
  udpRetries: "UDP + retries",
  udpWindow: "UDP + sliding window",
};

/** Every row, in the order they run and print: the pictures and the kernel figures follow it. */
export const ROW_IDS = Object.keys(ROW_LABELS) as RowId[];
