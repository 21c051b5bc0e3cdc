/**
 * What every workload uses: the settings of the run, workers, repetitions interleaved after a
 * calibrating warm-up, and figures and checks built from the medians.
 */

import type { Machine } from "./machine.js";
import type { Worker, WorkerOptions } from "./spawn-worker.js";
import { type Summary, summarize } from "./stats.js";

/** Sizes and durations of a run, per mode. */
export interface ModeSettings {
  /** Repetitions of each figure. */
  readonly reps: number;
  /** Aimed duration of one throughput repetition, in s (counts are calibrated to it). */
  readonly repSeconds: number;
  /** Aimed duration of the warm-up that calibrates them, in s. */
  readonly warmSeconds: number;
  /** Round trips per latency repetition, and in its warm-up. */
  readonly pings: number;
  readonly warmPings: number;
  /** Duration of a paced UDP repetition, in ms. */
  readonly pacedMs: number;
  /** Concurrent connections, and connections opened and closed first as a warm-up. */
  readonly connections: number;
  readonly warmConnections: number;
  /** Keep-alive requests of a web repetition (the RSS check spans them), and of its warm-up. */
  readonly webRequests: number;
  readonly warmWebRequests: number;
  /** Messages of the sliding window workload: through the lossy link, clean goodput, latency. */
  readonly reliableMessages: number;
  readonly goodputMessages: number;
  readonly latencyMessages: number;
}

/** One figure of one variant, over the repetitions. */
export interface Figure extends Summary {
  /** `ours`, `raw`, `raw-each`, `split2`, …: which implementation. */
  readonly variant: string;
  /** What it is, e.g. `ours: send() per message`. */
  readonly label: string;
  /** e.g. `throughput`, `p50`, `loss`. */
  readonly metric: string;
  /** e.g. `MB/s`, `msg/s`, `µs`, `%`. */
  readonly unit: string;
}

/** A comparison or a limit, with the target it answers when the issue sets one. */
export interface Check {
  /** e.g. `ours/raw MB/s`. */
  readonly name: string;
  readonly value: number;
  /** `×` for ratios, or the figure's unit. */
  readonly unit: string;
  readonly target?: { readonly op: "≥" | "≤"; readonly value: number };
  /** Whether `value` meets the target; absent when there is none. */
  readonly met?: boolean;
}

/** The figures and checks of one workload. */
export interface WorkloadReport {
  readonly name: string;
  readonly title: string;
  readonly figures: readonly Figure[];
  readonly checks: readonly Check[];
  /** Repetitions of each figure, when not the run's (`repetitions` of the report). */
  readonly repetitions?: number;
  /** What else a reader needs: granted buffer sizes, the fastest npm decoder, … */
  readonly notes: readonly string[];
}

/** What a workload runner gets. */
export interface Context {
  readonly settings: ModeSettings;
  readonly machine: Machine;
  /** Starts a worker that is stopped when the workload ends, if not before. */
  spawn(options: WorkerOptions): Promise<Worker>;
}

/**
 * Measures each variant `reps` times, interleaved (each repetition starts with a different
 * variant), so that a slow moment of the machine does not land on one variant only.
 */
export async function interleave<V extends string>(
  variants: readonly V[],
  reps: number,
  measure: (variant: V) => Promise<Readonly<Record<string, number>>>,
): Promise<Map<V, Map<string, number[]>>> {
  const results = new Map<V, Map<string, number[]>>(variants.map((v) => [v, new Map()]));
  for (let rep = 0; rep < reps; rep++) {
    for (const variant of inTurns(variants, rep)) {
      record(results.get(variant) as Map<string, number[]>, await measure(variant));
    }
  }
  return results;
}

/** `variants` in turn, starting with a different one at each `turn`. */
export function inTurns<V>(variants: readonly V[], turn: number): V[] {
  return variants.map((_, i) => variants[(i + turn) % variants.length] as V);
}

/** Adds one repetition's figures to the samples of each metric. */
export function record(
  samples: Map<string, number[]>,
  figures: Readonly<Record<string, number>>,
): void {
  for (const [metric, value] of Object.entries(figures)) {
    samples.set(metric, [...(samples.get(metric) ?? []), value]);
  }
}

/**
 * Calibrates a count so that one run takes about `seconds`: runs `initial`, then a warm-up
 * scaled to `warmSeconds`, and scales again from that. Returns the count; bounded by `max`.
 */
export async function calibrate(
  run: (count: number) => Promise<number>,
  initial: number,
  warmSeconds: number,
  seconds: number,
  max: number,
): Promise<number> {
  const scale = (count: number, ms: number, target: number) =>
    Math.max(1, Math.min(max, Math.round((count * target * 1000) / Math.max(ms, 0.001))));
  let count = initial;
  let ms = await run(count);
  count = scale(count, ms, warmSeconds);
  ms = await run(count);
  return scale(count, ms, seconds);
}

/** A figure from its samples. */
export function figure(
  variant: string,
  label: string,
  metric: string,
  unit: string,
  samples: readonly number[],
): Figure {
  return { variant, label, metric, unit, ...summarize(samples) };
}

/** A ratio of two medians, with its target if any. */
export function ratio(name: string, value: number, target?: Check["target"]): Check {
  return limit(name, value, "×", target);
}

/** A value checked against a limit, or shown alone. */
export function limit(name: string, value: number, unit: string, target?: Check["target"]): Check {
  if (target === undefined) return { name, value, unit };
  const met = target.op === "≥" ? value >= target.value : value <= target.value;
  return { name, value, unit, target, met };
}
