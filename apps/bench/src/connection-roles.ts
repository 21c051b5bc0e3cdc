/**
 * Many clients at once: an echo server holding every connection open, and a process opening
 * them in bounded batches, each one sending a line and waiting for its echo. The server
 * reports its memory before and while the connections are open.
 */

import { once } from "node:events";
import { readFileSync } from "node:fs";
import net from "node:net";
import { type Connection, connect, listen } from "@socket-lab/tcp";
import { LOOPBACK, type Role } from "./role.js";

/** Which implementation a connection role uses. */
type ConnectionImpl = "ours" | "raw";

/** Time one connection may take to connect and get its echo before it counts as failed, in ms. */
const CONNECTION_TIMEOUT_MS = 10_000;

/** Longest the server waits for closed connections to be gone before measuring, in ms. */
const SETTLE_MS = 10_000;

const LINE = "ping";
const noop = () => {};

/** What `connection-server` answers to `listen`. */
export interface Listening {
  readonly port: number;
  /** The open-files limit the process got, where it could be read. */
  readonly openFiles: number | undefined;
}

/** The server's memory, after a full garbage collection. */
export interface Memory {
  /** Connections the server holds open. */
  readonly connections: number;
  /** Resident set size, in bytes. */
  readonly rss: number;
  /** V8 heap in use, in bytes. */
  readonly heapUsed: number;
  /** Memory of Buffers and ArrayBuffers outside the V8 heap, in bytes. */
  readonly external: number;
}

/** What opening the connections took. */
export interface Opened {
  readonly opened: number;
  readonly failed: number;
  /** The first failure, for the report. */
  readonly firstError: string | undefined;
  readonly elapsedMs: number;
}

/** The open-file limit of this process (`ulimit -n`), from /proc/self/limits where it exists. */
function openFileLimit(): number | undefined {
  try {
    const line = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    return line?.[1] === undefined ? undefined : Number(line[1]);
  } catch {
    return undefined;
  }
}

/** `connection-server`: an echo server for `maxConnections` clients. */
export async function connectionServer(options: {
  impl: ConnectionImpl;
  maxConnections: number;
  backlog: number;
}): Promise<Role> {
  const { impl, maxConnections, backlog } = options;
  let port: number;
  let count: () => number;
  if (impl === "ours") {
    const server = await listen(`tcp://${LOOPBACK}:0`, {
      backlog,
      maxConnections,
      // Every benchmark client comes from 127.0.0.1: the per-address limit would turn them away.
      maxConnectionsPerAddress: maxConnections,
      handler: async (connection) => {
        for await (const line of connection) await connection.send(line);
      },
    });
    port = (server.endpoint as { port: number }).port;
    count = () => server.connectionCount;
  } else {
    let open = 0;
    const server = net.createServer({ noDelay: true }, (socket) => {
      open++;
      socket.on("error", noop);
      socket.on("close", () => open--);
      socket.on("data", (chunk: Buffer) => socket.write(chunk));
    });
    server.maxConnections = maxConnections;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: LOOPBACK, port: 0, backlog }, resolve);
    });
    port = (server.address() as net.AddressInfo).port;
    count = () => open;
  }
  return {
    listen: (): Listening => ({
      port,
      openFiles: openFileLimit(),
    }),
    /** Waits until `connections` are open (bounded), collects garbage, measures. */
    memory: async ({ connections }: { connections: number }): Promise<Memory> => {
      const giveUp = performance.now() + SETTLE_MS;
      while (count() !== connections && performance.now() < giveUp) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc === undefined) throw new Error("start the server with --expose-gc");
      gc();
      gc();
      const { rss, heapUsed, external } = process.memoryUsage();
      return { connections: count(), rss, heapUsed, external };
    },
  };
}

/** One open client: close it. */
type Client = () => void;

async function openOurs(port: number): Promise<Client> {
  const connection: Connection<string> = await connect(`tcp://${LOOPBACK}:${port}`, {
    connectTimeoutMs: CONNECTION_TIMEOUT_MS,
  });
  const timer = setTimeout(() => connection.destroy(), CONNECTION_TIMEOUT_MS);
  try {
    await connection.send(LINE);
    const echo = await connection[Symbol.asyncIterator]().next();
    if (echo.done === true || echo.value !== LINE) throw new Error("no echo");
  } catch (error) {
    connection.destroy();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return () => connection.destroy();
}

async function openRaw(port: number): Promise<Client> {
  const socket = net.connect({ host: LOOPBACK, port, noDelay: true });
  socket.setTimeout(CONNECTION_TIMEOUT_MS, () => socket.destroy(new Error("timed out")));
  try {
    await once(socket, "connect");
    socket.write(`${LINE}\n`);
    let echo = "";
    while (echo.length < LINE.length + 1) {
      const [chunk] = (await once(socket, "data")) as [Buffer];
      echo += chunk.toString();
    }
    if (echo !== `${LINE}\n`) throw new Error("wrong echo");
  } catch (error) {
    socket.destroy();
    throw error;
  }
  socket.setTimeout(0);
  return () => socket.destroy();
}

/** `connection-clients`: opens connections in batches and holds them until `closeAll`. */
export function connectionClients(options: { impl: ConnectionImpl; port: number }): Role {
  const open = options.impl === "ours" ? openOurs : openRaw;
  let clients: Client[] = [];
  return {
    openFiles: () => openFileLimit(),
    open: async ({ count, batch }: { count: number; batch: number }): Promise<Opened> => {
      const start = performance.now();
      let failed = 0;
      let firstError: string | undefined;
      for (let from = 0; from < count; from += batch) {
        const size = Math.min(batch, count - from);
        const results = await Promise.allSettled(
          Array.from({ length: size }, () => open(options.port)),
        );
        for (const result of results) {
          if (result.status === "fulfilled") clients.push(result.value);
          else {
            failed++;
            firstError ??= String(result.reason);
          }
        }
      }
      return { opened: clients.length, failed, firstError, elapsedMs: performance.now() - start };
    },
    closeAll: () => {
      for (const close of clients) close();
      clients = [];
    },
  };
}
