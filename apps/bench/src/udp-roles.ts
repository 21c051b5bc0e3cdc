/**
 * The UDP workloads' two sides, over @socket-lab/udp ("ours") and over a minimal node:dgram
 * program ("raw"). Senders are connected sockets on both sides (no address per datagram); both
 * keep the same number of sends in flight, so that only the code in between differs.
 */

import dgram from "node:dgram";
import { once } from "node:events";
import { bind, DEFAULT_MAX_PENDING_SENDS, type UdpSocket } from "@socket-lab/udp";
import type { Pinger } from "./pingpong-roles.js";
import { LOOPBACK, type Role } from "./role.js";
import { timedRounds } from "./rounds.js";

/** Which implementation a UDP role uses. */
export type UdpImpl = "ours" | "raw";

/**
 * How a UDP source sends: ours, `write()` per datagram and `await drain()` when it returns
 * false (its 256 pending sends are the window); ours-send, `send()` per datagram, a promise
 * each, with the window kept by hand; raw, `socket.send()` with a callback, the window kept by
 * hand.
 */
export type UdpSourceImpl = "ours" | "ours-send" | "raw";

/** Sends a sender keeps in flight (issued, completion not yet seen): ours' default limit. */
const WINDOW = DEFAULT_MAX_PENDING_SENDS;

/** How long the sink waits without a datagram before it calls a repetition over, in ms. */
const QUIET_MS = 50;

/** Longest the sink waits for a repetition's datagrams to stop coming, in ms. */
const MAX_COLLECT_MS = 5_000;

/** What `udp-sink` and `udp-echo` answer to `bind`. */
export interface Bound {
  readonly port: number;
  /** SO_RCVBUF as the kernel granted it, in bytes (Linux reports twice what was asked). */
  readonly recvBufferSize: number;
}

/** What the sink counted in one repetition. */
export interface Collected {
  readonly received: number;
  /** From the first datagram to the last, in ms. */
  readonly windowMs: number;
}

/** A sending repetition: for `durationMs`, at most `maxDatagrams`, paced at `rate` per second (0: as fast as possible). */
export interface BlastRep {
  readonly durationMs: number;
  readonly maxDatagrams: number;
  readonly rate: number;
}

/** What the sender did in one repetition. */
export interface BlastResult {
  /** Datagrams the OS accepted. */
  readonly sent: number;
  /** Sends that failed (e.g. ENOBUFS). */
  readonly failed: number;
  /** From the first send to the last completion, in ms. */
  readonly elapsedMs: number;
}

async function rawBind(recvBufferSize: number | undefined): Promise<dgram.Socket> {
  const socket = dgram.createSocket("udp4");
  socket.bind(0, LOOPBACK);
  await once(socket, "listening");
  if (recvBufferSize !== undefined) socket.setRecvBufferSize(recvBufferSize);
  return socket;
}

/** A datagram counter of one implementation, in the sink process. */
interface Counter {
  received: number;
  first: number;
  last: number;
}

/**
 * `udp-sink`: a counting socket per implementation, in one process, so that every variant
 * meets the same process; `collect` waits until a counter's datagrams stop coming.
 */
export async function udpSink(options: {
  impls: readonly UdpImpl[];
  recvBufferSize?: number;
}): Promise<Role> {
  const counters = new Map<UdpImpl, Counter>();
  const bound: Partial<Record<UdpImpl, Bound>> = {};
  for (const impl of options.impls) {
    const counter: Counter = { received: 0, first: 0, last: 0 };
    counters.set(impl, counter);
    const onDatagram = () => {
      counter.last = performance.now();
      if (counter.received++ === 0) counter.first = counter.last;
    };
    if (impl === "ours") {
      const socket = await bind(
        `udp://${LOOPBACK}:0`,
        options.recvBufferSize === undefined ? {} : { recvBufferSize: options.recvBufferSize },
      );
      void (async () => {
        for await (const _datagram of socket) onDatagram();
      })();
      bound[impl] = { port: socket.local.port, recvBufferSize: socket.recvBufferSize };
    } else {
      const socket = await rawBind(options.recvBufferSize);
      socket.on("message", onDatagram);
      bound[impl] = { port: socket.address().port, recvBufferSize: socket.getRecvBufferSize() };
    }
  }
  const counterOf = (impl: UdpImpl): Counter => {
    const counter = counters.get(impl);
    if (counter === undefined) throw new Error(`no UDP sink '${impl}'`);
    return counter;
  };
  return {
    bind: (): Partial<Record<UdpImpl, Bound>> => bound,
    reset: ({ impl }: { impl: UdpImpl }) => {
      counterOf(impl).received = 0;
    },
    collect: async ({ impl }: { impl: UdpImpl }): Promise<Collected> => {
      const counter = counterOf(impl);
      const giveUp = performance.now() + MAX_COLLECT_MS;
      let seen = -1;
      while (seen !== counter.received && performance.now() < giveUp) {
        seen = counter.received;
        await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
      }
      const { received, first, last } = counter;
      return { received, windowMs: received === 0 ? 0 : last - first };
    },
  };
}

/** Runs one sending repetition. */
interface Sender {
  run(rep: BlastRep): Promise<BlastResult>;
}

/**
 * Runs sending repetitions: `issue()` starts one send and its completion must call `done`.
 * Keeps at most {@link WINDOW} sends in flight, and issues more when half are done; stops
 * issuing at `durationMs` or `maxDatagrams`.
 */
class Blaster implements Sender {
  readonly #issue: () => void;
  #rep: BlastRep = { durationMs: 0, maxDatagrams: 0, rate: 0 };
  #start = 0;
  #issued = 0;
  #inFlight = 0;
  #sent = 0;
  #failed = 0;
  #lastDone = 0;
  #stopped = true;
  #finish: (result: BlastResult) => void = () => {};

  constructor(issue: () => void) {
    this.#issue = issue;
  }

  /** Called once per completed send. */
  readonly done = (ok: boolean): void => {
    this.#inFlight--;
    if (ok) this.#sent++;
    else this.#failed++;
    this.#lastDone = performance.now();
    if (this.#inFlight <= WINDOW / 2 || this.#stopped) this.#fill();
  };

  run(rep: BlastRep): Promise<BlastResult> {
    this.#rep = rep;
    this.#start = performance.now();
    this.#lastDone = this.#start;
    this.#issued = 0;
    this.#sent = 0;
    this.#failed = 0;
    this.#stopped = false;
    return new Promise((resolve) => {
      this.#finish = resolve;
      // Pacing, and the end of the duration, need a clock that runs without completions.
      const tick = () => {
        this.#fill();
        if (!this.#stopped || this.#inFlight > 0) setImmediate(tick);
      };
      tick();
    });
  }

  #fill(): void {
    const rep = this.#rep;
    const now = performance.now();
    if (now - this.#start >= rep.durationMs) this.#stopped = true;
    let limit = rep.maxDatagrams;
    if (rep.rate > 0) limit = Math.min(limit, Math.floor(((now - this.#start) * rep.rate) / 1000));
    while (!this.#stopped && this.#inFlight < WINDOW && this.#issued < limit) {
      this.#issued++;
      this.#inFlight++;
      this.#issue();
    }
    if (this.#issued >= rep.maxDatagrams) this.#stopped = true;
    if (this.#stopped && this.#inFlight === 0) {
      this.#finish({
        sent: this.#sent,
        failed: this.#failed,
        elapsedMs: this.#lastDone - this.#start,
      });
      this.#finish = () => {};
    }
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Longest a writer waits for its last sends to complete, in ms. */
const SETTLE_MS = 5_000;

/**
 * Runs sending repetitions over ours' `write()`: a loop that awaits `drain()` when `write()`
 * returns false, so ours keeps the window (at most {@link WINDOW} pending, more when half are
 * done, as the {@link Blaster} does by hand); stops at `durationMs` or `maxDatagrams`.
 */
class Writer implements Sender {
  readonly #socket: UdpSocket;
  readonly #payload: Buffer;

  constructor(socket: UdpSocket, payload: Buffer) {
    this.#socket = socket;
    this.#payload = payload;
  }

  async run(rep: BlastRep): Promise<BlastResult> {
    const socket = this.#socket;
    const payload = this.#payload;
    // `stats` is a snapshot: read it again at the end.
    const before = socket.stats;
    const sentBefore = before.datagramsSent;
    const failedBefore = before.sendsFailed;
    const start = performance.now();
    let issued = 0;
    for (;;) {
      const now = performance.now();
      if (now - start >= rep.durationMs || issued >= rep.maxDatagrams) break;
      if (rep.rate > 0 && issued >= Math.floor(((now - start) * rep.rate) / 1000)) {
        await nextTurn();
        continue;
      }
      issued++;
      if (!socket.write(payload)) await socket.drain();
    }
    const settleBy = performance.now() + SETTLE_MS;
    while (socket.pendingSends > 0 && performance.now() < settleBy) await nextTurn();
    const after = socket.stats;
    return {
      sent: after.datagramsSent - sentBefore,
      failed: after.sendsFailed - failedBefore,
      elapsedMs: performance.now() - start,
    };
  }
}

/** One sending repetition of the sender named `key`. */
export interface SourceRep extends BlastRep {
  readonly key: string;
}

/**
 * `udp-source`: a sender per key, in one process, each sending datagrams of `size` bytes to its
 * sink's port.
 */
export async function udpSource(options: {
  sources: readonly { readonly key: string; readonly impl: UdpSourceImpl; readonly port: number }[];
  size: number;
}): Promise<Role> {
  const payload = Buffer.alloc(options.size, 0x61);
  const senders = new Map<string, Sender>();
  for (const { key, impl, port } of options.sources) {
    senders.set(key, await sender(impl, port, payload));
  }
  return {
    rep: ({ key, ...rep }: SourceRep) => {
      const found = senders.get(key);
      if (found === undefined) throw new Error(`no UDP source '${key}'`);
      return found.run(rep);
    },
  };
}

/** A connected sender of `impl` to `port`, sending `payload`. */
async function sender(impl: UdpSourceImpl, port: number, payload: Buffer): Promise<Sender> {
  if (impl === "ours") {
    const socket = await bind(`udp://${LOOPBACK}:0`, { connect: `udp://${LOOPBACK}:${port}` });
    return new Writer(socket, payload);
  }
  let blaster: Blaster;
  if (impl === "ours-send") {
    const socket = await bind(`udp://${LOOPBACK}:0`, { connect: `udp://${LOOPBACK}:${port}` });
    const ok = () => blaster.done(true);
    const failed = () => blaster.done(false);
    blaster = new Blaster(() => {
      socket.send(payload).then(ok, failed);
    });
  } else {
    const socket = await rawBind(undefined);
    socket.connect(port, LOOPBACK);
    await once(socket, "connect");
    const sent = (error: Error | null) => blaster.done(error === null);
    blaster = new Blaster(() => socket.send(payload, sent));
  }
  return blaster;
}

/** An echo server of `impl` that sends every datagram back to its sender; returns its port. */
export async function udpEchoServer(impl: UdpImpl): Promise<number> {
  if (impl === "ours") {
    const socket = await bind(`udp://${LOOPBACK}:0`);
    void (async () => {
      for await (const { data, from } of socket) await socket.send(data, from);
    })();
    return socket.local.port;
  }
  const socket = await rawBind(undefined);
  socket.on("message", (data, from) => socket.send(data, from.port, from.address));
  return socket.address().port;
}

/**
 * A ping client of `impl`, connected to the echo server on `port`: one datagram of `size`
 * bytes out, wait for it to come back, repeat.
 */
export async function udpPinger(impl: UdpImpl, port: number, size: number): Promise<Pinger> {
  const payload = Buffer.alloc(size, 0x61);
  if (impl === "ours") {
    const socket = await bind(`udp://${LOOPBACK}:0`, { connect: `udp://${LOOPBACK}:${port}` });
    const replies = socket[Symbol.asyncIterator]();
    return async (count, deadlineMs) => {
      const rtts = new Float64Array(count);
      const deadline = performance.now() + deadlineMs;
      // Loopback does not lose datagrams, but if one were lost the wait would never end:
      // the watchdog closes the socket, which ends the wait, when no reply comes for 1 s.
      let progress = 0;
      let watched = -1;
      const watchdog = setInterval(() => {
        if (watched === progress) void socket.close();
        watched = progress;
      }, 1_000);
      try {
        while (progress < count) {
          const start = performance.now();
          if (start > deadline) break;
          await socket.send(payload);
          const reply = await replies.next();
          if (reply.done === true) throw new Error("a reply was lost (none came for 1 s)");
          rtts[progress++] = performance.now() - start;
        }
      } finally {
        clearInterval(watchdog);
      }
      return rtts.subarray(0, progress);
    };
  }

  const socket = await rawBind(undefined);
  socket.connect(port, LOOPBACK);
  await once(socket, "connect");
  return (count, deadlineMs) =>
    new Promise((resolve, reject) => {
      let watched = -1;
      const stop = () => {
        clearInterval(watchdog);
        socket.off("message", onMessage);
      };
      const rounds = timedRounds(
        count,
        deadlineMs,
        () => socket.send(payload),
        (rtts) => {
          stop();
          resolve(rtts);
        },
      );
      const watchdog = setInterval(() => {
        if (watched === rounds.done) {
          stop();
          reject(new Error("a reply was lost (none came for 1 s)"));
        }
        watched = rounds.done;
      }, 1_000);
      const onMessage = () => rounds.reply();
      socket.on("message", onMessage);
    });
}
