/**
 * The re-chunking TCP relay: forwards each connection to a target with its byte stream re-split
 * in both directions, proof that framing, not `write()` calls, makes messages.
 */

import { createConnection, createServer, type Server, type Socket } from "node:net";
import {
  DEFAULT_BACKLOG,
  Domain,
  descriptorOf,
  type Endpoint,
  endpointDomain,
  endpointOf,
  explain,
  type SocketError,
  SocketType,
  socketAttributes,
  type TraceListener,
} from "@socket-lab/core";
import {
  abortReason,
  checkMs,
  checkOnError,
  checkSignal,
  invalidArgType,
  onAbort,
  reportError,
  throwIfAborted,
} from "@socket-lab/core/internal";
import { type Chunker, type Chunking, checkChunking, createChunker } from "./chunker.js";
import { streamEndpoint } from "./internal/endpoint.js";
import { checkSeed } from "./internal/validate.js";
import { DEFAULT_SEED, deriveSeed, mulberry32 } from "./prng.js";

/** What `startChunkingRelay()` takes. */
export interface ChunkingRelayOptions {
  /** Where each accepted connection is forwarded: `tcp://127.0.0.1:7000`, `[::1]:7000`, `unix:///tmp/x.sock`. */
  target: string | Endpoint;
  /** Where the relay listens: a TCP endpoint (port 0 lets the system choose) or a unix path. @default "tcp://127.0.0.1:0" */
  listen?: string | Endpoint;
  /** How both directions are re-split. @default { mode: "bytes", size: 1 } */
  chunking?: Chunking;
  /**
   * Latency added to every piece, in whole milliseconds: each piece is written `delayMs` after
   * the read it came from, in order. Throughput is kept (up to the 64 KiB queue). @default 0
   */
  delayMs?: number;
  /**
   * Least time between two pieces of one direction, in whole milliseconds, so the reader sees
   * each piece as a read of its own. Throughput falls to one piece per `paceMs`. @default 0
   */
  paceMs?: number;
  /**
   * Seed for `random` chunking, an integer from 0 to 2^32 − 1. The n-th accepted connection
   * (from 0) draws its client→server sizes from seed stream 2n and its server→client sizes
   * from stream 2n + 1. @default 1
   */
  seed?: number;
  /** Called with every piece the relay writes, as it writes it. @default none */
  onPiece?: (event: RelayPieceEvent) => void;
  /** Receives the relay's own socket calls: listen, accept, connect, shutdown, close. @default none */
  trace?: TraceListener;
  /**
   * Receives the errors that belong to no caller: a socket of the relay failing after it
   * started (its listening socket: accept failing with EMFILE, …; a connection's failure resets its other side instead).
   * @default none: a process warning (one line on stderr), never a crash
   */
  onError?: (error: SocketError) => void;
  /**
   * Closes the relay when it fires, as `close()` does. Fired before the relay listens,
   * `startChunkingRelay()` rejects with `signal.reason` and nothing stays bound.
   * @default none
   */
  signal?: AbortSignal;
}

/** One piece the relay wrote: which way, for which connection, and how big. */
export interface RelayPieceEvent {
  /** "to-server": from a client to the target; "to-client": the way back. */
  readonly direction: "to-server" | "to-client";
  /** The connection, counted from 0 in the order they were accepted. */
  readonly connection: number;
  /** The piece's size in bytes. */
  readonly bytes: number;
}

/** What the relay did to one direction, summed over every connection. */
export interface RelayDirectionStats {
  /** Reads from the source: how the bytes arrived. */
  readonly reads: number;
  /** Writes to the destination: how the bytes left. In `bytes` mode with size 1, equals `bytes`. */
  readonly chunks: number;
  /** Bytes written to the destination. */
  readonly bytes: number;
  /** Times the source was paused because the destination (or the relay's queue) was full. */
  readonly pauses: number;
  /**
   * The most bytes one connection's direction held at once in the relay's memory: queued for
   * `delayMs` or `paceMs`, coalescing, or in the destination socket's write buffer. Stays
   * bounded (the 16 KiB write buffer, a 64 KiB queue and one read of up to 64 KiB, plus one
   * piece when coalescing) however fast the source sends and however slowly the destination reads.
   */
  readonly peakBuffered: number;
}

/** A snapshot of a relay's counters. */
export interface ChunkingRelayStats {
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections open right now. */
  readonly open: number;
  readonly toServer: RelayDirectionStats;
  readonly toClient: RelayDirectionStats;
}

/** A running re-chunking relay. */
export interface ChunkingRelay extends AsyncDisposable {
  /** Where clients connect: the bound address with the real port, or the unix path. */
  readonly endpoint: Endpoint;
  /** Where connections are forwarded. */
  readonly target: Endpoint;
  /** The counters: a snapshot, taken when read. */
  readonly stats: ChunkingRelayStats;
  /**
   * Stops accepting, destroys every open connection (bytes still waiting for their turn or
   * for coalescing are discarded; peers see the connection closed) and clears every timer.
   * Safe to call twice.
   */
  close(): Promise<void>;
}

/** Bytes a direction may hold in its queue (for `delayMs` or `paceMs`) before the source is paused: 64 KiB. */
const QUEUE_HIGH_WATER_MARK = 64 * 1024;

const DEFAULTS = {
  listen: "tcp://127.0.0.1:0",
  chunking: { mode: "bytes", size: 1 },
  delayMs: 0,
  paceMs: 0,
  seed: DEFAULT_SEED,
} as const satisfies Partial<ChunkingRelayOptions>;

type Counters = { -readonly [K in keyof RelayDirectionStats]: number };

const zero = (): Counters => ({ reads: 0, chunks: 0, bytes: 0, pauses: 0, peakBuffered: 0 });

/** An accepted connection and the one the relay opened to the target for it. */
interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Clear each direction's timers. */
  readonly stops: Array<() => void>;
}

/** Ends a socket abruptly: a TCP RST where there is one, a plain close on a unix socket. */
function reset(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy(); // ERR_INVALID_HANDLE_TYPE: a unix socket has no reset
  }
}

function connectOptions(endpoint: Endpoint) {
  return endpoint.transport === "unix"
    ? { path: endpoint.path, allowHalfOpen: true }
    : { host: endpoint.host, port: endpoint.port, allowHalfOpen: true };
}

/** How one direction of one connection is forwarded. */
interface Lane {
  readonly chunker: Chunker;
  /** Longest wait for a coalescing piece to fill, in ms; only in `coalesce` mode. */
  readonly coalesceMs: number | undefined;
  readonly delayMs: number;
  readonly paceMs: number;
  readonly counters: Counters;
  /** Called with the size of every piece written. */
  readonly onWrite: ((bytes: number) => void) | undefined;
  /** Called when the FIN has been passed on. */
  readonly onEnd: () => void;
}

interface Queued {
  readonly piece: Buffer;
  /** When the piece was read, on the `performance.now()` clock. */
  readonly readAt: number;
}

/**
 * One direction of one connection: reads from `src`, re-splits, writes to `dst`. With a delay
 * or a pace, pieces wait in a queue; the head leaves at `readAt + delayMs`, and no sooner than
 * `paceMs` after the piece before it.
 */
function forward(src: Socket, dst: Socket, lane: Lane): () => void {
  const { chunker, coalesceMs, delayMs, paceMs, counters } = lane;
  const direct = delayMs === 0 && paceMs === 0;
  const queue: Queued[] = [];
  let queued = 0; // bytes in `queue`
  let lastWriteAt = Number.NEGATIVE_INFINITY;
  let queueTimer: NodeJS.Timeout | undefined;
  let coalesceTimer: NodeJS.Timeout | undefined;
  let blocked = false; // dst.write() returned false: wait for 'drain'
  let ended = false; // src sent FIN: pass it on after the last piece
  let finished = false; // the FIN was passed on

  const measure = () => {
    const held = queued + chunker.buffered + dst.writableLength;
    if (held > counters.peakBuffered) counters.peakBuffered = held;
  };

  // Backpressure: stop reading while the destination, or the queue, is full.
  const update = () => {
    const full = blocked || queued > QUEUE_HIGH_WATER_MARK;
    if (full && !src.isPaused()) {
      src.pause();
      counters.pauses++;
    } else if (!full && src.isPaused()) {
      src.resume();
    }
  };

  const write = (piece: Buffer) => {
    if (dst.destroyed) return;
    if (!dst.write(piece)) blocked = true;
    counters.chunks++;
    counters.bytes += piece.length;
    lane.onWrite?.(piece.length);
  };

  const finish = () => {
    if (finished || dst.destroyed) return;
    finished = true;
    dst.end();
    lane.onEnd();
  };

  // Writes every queued piece that is due, then sleeps until the next one is.
  const writeDue = () => {
    while (!blocked && queueTimer === undefined) {
      const head = queue[0];
      if (head === undefined) {
        if (ended) finish();
        return;
      }
      const now = performance.now();
      const due = Math.max(head.readAt + delayMs, lastWriteAt + paceMs);
      if (due > now) {
        queueTimer = setTimeout(
          () => {
            queueTimer = undefined;
            drain();
          },
          Math.ceil(due - now),
        );
        return;
      }
      queue.shift();
      queued -= head.piece.length;
      lastWriteAt = now;
      write(head.piece);
    }
  };

  const drain = () => {
    if (!direct) writeDue();
    measure();
    update();
  };

  const emit = (pieces: Buffer[]) => {
    const readAt = performance.now();
    for (const piece of pieces) {
      if (direct) {
        write(piece);
      } else {
        queue.push({ piece, readAt });
        queued += piece.length;
      }
    }
    drain();
  };

  const flushCoalesced = () => {
    clearTimeout(coalesceTimer);
    coalesceTimer = undefined;
    emit(chunker.flush());
  };

  src.on("data", (data: Buffer) => {
    counters.reads++;
    emit(chunker.push(data));
    if (chunker.buffered === 0) {
      clearTimeout(coalesceTimer);
      coalesceTimer = undefined;
    } else if (coalesceMs !== undefined && coalesceTimer === undefined) {
      coalesceTimer = setTimeout(flushCoalesced, coalesceMs);
    }
  });
  dst.on("drain", () => {
    blocked = false;
    drain();
  });
  // Half-close: the source sent FIN, so after the last piece the destination gets FIN too.
  src.on("end", () => {
    flushCoalesced();
    ended = true;
    if (direct) finish();
    else drain(); // finishes once the queue is empty
  });
  src.resume();

  return () => {
    clearTimeout(coalesceTimer);
    clearTimeout(queueTimer);
  };
}

function listenOn(server: Server, endpoint: Endpoint): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => reject(explain(err));
    server.once("error", fail);
    const options =
      endpoint.transport === "unix"
        ? { path: endpoint.path }
        : { host: endpoint.host, port: endpoint.port, exclusive: true, backlog: DEFAULT_BACKLOG };
    server.listen(options, () => {
      server.off("error", fail);
      resolve();
    });
  });
}

/**
 * Starts a re-chunking relay: listens on `listen` and forwards every accepted connection to
 * `target`, re-splitting the bytes in both directions as `chunking` says, with Nagle's
 * algorithm off so each piece leaves as its own write.
 *
 * It keeps TCP's promises: bytes arrive complete and in order; reading pauses while the other
 * side's write buffer is full; a FIN (`end()`) from either side is passed on as a FIN after the
 * last byte, and a reset (or any error) on either side resets the other. A target that cannot
 * be reached resets the accepted connection.
 *
 * @throws {RangeError} naming the option and value: a bad chunking size, `min > max`, a
 *   negative or fractional delay or pace, a bad seed; {TypeError} for a missing `target`.
 * @throws {SocketError} `ERR_INVALID_ENDPOINT` for a bad or UDP endpoint, or a system code
 *   (EADDRINUSE, …) from listen.
 * @example
 * import { once } from "node:events";
 * import { type AddressInfo, connect, createServer } from "node:net";
 * const server = createServer((socket) => socket.resume()).listen(0, "127.0.0.1"); // say tcp://127.0.0.1:7000
 * await once(server, "listening");
 * const { port } = server.address() as AddressInfo;
 * const relay = await startChunkingRelay({
 *   target: `tcp://127.0.0.1:${port}`, chunking: { mode: "bytes", size: 1 }, paceMs: 1,
 * });
 * const client = connect(relay.endpoint); // { host, port }: what net.connect takes
 * client.end("Hello from client"); // once; the server reads "H", "e", …
 * await once(client, "close");
 * const { chunks, bytes } = relay.stats.toServer; // reads and peakBuffered depend on timing
 * ({ chunks, bytes }) //=> { chunks: 17, bytes: 17 }
 * await relay.close();
 * server.close();
 */
export async function startChunkingRelay(options: ChunkingRelayOptions): Promise<ChunkingRelay> {
  const { target, listen, chunking, delayMs, paceMs, seed, onPiece, trace, signal, onError } = {
    ...DEFAULTS,
    ...options,
  };
  if (target === undefined) {
    throw invalidArgType("target", "the server's endpoint", target);
  }
  checkSignal(signal);
  checkOnError(onError);
  const split = checkChunking(chunking);
  checkMs("delayMs", delayMs);
  checkMs("paceMs", paceMs);
  checkSeed("seed", seed);
  const targetEndpoint = streamEndpoint("target", target);
  const listenEndpoint = streamEndpoint("listen", listen);
  const coalesceMs = split.mode === "coalesce" ? split.maxDelayMs : undefined;

  const counters = { toServer: zero(), toClient: zero() };
  const connections = new Set<Pair>();
  let accepted = 0;
  let closing: Promise<void> | undefined;

  throwIfAborted(signal);
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true });
  await listenOn(server, listenEndpoint);
  server.on("error", (err) => reportError(onError, explain(err)));
  const address = server.address();
  const endpoint = address === null ? listenEndpoint : endpointOf("tcp", address);
  const listening = descriptorOf(server);
  const attributes = socketAttributes({
    domain: endpointDomain(listenEndpoint) ?? Domain.AF_INET,
    type: SocketType.SOCK_STREAM,
  });
  trace?.({ type: "socket", attributes, fd: listening });
  trace?.({ type: "bind", local: endpoint, fd: listening });
  trace?.({ type: "listen", backlog: DEFAULT_BACKLOG, fd: listening });

  server.on("connection", (client: Socket) => {
    const index = accepted++;
    const remote =
      endpoint.transport === "unix"
        ? endpoint
        : endpointOf("tcp", { address: client.remoteAddress, port: client.remotePort });
    const clientFd = descriptorOf(client);
    trace?.({ type: "accept", remote, fd: listening, newFd: clientFd });
    const upstream = createConnection(connectOptions(targetEndpoint));
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const pair: Pair = { client, upstream, stops: [] };
    connections.add(pair);

    let closed = 0;
    const onClose = () => {
      if (++closed < 2) return;
      connections.delete(pair);
      for (const stop of pair.stops) stop();
      trace?.({ type: "close", remote, fd: clientFd });
      if (upstreamFd !== undefined)
        trace?.({ type: "close", remote: targetEndpoint, fd: upstreamFd });
    };
    client.on("close", onClose);
    upstream.on("close", onClose);
    // Either side failing (a reset, a refused connect) resets the other.
    client.on("error", () => reset(upstream));
    upstream.on("error", () => reset(client));

    let upstreamFd: number | undefined;
    upstream.on("connect", () => {
      upstreamFd = descriptorOf(upstream);
      trace?.({ type: "socket", attributes, fd: upstreamFd });
      trace?.({ type: "connect", remote: targetEndpoint, fd: upstreamFd });
      const lane = (stream: number, counters: Counters, fd: number | undefined): Lane => ({
        chunker: createChunker(split, mulberry32(deriveSeed(seed, 2 * index + stream))),
        coalesceMs,
        delayMs,
        paceMs,
        counters,
        onWrite:
          onPiece === undefined
            ? undefined
            : (bytes) =>
                onPiece({
                  direction: stream === 0 ? "to-server" : "to-client",
                  connection: index,
                  bytes,
                }),
        onEnd: () => trace?.({ type: "shutdown", how: "SHUT_WR", fd }),
      });
      pair.stops.push(
        forward(client, upstream, lane(0, counters.toServer, upstreamFd)),
        forward(upstream, client, lane(1, counters.toClient, clientFd)),
      );
    });
  });

  async function shutdown(): Promise<void> {
    stopAbort();
    const done = [new Promise<void>((resolve) => server.close(() => resolve()))];
    trace?.({ type: "close", fd: listening });
    for (const { client, upstream, stops } of connections) {
      for (const stop of stops) stop();
      for (const socket of [client, upstream]) {
        if (!socket.closed) done.push(new Promise((resolve) => socket.once("close", resolve)));
        socket.destroy();
      }
    }
    await Promise.all(done);
  }

  let stopAbort = (): void => {};
  const close = (): Promise<void> => {
    closing ??= shutdown();
    return closing;
  };
  // Fired while listening: listen() is quick and cannot be cancelled half-way, so undo it.
  if (signal?.aborted === true) {
    await close();
    throw abortReason(signal);
  }
  stopAbort = onAbort(signal, () => void close());
  return {
    endpoint,
    target: targetEndpoint,
    get stats(): ChunkingRelayStats {
      return {
        accepted,
        open: connections.size,
        toServer: { ...counters.toServer },
        toClient: { ...counters.toClient },
      };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
