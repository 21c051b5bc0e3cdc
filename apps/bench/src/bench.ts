/**
 * The orchestrator: runs each workload over our packages and over the raw baseline in the same
 * run, client and server in separate worker processes pinned to different CPUs, repetitions
 * interleaved after a warm-up, and gathers the figures and ratios into one report.
 */

import { describeMachine, type Machine } from "./machine.js";
import type { Context, ModeSettings, WorkloadReport } from "./measure.js";
import { detectPlacement, type Placement, Worker } from "./spawn-worker.js";
import { WORKLOAD_RUNNERS, type WorkloadName } from "./workloads.js";

/** `full` for figures worth keeping, `quick` for a seconds-long smoke run. */
export type Mode = "full" | "quick";

/** The settings of each mode. */
export const MODES: Readonly<Record<Mode, ModeSettings>> = {
  full: {
    reps: 7,
    repSeconds: 0.5,
    warmSeconds: 0.2,
    pings: 20_000,
    warmPings: 2_000,
    pacedMs: 1_000,
    connections: 10_000,
    warmConnections: 500,
    webRequests: 10_000,
    warmWebRequests: 2_000,
    reliableMessages: 1_000,
    goodputMessages: 100_000,
    latencyMessages: 5_000,
  },
  quick: {
    reps: 1,
    repSeconds: 0.05,
    warmSeconds: 0.02,
    pings: 500,
    warmPings: 100,
    pacedMs: 200,
    connections: 1_000,
    warmConnections: 100,
    webRequests: 500,
    warmWebRequests: 100,
    reliableMessages: 100,
    goodputMessages: 2_000,
    latencyMessages: 200,
  },
};

/** What to run. */
export interface BenchOptions {
  readonly mode: Mode;
  /** Repetitions per figure. @default the mode's */
  readonly reps?: number | undefined;
  /** Concurrent connections of the connections workload. @default the mode's */
  readonly connections?: number | undefined;
  /** The workloads to run, in this order. */
  readonly workloads: readonly WorkloadName[];
  /** Write a V8 CPU profile of every worker into this directory. @default none */
  readonly cpuProfileDir?: string | undefined;
  /** Receives a line as each workload starts. */
  readonly onProgress?: ((line: string) => void) | undefined;
}

/** A whole run. */
export interface BenchReport {
  readonly mode: Mode;
  readonly repetitions: number;
  readonly machine: Machine;
  readonly placement: Placement;
  readonly workloads: readonly WorkloadReport[];
  readonly elapsedSeconds: number;
}

/** Runs the workloads one after the other and reports them. */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const started = performance.now();
  const base = MODES[options.mode];
  const settings: ModeSettings = {
    ...base,
    reps: options.reps ?? base.reps,
    connections: options.connections ?? base.connections,
    warmConnections: Math.min(base.warmConnections, options.connections ?? base.connections),
  };
  const placement = detectPlacement();
  const machine = await describeMachine(options.mode === "quick" ? 200 : 1_000);
  const workloads: WorkloadReport[] = [];
  for (const name of options.workloads) {
    options.onProgress?.(`running ${name}…`);
    const workers: Worker[] = [];
    const context: Context = {
      settings,
      machine,
      spawn: async (worker) => {
        const started = await Worker.start(placement, {
          ...worker,
          cpuProfileDir: options.cpuProfileDir,
        });
        workers.push(started);
        return started;
      },
    };
    try {
      workloads.push(await WORKLOAD_RUNNERS[name](context));
    } finally {
      await Promise.all(workers.map((worker) => worker.stop()));
    }
  }
  return {
    mode: options.mode,
    repetitions: settings.reps,
    machine,
    placement,
    workloads,
    elapsedSeconds: (performance.now() - started) / 1000,
  };
}
