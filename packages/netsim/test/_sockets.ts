/** Test helpers: UDP and TCP peers on loopback and a bounded wait. */

import { createSocket, type Socket } from "node:dgram";
import { connect, createServer, type Socket as NetSocket } from "node:net";
import { type Endpoint, formatAddress } from "@socket-lab/core";

/** Waits until `condition()` holds, checking every few ms; fails after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 30_000) {
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

/** A TCP (or unix) server on `listen` that hands each connection to `onConnection`. */
export async function tcpServer(
  onConnection: (socket: NetSocket) => void,
  listen: { host: string; port: 0 } | { path: string } = { host: "127.0.0.1", port: 0 },
): Promise<{ endpoint: Endpoint; close(): Promise<void> }> {
  const sockets = new Set<NetSocket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {}); // tests look at the close or the error they expect
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(listen, resolve));
  const address = server.address();
  const endpoint: Endpoint =
    typeof address === "string" || address === null
      ? { transport: "unix", path: String(address) }
      : { transport: "tcp", host: address.address, port: address.port };
  return {
    endpoint,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Connects to `endpoint` with half-open allowed, so the test decides when to end. */
export function connectTo(endpoint: Endpoint): Promise<NetSocket> {
  return new Promise((resolve, reject) => {
    const options =
      endpoint.transport === "unix"
        ? { path: endpoint.path, allowHalfOpen: true }
        : { host: endpoint.host, port: endpoint.port, allowHalfOpen: true };
    const socket = connect(options, () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** Everything `socket` receives until its peer ends, with the number of reads. */
export function readAll(socket: NetSocket): Promise<{ data: Buffer; reads: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.once("end", () => resolve({ data: Buffer.concat(chunks), reads: chunks.length }));
    socket.once("error", reject);
  });
}

/** The error a socket dies of, or `undefined` when it closes cleanly. */
export function closed(socket: NetSocket): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    let error: NodeJS.ErrnoException | undefined;
    socket.on("error", (err) => {
      error = err;
    });
    socket.once("close", () => resolve(error));
  });
}

/** `n` bytes of a fixed pattern that does not repeat every power of two. */
export const pattern = (n: number) => {
  const data = Buffer.alloc(n);
  for (let i = 0; i < n; i++) data[i] = (i * 31 + (i >> 8)) % 251;
  return data;
};
