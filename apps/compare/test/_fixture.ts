/** A finished comparison with round numbers, for the formatting tests: no sockets needed. */

import type { Comparison } from "../src/compare.js";
import type { Arrivals } from "../src/internal/row.js";

/** Receipts of the numbers in `seqs`, 0.05 ms apart. */
function arrivals(seqs: number[]): Arrivals {
  return { seq: seqs, atMs: seqs.map((_, i) => i * 0.05) };
}

const inOrder = Array.from({ length: 1_000 }, (_, i) => i);

/** 1,000 numbers with trouble: every 20th lost, every 90th twice, every 25th a place late. */
const troubled = inOrder.flatMap((i) => {
  if (i % 20 === 7) return [];
  if (i % 90 === 3) return [i, i];
  if (i % 25 === 10) return [i + 1, i];
  if (i % 25 === 11) return [];
  return [i];
});

/** A latency distribution from 0.05 ms to `max` ms: 101 percentiles. */
function cdf(max: number): number[] {
  return Array.from({ length: 101 }, (_, p) => 0.05 + (max - 0.05) * (p / 100) ** 4);
}

const row = {
  sent: 1_000,
  delivered: 1_000,
  lost: 0,
  duplicated: 0,
  outOfOrder: 0,
  retries: null,
  elapsedMs: 40,
  messagesPerSecond: 25_000,
  latencyMs: { p50: 1.5, p99: 7.25 },
  timeLimited: false,
  arrivals: arrivals(inOrder),
  latencyCdfMs: cdf(10),
};

export const FIXTURE: Comparison = {
  settings: {
    count: 1_000,
    size: 256,
    loss: 0.05,
    duplicate: 0.02,
    reorder: 0.05,
    delayMs: 0,
    jitterMs: 0,
    seed: 42,
    chunking: "random",
    kernelLoss: null,
  },
  tcp: {
    ...row,
    stream: {
      bytes: 260_000,
      clientWrites: 30,
      relayReads: 30,
      relayPieces: 1_051,
      serverReads: 25,
    },
  },
  udp: {
    ...row,
    delivered: 949,
    lost: 51,
    duplicated: 11,
    outOfOrder: 41,
    elapsedMs: 60,
    messagesPerSecond: 15_817,
    arrivals: arrivals(troubled),
    link: { received: 1_000, forwarded: 960, dropped: 51, duplicated: 11, reordered: 41 },
  },
  udpRetries: {
    ...row,
    retries: 212,
    elapsedMs: 2_923.3,
    messagesPerSecond: 342,
    latencyMs: { p50: 0.073, p99: 29.843 },
    resendsAtMs: Array.from({ length: 212 }, (_, i) => i * 13.5),
    unanswered: 0,
    timeoutMs: 10,
    repeatsAnswered: 162,
    link: {
      toServer: { received: 1_212, forwarded: 1_162, dropped: 65, duplicated: 15, reordered: 56 },
      toClient: { received: 1_162, forwarded: 1_125, dropped: 54, duplicated: 17, reordered: 46 },
    },
  },
  udpWindow: {
    ...row,
    retries: 61,
    elapsedMs: 80,
    messagesPerSecond: 12_500,
    latencyMs: { p50: 2.5, p99: 14.5 },
    sender: {
      retransmissions: 61,
      fastRetransmits: 55,
      timeouts: 6,
      spuriousRetransmissions: 3,
      srttMs: 0.41,
      rtoMs: 10,
      cwnd: 7,
      ssthresh: 5,
      peerWindow: 256,
    },
    link: {
      toServer: { received: 1_061, forwarded: 1_030, dropped: 52, duplicated: 21, reordered: 50 },
      toClient: { received: 700, forwarded: 680, dropped: 33, duplicated: 13, reordered: 35 },
    },
  },
  crossCheck: { lost: 51, dropped: 51, duplicated: 11, duplicatesInjected: 11, ok: true },
  kernel: null,
};
