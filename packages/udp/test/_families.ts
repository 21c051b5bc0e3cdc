/**
 * Shared test helpers: the two address families every socket test runs over (with
 * `describe.each(FAMILIES)`), sockets closed after each test, and bounded waits.
 */

import {
  type SocketError,
  UDP_MAX_PAYLOAD_IPV4,
  UDP_MAX_PAYLOAD_IPV6,
  UDP_SAFE_PAYLOAD_IPV4,
  UDP_SAFE_PAYLOAD_IPV6,
} from "@socket-lab/core";
import { afterEach } from "vitest";
import { bind, type Datagram, type UdpSocket, type UdpSocketOptions } from "../src/index.js";

export interface Family {
  readonly name: "IPv4" | "IPv6";
  /** Loopback address of the family. */
  readonly host: string;
  /** Endpoint to bind on loopback with a port the system picks. */
  readonly anyPort: string;
  /** Largest UDP payload of the family. */
  readonly max: number;
  /** Payload that fits the family's usual MTU unfragmented. */
  readonly safe: number;
}

export const FAMILIES: readonly Family[] = [
  {
    name: "IPv4",
    host: "127.0.0.1",
    anyPort: "udp://127.0.0.1:0",
    max: UDP_MAX_PAYLOAD_IPV4,
    safe: UDP_SAFE_PAYLOAD_IPV4,
  },
  {
    name: "IPv6",
    host: "::1",
    anyPort: "udp://[::1]:0",
    max: UDP_MAX_PAYLOAD_IPV6,
    safe: UDP_SAFE_PAYLOAD_IPV6,
  },
];

/** The longest any single wait in these tests may take before it fails, in ms. */
export const WAIT_MS = 30_000;

/** `bind()` for tests: every socket it opens is closed after the test. */
export function useSockets(): (endpoint: string, options?: UdpSocketOptions) => Promise<UdpSocket> {
  const open: UdpSocket[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((socket) => socket.close()));
  });
  return async (endpoint, options) => {
    const socket = await bind(endpoint, options);
    open.push(socket);
    return socket;
  };
}

/** The next datagram the socket receives; rejects with `ERR_TIMEOUT` after `timeoutMs`. */
export function nextDatagram(socket: UdpSocket, timeoutMs = WAIT_MS): Promise<Datagram> {
  return socket.receive({ timeoutMs });
}

/** The next error the socket reports through `onError()`; rejects after `timeoutMs`. */
export function nextError(socket: UdpSocket, timeoutMs = WAIT_MS): Promise<SocketError> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no error reported within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = socket.onError((error) => {
      clearTimeout(timer);
      stop();
      resolve(error);
    });
  });
}

/** A loopback port of the family where nothing is bound (bound, then closed again). */
export async function closedPort(family: Family): Promise<number> {
  const socket = await bind(family.anyPort);
  const { port } = socket.local;
  await socket.close();
  return port;
}

/** `size` bytes whose content depends on the size and the position, so mix-ups show. */
export function pattern(size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + size) & 0xff;
  return bytes;
}
