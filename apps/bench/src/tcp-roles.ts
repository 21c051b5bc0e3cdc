/**
 * The TCP workloads' two sides, each over @socket-lab/tcp ("ours") and over a minimal
 * hand-written node:net program ("raw"). Both speak the same bytes: 4-byte big-endian length
 * prefixes, as `lengthPrefixed()` writes them. Raw sockets get the options ours sets
 * (`noDelay`), so that only the code in between differs.
 */

import { once } from "node:events";
import net from "node:net";
import { type Connection, connect, lengthPrefixed, listen } from "@socket-lab/tcp";
import { FrameCounter, HEADER_BYTES, rawFrame } from "./raw-frames.js";
import { LOOPBACK, type Role } from "./role.js";
import { percentile } from "./stats.js";

/** Which implementation a TCP role uses. */
export type TcpImpl = "ours" | "raw";

/**
 * How a source sends its messages: ours, one `send()` per message; raw-each, one
 * `socket.write()` per message; raw-packed, messages packed by hand into 64 KiB buffers, one
 * `socket.write()` per buffer.
 */
export type SourceImpl = "ours" | "raw-each" | "raw-packed";

/** Size of the buffers raw-packed fills before writing one, in bytes. */
const PACK_BYTES = 64 * 1024;

/** The reply a sink sends when it has counted every frame of a repetition: an empty frame. */
const ACK = Buffer.alloc(0);
const RAW_ACK = rawFrame(0);

const noop = () => {};

/** What a server role answers to `listen`. */
export interface Listening {
  readonly port: number;
}

/** Options of `tcp-source` and `tcp-ping`: where the server is. */
export interface TcpClientOptions {
  readonly impl: SourceImpl;
  readonly port: number;
  /** Payload bytes per message, the 4-byte prefix not counted. */
  readonly size: number;
}

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

/** A latency repetition: `count` round trips, fewer if `deadlineMs` passes first. */
export interface PingRep {
  readonly count: number;
  readonly deadlineMs: number;
}

/** Round-trip times of one repetition, in µs. */
export interface PingResult {
  readonly pings: number;
  readonly p50: number;
  readonly p99: number;
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

/**
 * `tcp-sink`: counts the frames of each repetition (announced by `expect`) and confirms the
 * last one with an empty frame.
 */
export async function tcpSink(options: { impl: TcpImpl }): Promise<Role> {
  let expected = Number.POSITIVE_INFINITY;
  let received = 0;
  let port: number;
  if (options.impl === "ours") {
    const server = await listen<Buffer>(`tcp://${LOOPBACK}:0`, {
      framing: lengthPrefixed(),
      idleTimeoutMs: 0,
      handler: async (connection) => {
        for await (const _frame of connection) {
          if (++received === expected) {
            received = 0;
            await connection.send(ACK);
          }
        }
      },
    });
    port = (server.endpoint as { port: number }).port;
  } else {
    port = await rawListen((socket) => {
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
  return {
    listen: (): Listening => ({ port }),
    expect: ({ frames }: { frames: number }) => {
      expected = frames;
      received = 0;
    },
  };
}

/** `tcp-source`: sends repetitions of `frames` messages of `size` bytes. */
export async function tcpSource(options: TcpClientOptions): Promise<Role> {
  const { impl, port, size } = options;
  const started = (deadlineMs: number) => {
    const start = performance.now();
    return { start, deadline: start + deadlineMs };
  };
  const late = (frames: number, sent: number) =>
    new Error(`deadline passed after ${sent} of ${frames} messages`);

  if (impl === "ours") {
    const connection = await connect<Buffer>(`tcp://${LOOPBACK}:${port}`, {
      framing: lengthPrefixed(),
    });
    const replies = connection[Symbol.asyncIterator]();
    const payload = Buffer.alloc(size, 0x61);
    return {
      rep: async ({ frames, deadlineMs }: SendRep): Promise<SendResult> => {
        const { start, deadline } = started(deadlineMs);
        for (let i = 0; i < frames; i++) {
          await connection.send(payload);
          if ((i & 1023) === 1023 && performance.now() > deadline) throw late(frames, i);
        }
        const ack = await replies.next();
        if (ack.done === true) throw new Error("the sink closed the connection");
        return { elapsedMs: performance.now() - start };
      },
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

  if (impl === "raw-each") {
    return {
      rep: async ({ frames, deadlineMs }: SendRep): Promise<SendResult> => {
        const { start, deadline } = started(deadlineMs);
        const done = ack();
        for (let i = 0; i < frames; i++) {
          if (!socket.write(frame)) {
            await once(socket, "drain");
            if (performance.now() > deadline) throw late(frames, i);
          }
        }
        await done;
        return { elapsedMs: performance.now() - start };
      },
    };
  }

  return {
    rep: async ({ frames, deadlineMs }: SendRep): Promise<SendResult> => {
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
      }
      if (used > 0) socket.write(block.subarray(0, used));
      await done;
      return { elapsedMs: performance.now() - start };
    },
  };
}

/** `tcp-echo`: sends every frame back. Raw echoes the bytes as they come. */
export async function tcpEcho(options: { impl: TcpImpl }): Promise<Role> {
  let port: number;
  if (options.impl === "ours") {
    const server = await listen<Buffer>(`tcp://${LOOPBACK}:0`, {
      framing: lengthPrefixed(),
      idleTimeoutMs: 0,
      handler: async (connection) => {
        for await (const frame of connection) await connection.send(frame);
      },
    });
    port = (server.endpoint as { port: number }).port;
  } else {
    port = await rawListen((socket) => {
      socket.on("data", (chunk: Buffer) => socket.write(chunk));
    });
  }
  return { listen: (): Listening => ({ port }) };
}

/** `tcp-ping`: one message out, wait for it to come back, repeat; times each round trip. */
export async function tcpPing(options: TcpClientOptions): Promise<Role> {
  const { impl, port, size } = options;
  if (impl === "ours") {
    const connection: Connection<Buffer> = await connect<Buffer>(`tcp://${LOOPBACK}:${port}`, {
      framing: lengthPrefixed(),
    });
    const replies = connection[Symbol.asyncIterator]();
    const payload = Buffer.alloc(size, 0x61);
    return {
      rep: async ({ count, deadlineMs }: PingRep): Promise<PingResult> => {
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
        return pingResult(rtts.subarray(0, pings));
      },
    };
  }

  const socket = await rawConnect(port);
  const frame = rawFrame(size);
  return {
    rep: ({ count, deadlineMs }: PingRep): Promise<PingResult> =>
      new Promise((resolve) => {
        const rtts = new Float64Array(count);
        const deadline = performance.now() + deadlineMs;
        let pings = 0;
        let received = 0;
        let start = 0;
        const onData = (chunk: Buffer) => {
          received += chunk.length;
          if (received < frame.length) return;
          received -= frame.length;
          const now = performance.now();
          rtts[pings++] = now - start;
          if (pings === count || now > deadline) {
            socket.off("data", onData);
            resolve(pingResult(rtts.subarray(0, pings)));
            return;
          }
          start = performance.now();
          socket.write(frame);
        };
        socket.on("data", onData);
        start = performance.now();
        socket.write(frame);
      }),
  };
}

/** p50 and p99 of round-trip times given in ms, in µs. */
export function pingResult(rtts: Float64Array): PingResult {
  if (rtts.length === 0) throw new Error("no round trip completed before the deadline");
  return {
    pings: rtts.length,
    p50: percentile(rtts, 50) * 1000,
    p99: percentile(rtts, 99) * 1000,
  };
}
