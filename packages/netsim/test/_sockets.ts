/** Test helpers: UDP peers on loopback and a bounded wait. */

import { createSocket, type Socket } from "node:dgram";
import { type Endpoint, formatAddress } from "@socket-lab/core";

/** Waits until `condition()` holds, checking every few ms; fails after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export interface UdpPeer {
  readonly socket: Socket;
  /** `udp://127.0.0.1:port` */
  readonly url: string;
  /** Every datagram received, in order. */
  readonly received: Buffer[];
  /** Replies sent (servers made with `echo`). */
  readonly replies: () => number;
  send(data: Buffer, to: Endpoint): Promise<void>;
  close(): Promise<void>;
}

/** A UDP socket bound to `host` port 0 that records what it receives and may echo it. */
export async function udpPeer(host = "127.0.0.1", echo = false): Promise<UdpPeer> {
  const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
  const received: Buffer[] = [];
  let replies = 0;
  socket.on("message", (data, rinfo) => {
    received.push(data);
    if (echo) socket.send(data, rinfo.port, rinfo.address, () => replies++);
  });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const url = `udp://${formatAddress({ transport: "udp", host, port: socket.address().port })}`;
  return {
    socket,
    url,
    received,
    replies: () => replies,
    send: (data, to) =>
      new Promise((resolve, reject) => {
        if (to.transport === "unix") throw new TypeError("not a UDP endpoint");
        socket.send(data, to.port, to.host, (err) => (err ? reject(err) : resolve()));
      }),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** An 8-byte datagram: the sender's tag and a sequence number, both u32 big-endian. */
export function datagram(tag: number, seq: number): Buffer {
  const data = Buffer.alloc(8);
  data.writeUInt32BE(tag, 0);
  data.writeUInt32BE(seq, 4);
  return data;
}

export const tagOf = (data: Buffer) => data.readUInt32BE(0);
export const seqOf = (data: Buffer) => data.readUInt32BE(4);
