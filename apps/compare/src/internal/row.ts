/**
 * Private: what every row shares. The sender numbers its messages with udp's sequenced header
 * (sequence number + send time); the receiver feeds each message it gets to a {@link Receiver},
 * which counts it with udp's SequenceTracker and notes its latency; the row reports a
 * {@link RowResult}.
 */

import type { Endpoint, TraceEvent, TraceEventType, TraceListener } from "@socket-lab/core";
import { type LinkDirectionStats, type LossyLink, startLossyLink } from "@socket-lab/netsim";
import {
  decodeSequenced,
  encodeSequenced,
  nowMicros,
  SEQUENCED_HEADER_BYTES,
  SequenceTracker,
} from "@socket-lab/udp";
import type { TraceFactory } from "../compact-trace.js";
import { REORDER_HOLD_MS, type RowId, type Settings } from "../settings.js";

/** What a row is given besides the settings. */
export interface RowRun {
  /** Gives each socket of the row a trace listener, by name. */
  readonly trace?: TraceFactory | undefined;
  /** Told how many messages the row has sent so far. */
  readonly onProgress?: ((row: RowId, sent: number, count: number) => void) | undefined;
  /** Stops the row: it closes its sockets and rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
}

/** Latency percentiles of the messages delivered, in ms. */
export interface Latency {
  /** Median: half the messages took at most this long. */
  readonly p50: number;
  /** 99th percentile: all but the slowest 1 % took at most this long. */
  readonly p99: number;
}

/** What one row measured: the columns of the table. */
export interface RowResult {
  /** Messages the sender sent (each once; retries are not counted here). */
  readonly sent: number;
  /** Distinct messages the receiver got. */
  readonly delivered: number;
  /** `sent − delivered`. */
  readonly lost: number;
  /** Receipts of a message already received. */
  readonly duplicated: number;
  /** First receipts of a message numbered lower than one received before it. */
  readonly outOfOrder: number;
  /** Request datagrams sent again; `null` for rows that never resend (TCP resends in the kernel). */
  readonly retries: number | null;
  /** From the first send to the last delivery, in ms. */
  readonly elapsedMs: number;
  /** `delivered` per second of `elapsedMs`. */
  readonly messagesPerSecond: number;
  /** One-way latency of the messages delivered, or `null` when none was. */
  readonly latencyMs: Latency | null;
  /** The row stopped sending at its time limit, before `count` messages. */
  readonly timeLimited: boolean;
  /** Every receipt, duplicates included, in the order the receiver got them: the pictures' data. */
  readonly arrivals: Arrivals;
  /**
   * The latency distribution in ms: entry `p` is the nearest-rank `p`th percentile, `p` from 0
   * to 100 (101 entries), or empty when nothing was delivered.
   */
  readonly latencyCdfMs: readonly number[];
  /**
   * When the row sent a message again, in ms after its first send, one entry per resend; rows
   * that resend nothing themselves (TCP resends in the kernel) leave it out.
   */
  readonly resendsAtMs?: readonly number[];
}

/** The receipts of a row, in arrival order: two arrays of the same length. */
export interface Arrivals {
  /** The sequence number of each receipt (a duplicate repeats one). */
  readonly seq: readonly number[];
  /** When each receipt came, in ms after the first send (µs resolution). */
  readonly atMs: readonly number[];
}

/** What a lossy link did to the datagrams of one direction. */
export interface LinkCounts {
  /** Datagrams that entered the link. */
  readonly received: number;
  /** Datagrams it sent on, duplicate copies included. */
  readonly forwarded: number;
  /** Datagrams it dropped on purpose. */
  readonly dropped: number;
  /** Datagrams it sent twice. */
  readonly duplicated: number;
  /** Datagrams it held back so that a later one could overtake them. */
  readonly reordered: number;
}

/** What a row without a link (under kernel loss) reports as the link's counts: nothing done. */
export const NO_LINK: LinkCounts = {
  received: 0,
  forwarded: 0,
  dropped: 0,
  duplicated: 0,
  reordered: 0,
};

/** The counts of {@link LinkCounts} out of the link's fuller stats. */
/**
 * The lossy link a request or window row talks through, both ways, with the run's impairments;
 * none under kernel loss, where packets go straight and the kernel drops them.
 */
export async function twoWayLink(
  settings: Settings,
  target: Endpoint,
  run: RowRun,
  name: string,
): Promise<LossyLink | undefined> {
  if (settings.kernelLoss !== null) return undefined;
  return startLossyLink({
    target,
    loss: settings.loss,
    duplicate: settings.duplicate,
    reorder: settings.reorder,
    delayMs: settings.delayMs,
    jitterMs: settings.jitterMs,
    seed: settings.seed,
    directions: "both",
    reorderHoldMs: REORDER_HOLD_MS,
    trace: traceOf(run, name),
  });
}

export function linkCountsOf(stats: LinkDirectionStats): LinkCounts {
  const { received, forwarded, dropped, duplicated, reordered } = stats;
  return { received, forwarded, dropped, duplicated, reordered };
}

/** The trace listener of one of the row's sockets, if tracing. */
export function traceOf(run: RowRun, socket: string): TraceListener | undefined {
  return run.trace?.(socket);
}

/** A socket's trace listener that also counts one kind of call, for rows that report it. */
export interface CallCounter {
  readonly trace: TraceListener;
  /** Calls of the kind counted so far. */
  readonly calls: number;
}

/** Counts `call` events (`send` or `recv`, say) of the socket named `socket`, traced or not. */
export function countCalls(run: RowRun, socket: string, call: TraceEventType): CallCounter {
  const trace = traceOf(run, socket);
  const counter = {
    calls: 0,
    trace: (event: TraceEvent) => {
      if (event.type === call) counter.calls++;
      trace?.(event);
    },
  };
  return counter;
}

/**
 * Message `seq` of a run: the 16-byte sequenced header stamped with the time now, then filler
 * up to `size` bytes.
 */
export function numberedMessage(seq: number, size: number): Buffer {
  return encodeSequenced({ seq }, Buffer.alloc(size - SEQUENCED_HEADER_BYTES, 0x2e));
}

/** The receiving end's bookkeeping: counts from the tracker, one latency per message delivered. */
export class Receiver {
  readonly #tracker = new SequenceTracker();
  readonly #latenciesUs: number[] = [];
  readonly #seqs: number[] = [];
  readonly #atUs: number[] = [];
  /** When the last message was delivered (a first copy, not a duplicate), in µs. */
  lastDeliveryUs = 0;
  /** Messages handed to `record`, duplicates included. */
  received = 0;

  /**
   * Counts one message.
   * @throws {SocketError} `ERR_INVALID_HEADER` when it does not start with a sequenced header.
   */
  record(message: Uint8Array): void {
    const now = nowMicros();
    const { seq, sentAtUs } = decodeSequenced(message);
    this.received++;
    this.#seqs.push(seq);
    this.#atUs.push(now);
    if (this.#tracker.record(seq) !== "duplicate") {
      // One-way latency: sender and receiver share this process's monotonic clock.
      this.#latenciesUs.push(now - sentAtUs);
      this.lastDeliveryUs = now;
    }
  }

  /**
   * The row's columns, given what the sender did.
   * @param startedUs When the first message was sent, on the {@link nowMicros} clock.
   */
  result(sent: number, startedUs: number, retries: number | null, timeLimited: boolean): RowResult {
    const { delivered, lost, duplicated, outOfOrder } = this.#tracker.counts(sent);
    const elapsedMs = delivered === 0 ? 0 : (this.lastDeliveryUs - startedUs) / 1000;
    return {
      sent,
      delivered,
      lost,
      duplicated,
      outOfOrder,
      retries,
      elapsedMs: Math.round(elapsedMs * 10) / 10,
      messagesPerSecond: elapsedMs > 0 ? Math.round((delivered * 1000) / elapsedMs) : 0,
      latencyMs: this.#latency(),
      timeLimited,
      arrivals: {
        seq: [...this.#seqs],
        atMs: this.#atUs.map((at) => Math.round(at - startedUs) / 1000),
      },
      latencyCdfMs: this.#cdf(),
    };
  }

  /** p50 and p99 of the latencies, or `null` when nothing was delivered. */
  #latency(): Latency | null {
    if (this.#latenciesUs.length === 0) return null;
    const cdf = this.#cdf();
    return { p50: cdf[50] as number, p99: cdf[99] as number };
  }

  /** The 0th to 100th percentiles of the latencies, in ms; empty when nothing was delivered. */
  #cdf(): number[] {
    if (this.#latenciesUs.length === 0) return [];
    const sorted = Float64Array.from(this.#latenciesUs).sort();
    // Microseconds to milliseconds, keeping the microseconds.
    return Array.from({ length: 101 }, (_, p) => percentile(sorted, p) / 1000);
  }
}

/**
 * The nearest-rank percentile of ascending `sorted` values: the smallest value with at least
 * `p` % of the values at or below it.
 * @example
 * percentile(Float64Array.of(1, 2, 3, 4), 50) //=> 2
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}
