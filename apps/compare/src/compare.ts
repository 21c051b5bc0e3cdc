/**
 * compare — the same numbered messages over a stream socket and a datagram socket, through a
 * simulated network, side by side. Start reading here.
 *
 * What it shows: loopback never loses a packet, so netsim makes the network misbehave, from a
 * seed so a run repeats exactly. Three rows, each with its own server started in this process:
 *
 *   tcp         client → netsim re-chunking relay → server   (tcp-row.ts)
 *   udp         sender → netsim lossy link → receiver         (udp-row.ts)
 *   udpRetries  requester ⇄ netsim lossy link ⇄ request server (udp-retry-row.ts)
 *   udpWindow   client ⇄ netsim lossy link ⇄ server, reliable-udp (reliable-row.ts)
 *
 * Every message carries udp's 16-byte sequenced header (sequence number + send time), and the
 * receiving side of every row counts what arrived with udp's SequenceTracker: delivered, lost,
 * duplicated, out of order. Nothing is assumed: the TCP row's zeros are counted too.
 *
 * Run it:
 *   pnpm demo                               # 1,000 × 256 bytes; 5% loss, 2% dup, 5% reorder; seed 42
 *   pnpm demo --loss 0.2 --seed 7 --json    # or any flag; --help lists them (settings.ts)
 */

import { checkInteger, checkNumber, checkOneOf, withDefaults } from "@socket-lab/core/internal";
import type { KernelLoss } from "@socket-lab/netsim";
import type { RowRun } from "./internal/row.js";
import { type KernelReport, watchKernel } from "./kernel-watch.js";
import { type ReliableRowResult, runReliableRow } from "./reliable-row.js";
import {
  CHUNKING_NAMES,
  type ChunkingName,
  COMPARE_CHUNKING,
  COMPARE_COUNT,
  COMPARE_DELAY_MS,
  COMPARE_DUPLICATE,
  COMPARE_JITTER_MS,
  COMPARE_LOSS,
  COMPARE_REORDER,
  COMPARE_SEED,
  COMPARE_SIZE,
  MAX_COUNT,
  MAX_DELAY_MS,
  MAX_SIZE,
  MIN_SIZE,
  type RowId,
  type Settings,
} from "./settings.js";
import { runTcpRow, type TcpRowResult } from "./tcp-row.js";
import { runUdpRetryRow, type UdpRetryRowResult } from "./udp-retry-row.js";
import { runUdpRow, type UdpRowResult } from "./udp-row.js";

/** Options of {@link runComparison}. */
export interface CompareOptions extends RowRun {
  /** Messages each row sends, 1 to 1,000,000. @default 1000 */
  count?: number;
  /**
   * Size of each message in bytes, the 16-byte sequenced header included: from 16 to 1,464
   * (the 1,472-byte IPv4 safe UDP payload less the request/response row's 8-byte header).
   * @default 256
   */
  size?: number;
  /** Probability that the lossy link drops a datagram, from 0 to 1. @default 0.05 */
  loss?: number;
  /** Probability that the lossy link sends a datagram twice, from 0 to 1. @default 0.02 */
  duplicate?: number;
  /**
   * Probability that the lossy link holds a datagram back until the next one has passed it,
   * from 0 to 1. @default 0.05
   */
  reorder?: number;
  /** Delay of every datagram (and of every piece of the TCP stream), in whole ms. @default 0 */
  delayMs?: number;
  /** Extra random delay per datagram on top of `delayMs`, 0 to `jitterMs` whole ms. @default 0 */
  jitterMs?: number;
  /** Seed of every netsim decision, an integer from 0 to 2³²−1. @default 42 */
  seed?: number;
  /** How the TCP relay re-splits the byte stream: "random", "bytes" or "coalesce". @default "random" */
  chunking?: ChunkingName;
  /**
   * The namespace of a `withKernelLoss` call this runs in: the kernel drops the packets instead
   * of netsim (the rows send straight to their servers; `loss`, `duplicate`, `reorder`,
   * `delayMs` and `jitterMs` are 0), and each row reports what the kernel did.
   * @default undefined (netsim)
   */
  kernel?: KernelLoss;
}

/** What a run measured. */
export interface Comparison {
  readonly settings: Settings;
  readonly tcp: TcpRowResult;
  readonly udp: UdpRowResult;
  readonly udpRetries: UdpRetryRowResult;
  readonly udpWindow: ReliableRowResult;
  readonly crossCheck: CrossCheck;
  /** What the kernel did to each row, under kernel loss; `null` with netsim. */
  readonly kernel: KernelReport | null;
}

/**
 * The one-way UDP row's receiver against the lossy link's own counters. Both pairs must be
 * equal: every datagram netsim did not drop reaches the receiver, so `lost` (sent − distinct
 * numbers received) is exactly the drops, and each duplicated datagram is exactly one extra
 * receipt.
 */
export interface CrossCheck {
  /** Lost as the receiver counted it. */
  readonly lost: number;
  /** Datagrams the link (or, under kernel loss, the kernel) dropped on purpose. */
  readonly dropped: number;
  /** Duplicates as the receiver counted them. */
  readonly duplicated: number;
  /** Datagrams the link sent twice. */
  readonly duplicatesInjected: number;
  /** `lost === dropped && duplicated === duplicatesInjected`. */
  readonly ok: boolean;
}

const DEFAULTS: Settings = {
  count: COMPARE_COUNT,
  size: COMPARE_SIZE,
  loss: COMPARE_LOSS,
  duplicate: COMPARE_DUPLICATE,
  reorder: COMPARE_REORDER,
  delayMs: COMPARE_DELAY_MS,
  jitterMs: COMPARE_JITTER_MS,
  seed: COMPARE_SEED,
  chunking: COMPARE_CHUNKING,
  kernelLoss: null,
};

/** netsim's settings under kernel loss: no loss, duplicates, reordering or delay of its own. */
const NETSIM_OFF = { loss: 0, duplicate: 0, reorder: 0, delayMs: 0, jitterMs: 0 } as const;

/**
 * Runs the four rows one after another (so they never compete for the CPU) and returns what
 * each measured, with the cross-check of the one-way UDP row.
 *
 * @throws {TypeError|RangeError} naming a bad option and its value.
 * @throws {SocketError} from a socket that failed (a bind, say), or `signal`'s reason.
 * @example
 * const result = await runComparison({ count: 200, seed: 7 });
 * result.udp.lost === result.crossCheck.dropped //=> true
 * result.tcp.lost                               //=> 0
 */
export async function runComparison(options: CompareOptions = {}): Promise<Comparison> {
  const { trace, onProgress, signal, kernel, ...given } = options;
  // Under kernel loss netsim does nothing: a row that still goes through a link or a relay
  // meets only the kernel's drops.
  const network =
    kernel === undefined ? { kernelLoss: null } : { ...NETSIM_OFF, kernelLoss: kernel.loss };
  const settings = checkSettings(withDefaults(DEFAULTS, { ...given, ...network }));
  const run = { trace, onProgress, signal };
  // Under kernel loss, each row runs with the kernel's counters read before and after.
  const watch = kernel === undefined ? undefined : watchKernel(kernel);
  const measured = async <R>(id: RowId, row: () => Promise<R>) => watch?.(id, row) ?? row();
  const tcp = await measured("tcp", () => runTcpRow(settings, run));
  const udp = await measured("udp", () => runUdpRow(settings, run));
  const udpRetries = await measured("udpRetries", () => runUdpRetryRow(settings, run));
  const udpWindow = await measured("udpWindow", () => runReliableRow(settings, run));
  const kernelReport = watch?.report() ?? null;
  // Under kernel loss, the one-way UDP row's datagrams were all the UDP packets of its turn.
  const dropped = kernelReport?.rows.udp?.udp.dropped ?? udp.link.dropped;
  const crossCheck = {
    lost: udp.lost,
    dropped,
    duplicated: udp.duplicated,
    duplicatesInjected: udp.link.duplicated,
    ok: udp.lost === dropped && udp.duplicated === udp.link.duplicated,
  };
  return { settings, tcp, udp, udpRetries, udpWindow, crossCheck, kernel: kernelReport };
}

function checkSettings(settings: Settings): Settings {
  checkInteger("count", settings.count, 1, MAX_COUNT);
  checkInteger("size", settings.size, MIN_SIZE, MAX_SIZE);
  checkNumber("loss", settings.loss, 0, 1);
  checkNumber("duplicate", settings.duplicate, 0, 1);
  checkNumber("reorder", settings.reorder, 0, 1);
  checkInteger("delayMs", settings.delayMs, 0, MAX_DELAY_MS);
  checkInteger("jitterMs", settings.jitterMs, 0, MAX_DELAY_MS);
  checkInteger("seed", settings.seed, 0, 0xffff_ffff);
  checkOneOf("chunking", settings.chunking, CHUNKING_NAMES);
  return settings;
}
