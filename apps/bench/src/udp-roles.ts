/**
 * The UDP workloads' two sides, over @socket-lab/udp ("ours") and over a minimal node:dgram
 * program ("raw"). Senders are connected sockets on both sides (no address per datagram); both
 * keep the same number of sends in flight, so that only the code in between differs.
 */

import dgram from "node:dgram";
import { once } from "node:events";
import { bind } from "@socket-lab/udp";
import type { Pinger } from "./pingpong-roles.js";
import { LOOPBACK, type Role } from "./role.js";
import { timedRounds } from "./rounds.js";

/** Which implementation a UDP role uses. */
export type UdpImpl = "ours" | "raw";

/** Sends a sender keeps in flight (issued, completion not yet seen). */
const WINDOW = 256;

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

/**
 * Runs sending repetitions: `issue()` starts one send and its completion must call `done`.
 * Keeps at most {@link WINDOW} sends in flight; stops issuing at `durationMs` or `maxDatagrams`.
 */
class Blaster {
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

/** One sending repetition of the sender of `impl`. */
export interface SourceRep extends BlastRep {
  readonly impl: UdpImpl;
}

/**
 * `udp-source`: a sender per implementation, in one process, each sending datagrams of `size`
 * bytes to its sink's port.
 */
export async function udpSource(options: {
  sources: readonly { readonly impl: UdpImpl; readonly port: number }[];
  size: number;
}): Promise<Role> {
  const payload = Buffer.alloc(options.size, 0x61);
  const blasters = new Map<UdpImpl, Blaster>();
  for (const { impl, port } of options.sources)
    blasters.set(impl, await blaster(impl, port, payload));
  return {
    rep: ({ impl, ...rep }: SourceRep) => {
      const sender = blasters.get(impl);
      if (sender === undefined) throw new Error(`no UDP source '${impl}'`);
      return sender.run(rep);
    },
  };
}

/** A connected sender of `impl` to `port`, sending `payload`. */
async function blaster(impl: UdpImpl, port: number, payload: Buffer): Promise<Blaster> {
  let sender: Blaster;
  if (impl === "ours") {
    const socket = await bind(`udp://${LOOPBACK}:0`, { connect: `udp://${LOOPBACK}:${port}` });
    const ok = () => sender.done(true);
    const failed = () => sender.done(false);
    sender = new Blaster(() => {
      socket.send(payload).then(ok, failed);
    });
  } else {
    const socket = await rawBind(undefined);
    socket.connect(port, LOOPBACK);
    await once(socket, "connect");
    const sent = (error: Error | null) => sender.done(error === null);
    sender = new Blaster(() => socket.send(payload, sent));
  }
  return sender;
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
