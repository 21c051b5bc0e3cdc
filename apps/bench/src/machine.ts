/** What the figures were measured on: they mean little without it. */

import { readFileSync } from "node:fs";
import os from "node:os";

/** The machine and runtime of a run. */
export interface Machine {
  /** CPU model, from /proc/cpuinfo where it exists. */
  readonly cpu: string;
  /** CPUs this process may run on. */
  readonly cores: number;
  readonly node: string;
  /** Operating system and kernel release, e.g. `Linux 6.8.0`. */
  readonly kernel: string;
  /** `net.core.rmem_max`: the most SO_RCVBUF a socket may ask for, in bytes (Linux only). */
  readonly rmemMax: number | undefined;
  /**
   * How busy the CPUs were just before the run, from /proc/stat (Linux only), in percent of all
   * CPUs: other processes share the machine, and the figures with them.
   */
  readonly busyBeforePercent: number | undefined;
}

/** Busy and total CPU time of all CPUs so far, in clock ticks, from /proc/stat. */
function cpuTicks(): { busy: number; total: number } | undefined {
  const line = readFirst("/proc/stat", /^cpu\s+(.+)$/m);
  if (line === undefined) return undefined;
  const ticks = line.split(/\s+/).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  // idle and iowait are the 4th and 5th fields.
  return { busy: total - (ticks[3] ?? 0) - (ticks[4] ?? 0), total };
}

function readFirst(path: string, pattern: RegExp): string | undefined {
  try {
    return pattern.exec(readFileSync(path, "utf8"))?.[1]?.trim();
  } catch {
    return undefined;
  }
}

/** Describes this machine, watching how busy it is for `sampleMs` first. */
export async function describeMachine(sampleMs: number): Promise<Machine> {
  const before = cpuTicks();
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  const after = cpuTicks();
  const busyBeforePercent =
    before === undefined || after === undefined || after.total === before.total
      ? undefined
      : (100 * (after.busy - before.busy)) / (after.total - before.total);
  const rmemMax = readFirst("/proc/sys/net/core/rmem_max", /(\d+)/);
  return {
    cpu: readFirst("/proc/cpuinfo", /^model name\s*:\s*(.+)$/m) ?? os.cpus()[0]?.model ?? "unknown",
    cores: os.availableParallelism(),
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    rmemMax: rmemMax === undefined ? undefined : Number(rmemMax),
    busyBeforePercent,
  };
}
