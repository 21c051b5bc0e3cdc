/**
 * Test helpers: settings for a quick run, netsim's own plan as a reference model of what the
 * lossy link must do, and the built program spawned as a user runs it.
 */

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createImpairment } from "@socket-lab/netsim";
import type { LinkCounts } from "../src/internal/row.js";
import type { Settings } from "../src/settings.js";

export const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
export const README = fileURLToPath(new URL("../README.md", import.meta.url));

/** The demo's rates with fewer, smaller messages: quick, and still every kind of trouble. */
export const QUICK: Settings = {
  count: 300,
  size: 64,
  loss: 0.05,
  duplicate: 0.02,
  reorder: 0.05,
  delayMs: 0,
  jitterMs: 0,
  seed: 42,
  chunking: "random",
  kernelLoss: null,
};

/** What the lossy link's rules predict for a one-way flow of `count` datagrams without delay. */
export interface Prediction {
  dropped: number;
  duplicated: number;
  reordered: number;
  /** Held datagrams that a later one overtook; those still held at the end are not. */
  outOfOrder: number;
}

/**
 * Replays the seeded plan the link draws from, with the link's rule for a held datagram: it
 * goes out right after the next datagram that is neither dropped nor held, or when the link
 * closes if none comes.
 */
export function predict(settings: Settings): Prediction {
  const { loss, duplicate, reorder, seed, count } = settings;
  const plan = createImpairment({ loss, duplicate, reorder, seed, direction: "to-server" });
  const prediction = { dropped: 0, duplicated: 0, reordered: 0, outOfOrder: 0 };
  let held = 0;
  for (let i = 0; i < count; i++) {
    const decision = plan.decide();
    if (decision.drop) {
      prediction.dropped++;
      continue;
    }
    if (decision.duplicate) prediction.duplicated++;
    if (decision.reorder) {
      prediction.reordered++;
      held++;
    } else {
      prediction.outOfOrder += held;
      held = 0;
    }
  }
  return prediction;
}

/**
 * What a lossy link's seeded plan decides for the first `received` datagrams of one direction:
 * how many it drops, duplicates and holds back. How many datagrams enter a link may depend on
 * timing (a retry, a retransmission); what happens to the n-th one never does.
 */
export function linkPlan(
  settings: Settings,
  direction: "to-server" | "to-client",
  received: number,
): Omit<LinkCounts, "forwarded"> {
  const { loss, duplicate, reorder, delayMs, jitterMs, seed } = settings;
  const plan = createImpairment({ loss, duplicate, reorder, delayMs, jitterMs, seed, direction });
  const counts = { received, dropped: 0, duplicated: 0, reordered: 0 };
  for (let i = 0; i < received; i++) {
    const decision = plan.decide();
    if (decision.drop) counts.dropped++;
    if (decision.duplicate) counts.duplicated++;
    if (decision.reorder) counts.reordered++;
  }
  return counts;
}

/** What a finished program did. */
export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built program with `args`, stdin closed and output piped, `env` on top of this
 * process's; kills it after `ms`.
 */
export function runCli(
  args: readonly string[],
  ms = 20_000,
  env: NodeJS.ProcessEnv = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(`socket-lab-compare ${args.join(" ")} ran over ${ms} ms; stderr: ${stderr}`),
      );
    }, ms);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
