/**
 * The sliding window workload's scenarios, each whole in one worker process (client, server
 * and netsim link together, as `pnpm demo` runs them): @socket-lab/reliable-udp against TCP
 * through netsim's re-chunking relay and against stop-and-wait (udp's requester), through the
 * same seeded lossy link; and its goodput against raw node:dgram one-way.
 */

import dgram from "node:dgram";
import { setImmediate as nextTurn } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { startChunkingRelay, startLossyLink, withKernelLoss } from "@socket-lab/netsim";
import {
  connect,
  HEADER_BYTES,
  listen,
  PACKED_LENGTH_BYTES,
  type ReliableConnectionStats,
} from "@socket-lab/reliable-udp";
import { lengthPrefixed, connect as tcpConnect, listen as tcpListen } from "@socket-lab/tcp";
import { bind, createRequester, serveRequests } from "@socket-lab/udp";
import { LOOPBACK, type Role } from "./role.js";

/** How a scenario moves its messages. */
export type ReliableVariant = "window" | "window-kernel" | "tcp" | "stop-and-wait" | "raw";

/** One repetition: `count` messages of `size` bytes through a link with these impairments. */
export interface ReliableRep {
  readonly variant: ReliableVariant;
  readonly count: number;
  readonly size: number;
  readonly loss: number;
  readonly duplicate: number;
  readonly reorder: number;
  readonly seed: number;
  /** Sends at most this many messages per turn of the event loop; 0: as fast as the windows go. */
  readonly burst: number;
  /**
   * The sliding window goes through the netsim link even with no impairment: the clean
   * baseline of a lossy figure then takes the same path, relay and its CPU included, and
   * differs only in the loss. @default false
   */
  readonly viaLink?: boolean;
  readonly deadlineMs: number;
}

/** What one repetition measured. */
export interface ReliableResult {
  /** From the first send to the last delivery, ms. */
  readonly elapsedMs: number;
  /** Distinct messages delivered. */
  readonly delivered: number;
  /** Every message arrived once, in order (raw: never claimed). */
  readonly inOrder: boolean;
  /** One-way latency percentiles of the deliveries, ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Messages the link dropped on the way to the receiver (the window packs several per datagram). */
  readonly dropped: number;
  /** The sliding window sender's counters at the end (zeros for other variants). */
  readonly retransmissions: number;
  readonly spuriousRetransmissions: number;
  readonly timeouts: number;
}

/** The least RTO of the sliding window, ms: the stop-and-wait requester's first timeout. */
const MIN_RTO_MS = 10;
const REQUEST_RETRIES = 10;
/** netsim's reorder hold, as in `pnpm demo`: a later datagram releases a held one. */
const REORDER_HOLD_MS = 1_000;
/** How long a receiver may stay silent before a raw repetition is over, ms. */
const QUIET_MS = 250;

/** A message: its number and send time, then filler. */
function message(seq: number, size: number): Buffer {
  const data = Buffer.alloc(Math.max(size, 12), 0x2e);
  data.writeUInt32BE(seq, 0);
  data.writeDoubleBE(performance.now(), 4);
  return data;
}

/** Counts deliveries: distinct numbers, order, latency. */
class Tally {
  delivered = 0;
  inOrder = true;
  lastAt = 0;
  readonly #seen = new Set<number>();
  readonly #latencies: number[] = [];
  #expected = 0;

  record(data: Buffer): void {
    const now = performance.now();
    const seq = data.readUInt32BE(0);
    if (seq !== this.#expected) this.inOrder = false;
    this.#expected = seq + 1;
    if (this.#seen.has(seq)) return;
    this.#seen.add(seq);
    this.delivered++;
    this.lastAt = now;
    this.#latencies.push(now - data.readDoubleBE(4));
  }

  percentile(p: number): number {
    const sorted = Float64Array.from(this.#latencies).sort();
    if (sorted.length === 0) return Number.NaN;
    return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
  }
}

/** What a repetition measured, from its tally; `extra` for the sender's counters. */
function measured(
  tally: Tally,
  started: number,
  extra: Partial<ReliableResult> = {},
): ReliableResult {
  return {
    elapsedMs: tally.lastAt - started,
    delivered: tally.delivered,
    inOrder: tally.inOrder,
    p50Ms: tally.percentile(50),
    p99Ms: tally.percentile(99),
    dropped: 0,
    retransmissions: 0,
    spuriousRetransmissions: 0,
    timeouts: 0,
    ...extra,
  };
}

/** Waits until `done()`, or fails after `deadlineMs`. */
async function until(done: () => boolean, deadlineMs: number, what: string): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`${what}: not done in ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

function linkOptions(rep: ReliableRep, target: { host: string; port: number }) {
  return {
    target: { transport: "udp" as const, host: target.host, port: target.port },
    loss: rep.loss,
    duplicate: rep.duplicate,
    reorder: rep.reorder,
    seed: rep.seed,
    reorderHoldMs: REORDER_HOLD_MS,
  };
}

/**
 * Messages in a datagram the sliding window's client sent: each segment is a 28-byte header
 * (no SACK ranges: the client never holds early data) and one message, plus a 2-byte length
 * on all but the last; a datagram of a header alone (SYN, ACK, FIN) carries none.
 */
function messagesIn(bytes: number, size: number): number {
  if (bytes <= HEADER_BYTES) return 0;
  return Math.round((bytes + PACKED_LENGTH_BYTES) / (HEADER_BYTES + PACKED_LENGTH_BYTES + size));
}

async function window(rep: ReliableRep): Promise<ReliableResult> {
  const tally = new Tally();
  const options = { minRtoMs: MIN_RTO_MS, initialRtoMs: 10 * MIN_RTO_MS, maxMessageBytes: 1_464 };
  const server = await listen(`udp://${LOOPBACK}:0`, options);
  void (async () => {
    for await (const connection of server) {
      for await (const data of connection) tally.record(data);
      await connection.close();
    }
  })();
  const impaired = rep.loss + rep.duplicate + rep.reorder > 0;
  let dropped = 0;
  const size = message(0, rep.size).length;
  const link =
    impaired || rep.viaLink === true
      ? await startLossyLink({
          ...linkOptions(rep, server.endpoint),
          onDecision: ({ direction, bytes, decision }) => {
            if (direction === "to-server" && decision.drop) dropped += messagesIn(bytes, size);
          },
        })
      : undefined;
  const client = await connect(link?.endpoint ?? server.endpoint, options);
  let stats: ReliableConnectionStats;
  const started = performance.now();
  try {
    for (let seq = 0; seq < rep.count; seq++) {
      if (!client.write(message(seq, rep.size))) await client.drain();
      if (rep.burst > 0 && (seq + 1) % rep.burst === 0) await nextTurn();
    }
    await until(() => tally.delivered >= rep.count, rep.deadlineMs, "sliding window");
    stats = client.stats;
  } finally {
    await client.close({ timeoutMs: 2_000 });
    await server.close({ timeoutMs: 2_000 });
    await link?.close();
  }
  return measured(tally, started, {
    dropped,
    retransmissions: stats.retransmissions,
    spuriousRetransmissions: stats.spuriousRetransmissions,
    timeouts: stats.timeouts,
  });
}

async function tcp(rep: ReliableRep): Promise<ReliableResult> {
  const tally = new Tally();
  const framing = lengthPrefixed();
  const server = await tcpListen(`tcp://${LOOPBACK}:0`, { framing });
  void (async () => {
    for await (const connection of server) {
      for await (const data of connection) tally.record(data);
      await connection.close();
    }
  })();
  const relay = await startChunkingRelay({
    target: server.endpoint,
    chunking: { mode: "random", min: 1, max: 2 * rep.size },
    seed: rep.seed,
  });
  const client = await tcpConnect(relay.endpoint, { framing });
  const started = performance.now();
  try {
    for (let seq = 0; seq < rep.count; seq++) {
      if (!client.write(message(seq, rep.size))) await client.drain();
      if (rep.burst > 0 && (seq + 1) % rep.burst === 0) await nextTurn();
    }
    await until(() => tally.delivered >= rep.count, rep.deadlineMs, "tcp");
  } finally {
    await client.close();
    await server.close();
    await relay.close();
  }
  return measured(tally, started);
}

async function stopAndWait(rep: ReliableRep): Promise<ReliableResult> {
  const tally = new Tally();
  const serverSocket = await bind(`udp://${LOOPBACK}:0`);
  const server = serveRequests(serverSocket, (request) => {
    tally.record(request.data);
    return "";
  });
  const link = await startLossyLink(linkOptions(rep, serverSocket.local));
  const clientSocket = await bind(`udp://${LOOPBACK}:0`);
  const requester = createRequester(clientSocket, {
    to: link.endpoint,
    retries: REQUEST_RETRIES,
    backoff: { initialMs: MIN_RTO_MS, maxMs: 8 * MIN_RTO_MS },
  });
  const started = performance.now();
  const deadline = started + rep.deadlineMs;
  try {
    for (let seq = 0; seq < rep.count && performance.now() < deadline; seq++) {
      await requester.request(message(seq, rep.size)).catch(() => {});
    }
  } finally {
    await requester.close();
    await server.close();
    await clientSocket.close();
    await link.close();
    await serverSocket.close();
  }
  return measured(tally, started, {
    inOrder: tally.inOrder && tally.delivered === rep.count,
    dropped: link.stats.toServer.dropped,
    retransmissions: requester.stats.tries - requester.stats.requests,
  });
}

/** Raw node:dgram one-way, no reliability: what the socket alone carries. */
async function raw(rep: ReliableRep): Promise<ReliableResult> {
  const tally = new Tally();
  const receiver = dgram.createSocket("udp4");
  receiver.on("message", (data) => tally.record(data));
  await new Promise<void>((resolve) => receiver.bind(0, LOOPBACK, resolve));
  const sender = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => sender.connect(receiver.address().port, LOOPBACK, resolve));
  let pending = 0;
  const done = () => pending--;
  const started = performance.now();
  try {
    for (let seq = 0; seq < rep.count; seq++) {
      sender.send(message(seq, rep.size), done);
      pending++;
      // The same in-flight limit as @socket-lab/udp's write(): 256 sends, on again at 128.
      if (pending >= 256) while (pending > 128) await nextTurn();
    }
    let last = -1;
    let quietSince = performance.now();
    await until(
      () => {
        if (tally.delivered >= rep.count) return true;
        if (tally.delivered !== last) {
          last = tally.delivered;
          quietSince = performance.now();
        }
        return performance.now() - quietSince > QUIET_MS;
      },
      rep.deadlineMs,
      "raw",
    );
  } finally {
    sender.close();
    receiver.close();
  }
  return measured(tally, started, { inOrder: false });
}

/** Loopback's own MTU, kept inside the namespace: the sliding window's 32 KiB datagrams whole. */
export const KERNEL_LOSS_MTU = 65_536;

/**
 * The sliding window straight over loopback (no netsim link), in a private network namespace
 * where the kernel drops `rep.loss` of the datagrams, both ways: real loss with no relay's hop
 * in the path, so a clean run (loss 0) in the same namespace is the same path. The scenario
 * runs in a child process, `kernel-latency.js`, under unshare (see withKernelLoss).
 */
async function windowKernel(rep: ReliableRep): Promise<ReliableResult> {
  const script = fileURLToPath(new URL("./kernel-latency.js", import.meta.url));
  return withKernelLoss(
    {
      loss: rep.loss,
      mtu: KERNEL_LOSS_MTU,
      command: [process.execPath, script, JSON.stringify(rep)],
    },
    () => {
      throw new Error("runs in the namespace's process, kernel-latency.js");
    },
  );
}

/**
 * The kernel-loss variant's scenario, inside the namespace: the window, with no link, after
 * `warmRounds` runs of the same size not measured. The process is new and its code not yet
 * optimized: after one run of 200 messages its clean p99 read 7–11 ms, after four of 5,000
 * 0.13–0.28 ms, as the long-lived worker's clean runs read.
 */
export async function windowInNamespace(
  rep: ReliableRep,
  warmRounds: number,
): Promise<ReliableResult> {
  const direct: ReliableRep = {
    ...rep,
    variant: "window",
    loss: 0,
    duplicate: 0,
    reorder: 0,
    viaLink: false,
  };
  for (let round = 0; round < warmRounds; round++) await window(direct);
  return window(direct);
}

const SCENARIOS: Record<ReliableVariant, (rep: ReliableRep) => Promise<ReliableResult>> = {
  window,
  "window-kernel": windowKernel,
  tcp,
  "stop-and-wait": stopAndWait,
  raw,
};

/** The role: `rep` runs one scenario and answers what it measured. */
export function reliableScenarios(): Role {
  return { rep: (rep: ReliableRep) => SCENARIOS[rep.variant](rep) };
}
