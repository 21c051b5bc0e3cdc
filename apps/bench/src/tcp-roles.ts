/**
 * The TCP workloads' two sides, each over @socket-lab/tcp ("ours") and over a minimal
 * hand-written node:net program ("raw"). Both speak the same bytes: 4-byte big-endian length
 * prefixes, as `lengthPrefixed()` writes them. Raw sockets get the options ours sets
 * (`noDelay`), so that only the code in between differs.
 */

import { once } from "node:events";
import net from "node:net";
import {
  type Connection,
  connect,
  lengthPrefixed,
  lengthPrefixedPieces,
  listen,
} from "@socket-lab/tcp";
import type { Pinger } from "./pingpong-roles.js";
import { FrameAssembler, FrameCounter, HEADER_BYTES, rawFrame } from "./raw-frames.js";
import { LOOPBACK, type Role } from "./role.js";
import { timedRounds } from "./rounds.js";

/** Which implementation a TCP role uses. */
export type TcpImpl = "ours" | "raw";

/**
 * How a latency role receives: ours, a for-await loop and `await send()`; ours-each,
 * `each()` with `write()`, the listener replying inside the read (the idiom of raw's
 * `'data'` handler and `socket.write()`); raw, a `'data'` handler.
 */
export type TcpLatencyImpl = TcpImpl | "ours-each";

/**
 * How a sink receives: ours, a for-await loop over `lengthPrefixed()` frames; ours-pieces,
 * `each()` over `lengthPrefixedPieces()` frames (each frame as the pieces it arrived in, not
 * joined); raw, frames counted where they lie in each chunk; raw-copy, each frame handed on
 * whole, as {@link FrameAssembler} cuts them.
 */
export type SinkImpl = TcpImpl | "ours-pieces" | "raw-copy";

/**
 * How a source sends its messages: ours, one awaited `send()` per message; ours-write, one
 * `write()` per message, awaiting `drain()` only when it returns false (the idiom of
 * `socket.write()`); raw-each, one `socket.write()` per message; raw-packed, messages packed by
 * hand into 64 KiB buffers, one `socket.write()` per buffer; raw-packed-await, the same with an
 * `await` of a resolved promise per message (the loop shape of `await send()`, nothing else);
 * raw-framed, a payload framed as it is sent: its 4-byte header and the payload written
 * together, corked (one writev), as a raw program sends a caller's buffer without copying it.
 */
export type SourceImpl =
  | "ours"
  | "ours-write"
  | "raw-each"
  | "raw-framed"
  | "raw-packed"
  | "raw-packed-await";

/** What raw-packed-await awaits per message: a promise that is already resolved. */
const RESOLVED = Promise.resolve();

/** Size of the buffers raw-packed fills before writing one, in bytes. */
const PACK_BYTES = 64 * 1024;

/** The reply a sink sends when it has counted every frame of a repetition: an empty frame. */
const ACK = Buffer.alloc(0);
const RAW_ACK = rawFrame(0);

const noop = () => {};

/** A throughput repetition: send `frames` messages, then wait for the sink to confirm. */
export interface SendRep {
  readonly frames: number;
  /** Give up (and fail) after this long, in ms. */
  readonly deadlineMs: number;
}

/** Time from the first send to the sink's confirmation that every message arrived, in ms. */
export interface SendResult {
  readonly elapsedMs: number;
}

async function rawListen(onSocket: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on("error", noop);
    onSocket(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: LOOPBACK, port: 0 }, resolve);
  });
  return (server.address() as net.AddressInfo).port;
}

async function rawConnect(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: LOOPBACK, port, noDelay: true });
  await once(socket, "connect");
  return socket;
}

/** Options of `tcp-sink`: the implementations to listen with, one server each. */
export interface SinkOptions {
  readonly impls: readonly SinkImpl[];
}

/** What `tcp-sink` answers to `listen`: a port per implementation. */
export interface Ports {
  readonly ports: Readonly<Partial<Record<SinkImpl, number>>>;
}

/**
 * `tcp-sink`: a server per implementation, each counting the frames of each repetition
 * (announced by `expect`) and confirming the last one with an empty frame. Repetitions run one
 * at a time, so sources take turns on the same servers.
 */
export async function tcpSink(options: SinkOptions): Promise<Role> {
  let expected = Number.POSITIVE_INFINITY;
  let received = 0;
  const ports: Partial<Record<SinkImpl, number>> = {};
  /** Counts one frame; true when it completes the repetition (and the count starts over). */
  const last = (): boolean => {
    if (++received !== expected) return false;
    received = 0;
    return true;
  };
  for (const impl of options.impls) {
    if (impl === "ours") {
      const server = await listen<Buffer>(`tcp://${LOOPBACK}:0`, {
        framing: lengthPrefixed(),
        idleTimeoutMs: 0,
        handler: async (connection) => {
          for await (const _frame of connection) {
            if (last()) await connection.send(ACK);
          }
        },
      });
      ports.ours = (server.endpoint as { port: number }).port;
    } else if (impl === "ours-pieces") {
      const server = await listen<Buffer[]>(`tcp://${LOOPBACK}:0`, {
        framing: lengthPrefixedPieces(),
        idleTimeoutMs: 0,
        handler: (connection) =>
          connection.each(() => {
            if (last()) connection.write([]);
          }),
      });
      ports[impl] = (server.endpoint as { port: number }).port;
    } else if (impl === "raw-copy") {
      ports[impl] = await rawListen((socket) => {
        const assembler = new FrameAssembler();
        const onFrame = () => {
          if (last()) socket.write(RAW_ACK);
        };
        socket.on("data", (chunk: Buffer) => assembler.push(chunk, onFrame));
      });
    } else {
      ports.raw = await rawListen((socket) => {
        const counter = new FrameCounter();
        socket.on("data", (chunk: Buffer) => {
          received += counter.push(chunk);
          if (received >= expected) {
            received -= expected;
            socket.write(RAW_ACK);
          }
        });
      });
    }
  }
  return {
    listen: (): Ports => ({ ports }),
    expect: ({ frames }: { frames: number }) => {
      expected = frames;
      received = 0;
    },
  };
}

/** One throughput repetition on one connection. */
type Sender = (rep: SendRep) => Promise<SendResult>;

/** Options of `tcp-source`: senders per key, each on its own connection. */
export interface SourceOptions {
  readonly sources: readonly {
    readonly key: string;
    readonly impl: SourceImpl;
    readonly port: number;
  }[];
  /** Payload bytes per message, the 4-byte prefix not counted. */
  readonly size: number;
  /** Connections (each with its sender) per key. */
  readonly connections: number;
}

/** A throughput repetition of the sender on connection `connection` of `key`. */
export interface SourceRep extends SendRep {
  readonly key: string;
  readonly connection: number;
}

/**
 * `tcp-source`: senders per key, one per connection; `rep` sends a repetition of `frames`
 * messages of `size` bytes through the sender on connection `connection` of `key`.
 */
export async function tcpSource(options: SourceOptions): Promise<Role> {
  const senders = new Map<string, Sender[]>();
  for (const { key, impl, port } of options.sources) {
    const each: Sender[] = [];
    for (let i = 0; i < options.connections; i++) each.push(await sender(impl, port, options.size));
    senders.set(key, each);
  }
  return {
    rep: ({ key, connection, ...rep }: SourceRep): Promise<SendResult> => {
      const send = senders.get(key)?.[connection];
      if (send === undefined) throw new Error(`no source '${key}' connection ${connection}`);
      return send(rep);
    },
  };
}

/** Connects one source to the sink on `port` and returns how it runs a repetition. */
async function sender(impl: SourceImpl, port: number, size: number): Promise<Sender> {
  const started = (deadlineMs: number) => {
    const start = performance.now();
    return { start, deadline: start + deadlineMs };
  };
  const late = (frames: number, sent: number) =>
    new Error(`deadline passed after ${sent} of ${frames} messages`);

  if (impl === "ours" || impl === "ours-write") {
    const connection = await connect<Buffer>(`tcp://${LOOPBACK}:${port}`, {
      framing: lengthPrefixed(),
    });
    const replies = connection[Symbol.asyncIterator]();
    const payload = Buffer.alloc(size, 0x61);
    const awaitEach = impl === "ours";
    return async ({ frames, deadlineMs }: SendRep): Promise<SendResult> => {
      const { start, deadline } = started(deadlineMs);
      for (let i = 0; i < frames; i++) {
        if (awaitEach) {
          await connection.send(payload);
        } else if (!connection.write(payload)) {
          await connection.drain();
        }
        if ((i & 1023) === 1023 && performance.now() > deadline) throw late(frames, i);
      }
      const ack = await replies.next();
      if (ack.done === true) throw new Error("the sink closed the connection");
      return { elapsedMs: performance.now() - start };
    };
  }

  const socket = await rawConnect(port);
  let acked: (() => void) | undefined;
  let replyBytes = 0;
  socket.on("data", (chunk: Buffer) => {
    replyBytes += chunk.length;
    if (replyBytes >= RAW_ACK.length) {
      replyBytes -= RAW_ACK.length;
      acked?.();
    }
  });
  const ack = () => new Promise<void>((resolve) => (acked = resolve));
  const frame = rawFrame(size);
  const payload = frame.subarray(HEADER_BYTES);
  const frameBytes = frame.length;

  if (impl === "raw-each" || impl === "raw-framed") {
    const header = frame.subarray(0, HEADER_BYTES);
    const write =
      impl === "raw-each"
        ? () => socket.write(frame)
        : (): boolean => {
            socket.cork();
            socket.write(header);
            const fits = socket.write(payload);
            socket.uncork();
            return fits;
          };
    return async ({ frames, deadlineMs }: SendRep): Promise<SendResult> => {
      const { start, deadline } = started(deadlineMs);
      const done = ack();
      for (let i = 0; i < frames; i++) {
        if (!write()) {
          await once(socket, "drain");
          if (performance.now() > deadline) throw late(frames, i);
        }
      }
      await done;
      return { elapsedMs: performance.now() - start };
    };
  }

  const awaitEach = impl === "raw-packed-await";
  return async ({ frames, deadlineMs }: SendRep): Promise<SendResult> => {
    const { start, deadline } = started(deadlineMs);
    const done = ack();
    let block = Buffer.allocUnsafe(PACK_BYTES);
    let used = 0;
    for (let i = 0; i < frames; i++) {
      if (used + frameBytes > PACK_BYTES) {
        const full = block.subarray(0, used);
        block = Buffer.allocUnsafe(PACK_BYTES);
        used = 0;
        if (!socket.write(full)) {
          await once(socket, "drain");
          if (performance.now() > deadline) throw late(frames, i);
        }
      }
      block.writeUInt32BE(size, used);
      block.set(payload, used + HEADER_BYTES);
      used += frameBytes;
      if (awaitEach) await RESOLVED;
    }
    if (used > 0) socket.write(block.subarray(0, used));
    await done;
    return { elapsedMs: performance.now() - start };
  };
}

/** An echo server of `impl` that sends every frame back; returns its port. Raw echoes the bytes as they come. */
export async function tcpEchoServer(impl: TcpLatencyImpl): Promise<number> {
  if (impl === "ours-each") {
    const server = await listen<Buffer>(`tcp://${LOOPBACK}:0`, {
      framing: lengthPrefixed(),
      idleTimeoutMs: 0,
      handler: (connection) =>
        connection.each((frame) => {
          if (!connection.write(frame)) return connection.drain();
        }),
    });
    return (server.endpoint as { port: number }).port;
  }
  if (impl === "ours") {
    const server = await listen<Buffer>(`tcp://${LOOPBACK}:0`, {
      framing: lengthPrefixed(),
      idleTimeoutMs: 0,
      handler: async (connection) => {
        for await (const frame of connection) await connection.send(frame);
      },
    });
    return (server.endpoint as { port: number }).port;
  }
  return rawListen((socket) => {
    socket.on("data", (chunk: Buffer) => socket.write(chunk));
  });
}

/**
 * A ping client of `impl` connected to the echo server on `port`: one message of `size` bytes
 * out, wait for it to come back, repeat.
 */
export async function tcpPinger(impl: TcpLatencyImpl, port: number, size: number): Promise<Pinger> {
  if (impl === "ours-each") return eachPinger(port, size);
  if (impl === "ours") {
    const connection: Connection<Buffer> = await connect<Buffer>(`tcp://${LOOPBACK}:${port}`, {
      framing: lengthPrefixed(),
    });
    const replies = connection[Symbol.asyncIterator]();
    const payload = Buffer.alloc(size, 0x61);
    return async (count, deadlineMs) => {
      const rtts = new Float64Array(count);
      const deadline = performance.now() + deadlineMs;
      let pings = 0;
      while (pings < count) {
        const start = performance.now();
        if (start > deadline) break;
        await connection.send(payload);
        const reply = await replies.next();
        if (reply.done === true) throw new Error("the echo server closed the connection");
        rtts[pings++] = performance.now() - start;
      }
      return rtts.subarray(0, pings);
    };
  }

  const socket = await rawConnect(port);
  const frame = rawFrame(size);
  return (count, deadlineMs) =>
    new Promise((resolve) => {
      let received = 0;
      const rounds = timedRounds(
        count,
        deadlineMs,
        () => socket.write(frame),
        (rtts) => {
          socket.off("data", onData);
          resolve(rtts);
        },
      );
      const onData = (chunk: Buffer) => {
        received += chunk.length;
        if (received < frame.length) return;
        received -= frame.length;
        rounds.reply();
      };
      socket.on("data", onData);
    });
}

/**
 * A ping client over `each()`: the listener times each reply and writes the next ping, as
 * raw's `'data'` handler does.
 */
async function eachPinger(port: number, size: number): Promise<Pinger> {
  const connection = await connect<Buffer>(`tcp://${LOOPBACK}:${port}`, {
    framing: lengthPrefixed(),
  });
  const payload = Buffer.alloc(size, 0x61);
  let onReply = noop;
  let onEnd: (error: unknown) => void = noop;
  connection
    .each(() => onReply())
    .then(
      () => onEnd(new Error("the echo server closed the connection")),
      (error: unknown) => onEnd(error),
    );
  return (count, deadlineMs) =>
    new Promise((resolve, reject) => {
      onEnd = reject;
      const rounds = timedRounds(
        count,
        deadlineMs,
        () => connection.write(payload),
        (rtts) => {
          onReply = noop;
          resolve(rtts);
        },
      );
      onReply = rounds.reply;
    });
}
