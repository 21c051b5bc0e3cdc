/**
 * Under kernel loss (`--kernel-loss`): what the kernel did during each row, read from the
 * namespace's own counters — packets the loss rules saw and dropped (nftables), segments TCP
 * retransmitted (`RetransSegs` of /proc/net/snmp, sampled so they can be drawn over time), and
 * the retransmits in `tcp_info` of the row's TCP sockets (through `ss -ti`).
 */

import type { KernelLoss, KernelLossCount, KernelLossCounters } from "@socket-lab/netsim";
import type { RowId } from "./settings.js";

/** How often RetransSegs is read during a row, in ms. */
const SNMP_SAMPLE_MS = 5;
/** How often `tcp_info` is read during a row, in ms (each read runs `ss`). */
const TCP_INFO_SAMPLE_MS = 50;

/** What the kernel did during one row. */
export interface KernelRowCounts {
  /** TCP packets that reached the loss rules during the row, and those dropped. */
  readonly tcp: KernelLossCount;
  /** UDP packets that reached the loss rules during the row, and those dropped. */
  readonly udp: KernelLossCount;
  /** Share of the row's packets (TCP and UDP) dropped: the loss observed, beside the asked. */
  readonly observedLoss: number | null;
  /** Segments TCP retransmitted during the row (`RetransSegs`). */
  readonly retransSegs: number;
  /** When they were retransmitted, in ms after the row began, one entry per segment. */
  readonly retransmitsAtMs: readonly number[];
  /**
   * Retransmits `tcp_info` counted on the row's TCP sockets (`tcpi_total_retrans`, the last
   * value seen of each socket while it was open), or `null` when the row had none open.
   */
  readonly tcpInfoRetransmits: number | null;
}

/** What the kernel did, row by row. */
export interface KernelReport {
  /** Share of packets the rules drop, as asked. */
  readonly loss: number;
  /** Loopback's MTU in the namespace, in bytes. */
  readonly mtu: number;
  /** Each row's counts, for every row that ran under the watch. */
  readonly rows: Partial<Record<RowId, KernelRowCounts>>;
}

/** Runs one row with the kernel watched; `report()` gives what was seen so far. */
export interface KernelWatch {
  <R>(id: RowId, row: () => Promise<R>): Promise<R>;
  report(): KernelReport;
}

/** A watch over the namespace of `kernel`. */
export function watchKernel(kernel: KernelLoss): KernelWatch {
  const rows: Partial<Record<RowId, KernelRowCounts>> = {};
  const watch = async <R>(id: RowId, row: () => Promise<R>): Promise<R> => {
    const before = await kernel.counters();
    const retransmits = sampleRetransmits(kernel);
    const tcpInfo = sampleTcpInfo(kernel);
    try {
      return await row();
    } finally {
      const retransmitsAtMs = retransmits.stop();
      const tcpInfoRetransmits = await tcpInfo.stop();
      const after = await kernel.counters();
      rows[id] = counts(before, after, retransmitsAtMs, tcpInfoRetransmits);
    }
  };
  return Object.assign(watch, { report: () => ({ loss: kernel.loss, mtu: kernel.mtu, rows }) });
}

function counts(
  before: KernelLossCounters,
  after: KernelLossCounters,
  retransmitsAtMs: number[],
  tcpInfoRetransmits: number | null,
): KernelRowCounts {
  const delta = (proto: "tcp" | "udp") => ({
    packets: after[proto].packets - before[proto].packets,
    dropped: after[proto].dropped - before[proto].dropped,
  });
  const tcp = delta("tcp");
  const udp = delta("udp");
  const packets = tcp.packets + udp.packets;
  return {
    tcp,
    udp,
    observedLoss: packets === 0 ? null : (tcp.dropped + udp.dropped) / packets,
    retransSegs: retransmitsAtMs.length,
    retransmitsAtMs,
    tcpInfoRetransmits,
  };
}

/** Reads RetransSegs every few ms; `stop()` gives one time per retransmitted segment. */
function sampleRetransmits(kernel: KernelLoss) {
  const read = () => kernel.snmp().Tcp?.RetransSegs ?? 0;
  const started = performance.now();
  const times: number[] = [];
  let last = read();
  const sample = () => {
    const now = read();
    const at = Math.round((performance.now() - started) * 10) / 10;
    for (; last < now; last++) times.push(at);
  };
  const timer = setInterval(sample, SNMP_SAMPLE_MS);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return times;
    },
  };
}

/** Reads `tcp_info` of every TCP socket now and then, keeping each socket's last total. */
function sampleTcpInfo(kernel: KernelLoss) {
  const totals = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const socket of await kernel.tcpInfo().catch(() => [])) {
        totals.set(`${socket.local} ${socket.peer}`, socket.retransmits);
      }
      await new Promise((resolve) => setTimeout(resolve, TCP_INFO_SAMPLE_MS));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      if (totals.size === 0) return null;
      let sum = 0;
      for (const total of totals.values()) sum += total;
      return sum;
    },
  };
}
