import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { afterEach } from "vitest";

/**
 * Raw node:dgram sockets bound to 127.0.0.1, as `nc -u` or an attacker would use: call it once
 * in a test file; every socket it opens is closed after each test.
 */
export function useRawSockets(): () => Promise<Socket> {
  const open = new Set<Socket>();
  afterEach(() => {
    for (const socket of open) socket.close();
    open.clear();
  });
  return async () => {
    const socket = createSocket("udp4");
    open.add(socket);
    socket.bind(0, "127.0.0.1");
    await once(socket, "listening");
    return socket;
  };
}
