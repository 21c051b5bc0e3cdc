/**
 * Test helpers: the endpoints and framings the contract runs over, servers and connections
 * that are cleaned up when the test ends, and bounded waits. Loopback and temp unix paths only.
 */

import { spawn } from "node:child_process";
import { once } from "node:events";
import { linkSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TraceEvent, TraceEventType } from "@socket-lab/core";
import { onTestFinished, vi } from "vitest";
import {
  type Connection,
  type ConnectOptions,
  connect,
  type Framing,
  lengthPrefixed,
  lengthPrefixedPieces,
  lines,
  listen,
  type Server,
  type ServerOptions,
  selfSignedCertificate,
} from "../src/index.js";

/** The certificate of the tls:// servers, made once, and trusted by the tls:// clients. */
export const CERTIFICATE = await selfSignedCertificate();

/** Longest any single wait in these tests may take, in ms. */
export const WAIT_MS = 30_000;

/** Rejects when `promise` takes longer than `ms`: no test waits without a bound. */
export async function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `condition()` holds, checking every `everyMs`; rejects after `WAIT_MS`. */
export async function until(condition: () => boolean, what: string, everyMs = 5): Promise<void> {
  const deadline = performance.now() + WAIT_MS;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A fresh directory under os.tmpdir(), removed when the test ends. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "socket-lab-tcp-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A place to listen, as the contract suite runs it: `listenOn()` gives a fresh endpoint. */
export interface Place {
  readonly name: string;
  readonly transport: "tcp" | "tls" | "unix";
  /** An endpoint to listen on: port 0, or a new path in a temp directory. */
  listenOn(): string;
}

export const PLACES: readonly Place[] = [
  { name: "127.0.0.1", transport: "tcp", listenOn: () => "tcp://127.0.0.1:0" },
  { name: "::1", transport: "tcp", listenOn: () => "tcp://[::1]:0" },
  { name: "unix", transport: "unix", listenOn: () => `unix://${join(tempDir(), "s.sock")}` },
  { name: "TLS on 127.0.0.1", transport: "tls", listenOn: () => "tls://127.0.0.1:0" },
];

/**
 * An endpoint of `place` where nothing listens: a port that was bound a moment ago, or a unix
 * socket file left by a server that is gone (a hard link to it outlives the server).
 */
export async function deadEndpoint(place: Place): Promise<string> {
  const server = net.createServer();
  if (place.transport === "unix") {
    const dir = tempDir();
    const live = join(dir, "live.sock");
    server.listen(live);
    await within(once(server, "listening"), "listening");
    linkSync(live, join(dir, "stale.sock"));
    server.close();
    await within(once(server, "close"), "close");
    return `unix://${join(dir, "stale.sock")}`;
  }
  const host = place.transport === "tls" ? "127.0.0.1" : place.name;
  server.listen(0, host);
  await within(once(server, "listening"), "listening");
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await within(once(server, "close"), "close");
  return net.isIPv6(host) ? `tcp://[${host}]:${port}` : `${place.transport}://${host}:${port}`;
}

/** A framing under test, with messages to send through it. */
export interface FramingCase<M> {
  readonly name: string;
  /** The framing, with room for messages of `maxBytes` bytes. */
  framing(maxBytes?: number): Framing<M>;
  /** A message of `bytes` bytes whose content depends on `seed`. */
  message(bytes: number, seed: number): M;
  /** Whether two messages are the same. */
  same(a: M, b: M): boolean;
  /** A message carrying `index` at its start, padded to `bytes`. */
  numbered(index: number, bytes: number): M;
  /** The index a `numbered` message carries. */
  indexOf(message: M): number;
  /**
   * Like `numbered`, without allocating a message each time: frames share one buffer, so each
   * must be sent (send() copies it) before the next is made.
   */
  numberer(bytes: number): (index: number) => M;
}

/** A deterministic pseudo-random generator (mulberry32), so failures can be replayed. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const POOL_BYTES = 3 * 64 * 1024;
const next = random(1);
/** Printable ASCII text to cut lines from. */
const TEXT = Array.from({ length: POOL_BYTES }, () =>
  String.fromCharCode(0x20 + Math.floor(next() * 95)),
).join("");
/** Random bytes to cut frames from. */
const BYTES = Buffer.from(Array.from({ length: POOL_BYTES }, () => Math.floor(next() * 256)));
const offsetFor = (bytes: number, seed: number) => (seed * 7919) % (POOL_BYTES - bytes + 1);

const lineCase: FramingCase<string> = {
  name: "lines",
  framing: (maxBytes = 64 * 1024) => lines({ maxLineBytes: maxBytes }),
  message: (bytes, seed) => TEXT.slice(offsetFor(bytes, seed), offsetFor(bytes, seed) + bytes),
  same: (a, b) => a === b,
  numbered: (index, bytes) => `${index}:`.padEnd(bytes, "x"),
  indexOf: (message) => Number.parseInt(message, 10),
  numberer: (bytes) => {
    const padding = "x".repeat(bytes);
    return (index) => {
      const prefix = `${index}:`;
      return prefix + padding.slice(prefix.length);
    };
  },
};

const lengthCase: FramingCase<Buffer> = {
  name: "length",
  framing: (maxBytes = 64 * 1024) => lengthPrefixed({ maxFrameBytes: maxBytes }),
  message: (bytes, seed) => BYTES.subarray(offsetFor(bytes, seed), offsetFor(bytes, seed) + bytes),
  same: (a, b) => a.equals(b),
  numbered: (index, bytes) => {
    const frame = Buffer.alloc(bytes, 0x78);
    frame.writeUInt32BE(index, 0);
    return frame;
  },
  indexOf: (message) => message.readUInt32BE(0),
  numberer: (bytes) => {
    const frame = Buffer.alloc(bytes, 0x78);
    return (index) => {
      frame.writeUInt32BE(index, 0);
      return frame;
    };
  },
};

/** Length frames handed over as pieces; messages are sent as two pieces, cut in the middle. */
const piecesCase: FramingCase<Buffer[]> = {
  name: "length pieces",
  framing: (maxBytes = 64 * 1024) => lengthPrefixedPieces({ maxFrameBytes: maxBytes }),
  message: (bytes, seed) => {
    const frame = lengthCase.message(bytes, seed);
    return [frame.subarray(0, bytes >> 1), frame.subarray(bytes >> 1)];
  },
  same: (a, b) => Buffer.concat(a).equals(Buffer.concat(b)),
  numbered: (index, bytes) => [lengthCase.numbered(index, bytes)],
  indexOf: (message) => Buffer.concat(message).readUInt32BE(0),
  numberer: (bytes) => {
    const next = lengthCase.numberer(bytes);
    return (index) => [next(index)];
  },
};

export const FRAMINGS = [lineCase, lengthCase, piecesCase] as FramingCase<unknown>[];

/**
 * A server that is closed when the test ends, destroying what has not ended after 20 ms. A
 * tls:// one has {@link CERTIFICATE}.
 */
export async function startServer<M>(
  endpoint: string,
  options: ServerOptions<M>,
): Promise<Server<M>> {
  const tls = endpoint.startsWith("tls:") ? { tls: CERTIFICATE } : {};
  const server = await listen<M>(endpoint, { ...tls, ...options });
  onTestFinished(async () => {
    await server.close({ timeoutMs: 20 });
  });
  return server;
}

/** A client connection that is destroyed when the test ends; over tls:// it trusts {@link CERTIFICATE}. */
export async function startClient<M>(
  endpoint: string,
  options: ConnectOptions<M>,
): Promise<Connection<M>> {
  const tls = endpoint.startsWith("tls:") ? { tls: { ca: CERTIFICATE.cert } } : {};
  const connection = await connect<M>(endpoint, { ...tls, ...options });
  onTestFinished(() => connection.destroy());
  return connection;
}

/** The endpoint of a server as a string to connect to. */
export function addressOf(server: Server<unknown>): string {
  const { endpoint } = server;
  if (endpoint.transport === "unix") return `unix://${endpoint.path}`;
  return net.isIPv6(endpoint.host)
    ? `${endpoint.transport}://[${endpoint.host}]:${endpoint.port}`
    : `${endpoint.transport}://${endpoint.host}:${endpoint.port}`;
}

/** Every message of a connection until its end, or the error that ended it. */
export async function drain<M>(
  connection: AsyncIterable<M>,
): Promise<{ messages: M[]; error: unknown }> {
  const messages: M[] = [];
  try {
    for await (const message of connection) messages.push(message);
    return { messages, error: undefined };
  } catch (error) {
    return { messages, error };
  }
}

/** The arguments of a server's next `event`, within `WAIT_MS`. */
export function nextEvent<M>(
  server: Server<M>,
  event: "reject" | "connection" | "error",
): Promise<unknown> {
  return within(
    new Promise((resolve) => server.once(event as "error", resolve)),
    `the server's '${event}' event`,
  );
}

/** Records trace events; `count(type)` says how many of a kind arrived. */
export function recorder(): {
  events: TraceEvent[];
  trace: (event: TraceEvent) => void;
  count: (type: TraceEventType) => number;
} {
  const events: TraceEvent[] = [];
  return {
    events,
    trace: (event) => events.push(event),
    count: (type) => events.filter((event) => event.type === type).length,
  };
}

/**
 * A TCP listener on 127.0.0.1 or ::1 whose accept queue is full: it runs in a child process
 * that blocks its own event loop right after listen(backlog 1), so it never accepts, and a few
 * raw connections fill the queue. Linux then drops further SYNs, so a connect hangs until its
 * timeout. Killed when the test ends.
 */
export async function stalledEndpoint(host: string): Promise<string> {
  const script = `
    const net = require("node:net");
    const server = net.createServer().listen({ host: ${JSON.stringify(host)}, port: 0, backlog: 1 }, () => {
      require("node:fs").writeSync(1, server.address().port + "\\n");
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30000);
      process.exit(0);
    });`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  onTestFinished(() => {
    child.kill("SIGKILL");
  });
  const [data] = (await within(once(child.stdout, "data"), "the stalled listener")) as [Buffer];
  const port = Number.parseInt(data.toString(), 10);
  const fillers = Array.from({ length: 4 }, () =>
    net.connect({ host, port }).on("error", () => {}),
  );
  onTestFinished(() => {
    for (const socket of fillers) socket.destroy();
  });
  return net.isIPv6(host) ? `tcp://[${host}]:${port}` : `tcp://${host}:${port}`;
}

/**
 * Writes the start of a line (19 bytes) that never ends to `peer`, then runs the accepted end's
 * timers on a fake clock (setTimeout, clearTimeout and performance.now()), moved by hand:
 * resolves with whether its loop was still open at `ms − 1` ms, and what it failed with at `ms`.
 */
export async function fakeClockFailure(
  accepted: Connection<string>,
  peer: net.Socket,
  ms: number,
): Promise<{ openBefore: boolean; error: unknown }> {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  try {
    peer.write("the start of a line");
    for (let spins = 0; accepted.stats.bytesReceived < 19; spins++) {
      if (spins > 100_000) throw new Error("the bytes never arrived");
      await new Promise((resolve) => setImmediate(resolve));
    }
    let settled = false;
    const outcome = drain(accepted).finally(() => {
      settled = true;
    });
    vi.advanceTimersByTime(ms - 1);
    await new Promise((resolve) => setImmediate(resolve));
    const openBefore = !settled;
    vi.advanceTimersByTime(1);
    // The timer decides after the turn's I/O (setImmediate), on the same clock.
    await new Promise((resolve) => setImmediate(resolve));
    vi.useRealTimers();
    const { error } = await within(outcome, `the failure at ${ms} ms`);
    return { openBefore, error };
  } finally {
    vi.useRealTimers();
  }
}

/** A handler that echoes every message and records how the connection ended: "end" or the error. */
export function echoRecording(ends: unknown[]) {
  return async (connection: Connection<unknown>): Promise<void> => {
    try {
      for await (const message of connection) await connection.send(message);
      ends.push("end");
    } catch (error) {
      ends.push(error);
    }
  };
}
