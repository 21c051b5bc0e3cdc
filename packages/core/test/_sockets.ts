/**
 * Real sockets for the tests: loopback and temp unix paths only, every wait bounded.
 */

import dgram from "node:dgram";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";

/** Longest any single wait in these tests may take, in ms. */
export const WAIT_MS = 30_000;

/** Waits for one event with a bound; `once` also rejects when 'error' comes first. */
export async function next<T = unknown>(emitter: NodeJS.EventEmitter, event: string): Promise<T[]> {
  return (await once(emitter, event, { signal: AbortSignal.timeout(WAIT_MS) })) as T[];
}

/** Waits for the 'error' an emitter reports. */
export async function errorOf(emitter: NodeJS.EventEmitter): Promise<NodeJS.ErrnoException> {
  const [err] = await next<NodeJS.ErrnoException>(emitter, "error");
  if (err === undefined) throw new Error("'error' was emitted without an error");
  return err;
}

/** A TCP server listening on `host`:0, closed when the test ends. */
export async function listenTcp(
  host = "127.0.0.1",
  onConnection?: (socket: net.Socket) => void,
): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer(onConnection);
  onTestFinished(() => {
    server.close();
  });
  server.listen(0, host);
  await next(server, "listening");
  return { server, port: (server.address() as net.AddressInfo).port };
}

/** A port on 127.0.0.1 that nothing listens on: bound by us a moment ago, then closed. */
export async function closedPort(): Promise<number> {
  const { server, port } = await listenTcp();
  server.close();
  await next(server, "close");
  return port;
}

/** A client socket that is destroyed when the test ends. */
export function connectTcp(options: net.NetConnectOpts): net.Socket {
  const socket = net.connect(options);
  onTestFinished(() => {
    socket.destroy();
  });
  return socket;
}

/** A UDP socket bound to port 0 on 127.0.0.1 (udp4) or ::1 (udp6), closed when the test ends. */
export async function bindUdp(type: "udp4" | "udp6"): Promise<dgram.Socket> {
  const socket = dgram.createSocket(type);
  onTestFinished(() => {
    try {
      socket.close();
    } catch {
      // Already closed by the test.
    }
  });
  socket.bind(0, type === "udp4" ? "127.0.0.1" : "::1");
  await next(socket, "listening");
  return socket;
}

/** A fresh directory under os.tmpdir(), removed when the test ends. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "socket-lab-core-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
