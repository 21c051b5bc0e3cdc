/** Test helpers: bounded waits, an echo server, and a raw UDP peer that speaks segments by hand. */

import { createSocket, type Socket } from "node:dgram";
import type { InetEndpoint } from "@socket-lab/core";
import {
  decodeSegments,
  encodeSegment,
  type ListenOptions,
  listen,
  type ReliableConnection,
  type ReliableServer,
  type Segment,
  type SegmentHeader,
  SegmentType,
} from "../src/index.js";

/** Fast timers so that loss costs milliseconds, not seconds. */
export const FAST = { initialRtoMs: 50, minRtoMs: 20 } as const;

/** Waits until `condition()` holds, checking every few ms; fails after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A server that echoes every message and closes each connection when its peer does. */
export async function echoServer(options: ListenOptions = {}): Promise<{
  server: ReliableServer;
  connections: ReliableConnection[];
}> {
  const server = await listen("udp://127.0.0.1:0", { ...FAST, ...options });
  const connections: ReliableConnection[] = [];
  void (async () => {
    for await (const connection of server) {
      connections.push(connection);
      void (async () => {
        try {
          for await (const message of connection) {
            if (!connection.write(message)) await connection.drain();
          }
        } catch {
          // a failed connection ends its loop; the test looks at its state
        }
        await connection.close();
      })();
    }
  })();
  return { server, connections };
}

/** A UDP socket that sends and records segments, for hand-made handshakes and hostile input. */
export interface RawPeer {
  readonly socket: Socket;
  readonly port: number;
  /** Segments received, decoded, in order. */
  readonly received: Segment[];
  send(
    header: Partial<SegmentHeader> & { type: SegmentHeader["type"] },
    to: InetEndpoint,
    payload?: Buffer,
  ): void;
  sendBytes(data: Uint8Array, to: InetEndpoint): void;
  close(): Promise<void>;
}

export async function rawPeer(): Promise<RawPeer> {
  const socket = createSocket("udp4");
  const received: Segment[] = [];
  socket.on("message", (data) => {
    try {
      received.push(...decodeSegments(data));
    } catch {
      // not a segment
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const sendBytes = (data: Uint8Array, to: InetEndpoint) => socket.send(data, to.port, to.host);
  return {
    socket,
    port: socket.address().port,
    received,
    send: (header, to, payload) =>
      sendBytes(
        encodeSegment(
          { connId: 1, seq: 0, ack: 0, window: 64, timestamp: 1, echo: 0, sack: [], ...header },
          payload,
        ),
        to,
      ),
    sendBytes,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/**
 * A hand-made client: SYN, waits for the SYN_ACK, ACK. Returns the numbers to go on with.
 */
export async function handshake(peer: RawPeer, server: InetEndpoint, connId: number, isn = 1_000) {
  peer.send({ type: SegmentType.SYN, connId, seq: isn }, server);
  await until(
    () => peer.received.some((s) => s.type === SegmentType.SYN_ACK && s.connId === connId),
    "SYN_ACK",
  );
  const synAck = peer.received.find(
    (s) => s.type === SegmentType.SYN_ACK && s.connId === connId,
  ) as Segment;
  peer.send({ type: SegmentType.ACK, connId, seq: isn, ack: synAck.seq }, server);
  return { serverIsn: synAck.seq, isn };
}
