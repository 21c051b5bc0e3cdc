/**
 * Private: `tcp-echo-client --rechunk`. A re-chunking relay (netsim) runs inside the client,
 * between it and the server, and cuts the bytes into small random pieces, one per write. The
 * client then prints, before each reply, the reads (`recv`) its own socket made since the one
 * before: a stream has no message boundaries, and the line framing finds the message again.
 */

import {
  type Endpoint,
  formatTraceEvent,
  type InetEndpoint,
  type TraceEvent,
  type TraceListener,
} from "@socket-lab/core";
import { type ChunkingRelay, startChunkingRelay } from "@socket-lab/netsim";

/** Smallest and largest piece the relay writes, in bytes. */
export const RECHUNK_MIN_BYTES = 1;
export const RECHUNK_MAX_BYTES = 16;
/** Least time between two pieces, in ms, so each one reaches the client as a read of its own. */
const RECHUNK_PACE_MS = 1;

/** One read of the client's socket: its descriptor (when Node shows it) and the bytes read. */
export type Read = Extract<TraceEvent, { type: "recv" }>;

/** The relay inside the client, and what the client prints with it. */
export interface Rechunk {
  /** Where the client connects instead of the server: 127.0.0.1 and the relay's port. */
  readonly endpoint: InetEndpoint;
  /** The client's trace: records each recv, then passes every event on to `trace`. */
  readonly trace: TraceListener;
  /** The reads since the last reply; emptied by each call. */
  takeReads(): Read[];
  close(): Promise<void>;
}

/**
 * Starts the relay to `server`. `seed` decides the piece sizes, so a run repeats.
 * @example Fragment: the client's relay to a server on port 7000; tcp-echo's README shows a run
 * const rechunk = await startRechunk({ transport: "tcp", host: "127.0.0.1", port: 7000 }, 1, undefined);
 * // after the reply "Hello from client", the reads' bytes: 3, 14, 1
 */
export async function startRechunk(
  server: Endpoint,
  seed: number,
  trace: TraceListener | undefined,
): Promise<Rechunk> {
  const relay: ChunkingRelay = await startChunkingRelay({
    target: server,
    chunking: { mode: "random", min: RECHUNK_MIN_BYTES, max: RECHUNK_MAX_BYTES },
    paceMs: RECHUNK_PACE_MS,
    seed,
  });
  const { endpoint } = relay;
  if (endpoint.transport === "unix") throw new Error("the relay listens on TCP, not a unix path");
  let reads: Read[] = [];
  return {
    endpoint,
    trace: (event) => {
      if (event.type === "recv") reads.push(event);
      trace?.(event);
    },
    takeReads() {
      const taken = reads;
      reads = [];
      return taken;
    },
    close: () => relay.close(),
  };
}

/**
 * One read as the client prints it: in strace's words, as `--trace` shows it.
 * @example
 * formatRead({ type: "recv", fd: 19, bytes: 3 }) //=> "recv(19) = 3"
 */
export function formatRead(read: Read): string {
  return formatTraceEvent(read);
}
