/**
 * The built benchmark, run as a user runs it: `node dist/cli.js …`. The smoke run proves the
 * benchmark still works end to end; it never asserts on speed. Build first (`pnpm build`;
 * turbo does it before `test`).
 */

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { helpDefaults } from "@socket-lab/test-utils/help-defaults";
import { describe, expect, it } from "vitest";
import { type BenchReport, MODES } from "../src/bench.js";
import { BULK_REPS_FACTOR, WORKLOAD_NAMES } from "../src/workloads.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

/** Longest the smoke run may take before the test fails, in ms: about a minute with the CPUs busy. */
const SMOKE_MS = 300_000;

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: readonly string[], timeoutMs: number): Promise<Exit> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'pnpm build' first`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
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
      reject(new Error(`cli ${args.join(" ")} still running after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("socket-lab-bench --quick --json", () => {
  it(
    "runs every workload, exits 0 and reports numeric figures for each",
    async () => {
      const { code, stdout, stderr } = await run(["--quick", "--json"], SMOKE_MS);
      expect(stderr).toBe("");
      expect(code).toBe(0);
      const report = JSON.parse(stdout) as BenchReport;
      expect(report.mode).toBe("quick");
      expect(report.repetitions).toBe(1);
      expect(report.machine.node).toBe(process.version);
      expect(report.workloads.map((w) => w.name)).toEqual([...WORKLOAD_NAMES]);
      const bulk = report.workloads.find((w) => w.name === "tcp-bulk");
      expect(bulk?.repetitions).toBe(BULK_REPS_FACTOR);
      for (const workload of report.workloads) {
        expect(workload.figures.length, workload.name).toBeGreaterThan(0);
        for (const figure of workload.figures) {
          const where = `${workload.name} ${figure.variant} ${figure.metric}`;
          expect(figure.samples, where).toHaveLength(workload.repetitions ?? 1);
          for (const value of [figure.median, figure.min, figure.max, ...figure.samples]) {
            expect(Number.isFinite(value), `${where}: ${value}`).toBe(true);
          }
          // A rate of 0 is a counter read wrong (a stale stats snapshot once read 0 sent/s).
          if (RATES.has(figure.metric)) expect(figure.median, where).toBeGreaterThan(0);
        }
        for (const check of workload.checks) {
          expect(Number.isFinite(check.value), `${workload.name} ${check.name}`).toBe(true);
          if (check.target !== undefined) expect(typeof check.met).toBe("boolean");
        }
      }
    },
    SMOKE_MS + 5_000,
  );
});

/** Metrics that count work done: never 0 in a run that did the work. */
const RATES = new Set(["sent", "received", "throughput", "messages", "goodput", "req/s"]);

describe("socket-lab-bench flags", () => {
  it.each([
    [["--reps", "0"], /--reps: 0 is out of range \(1–50\)/],
    [["--reps", "many"], /--reps: 'many' is not a whole number/],
    [["--connections", "0"], /--connections: 0 is out of range/],
    [["--connections", "100000"], /--connections: 100000 is out of range/],
    [["--only", "tcp-bulk,nope"], /--only: 'nope' is not one of tcp-bulk, /],
    [["--quick", "extra"], /unexpected argument 'extra'/],
    [["--fast"], /Unknown option '--fast'/],
  ])("%j exits 2 and names the problem", async (args, message) => {
    const { code, stdout, stderr } = await run(args, 60_000);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(message);
    expect(stderr).toMatch(/Run 'socket-lab-bench --help' for usage/);
  });

  it("--help lists every workload and exits 0", async () => {
    const { code, stdout } = await run(["--help"], 60_000);
    expect(code).toBe(0);
    for (const name of WORKLOAD_NAMES) expect(stdout).toContain(name);
    // Every default shown comes from the modes a run applies.
    const connections = (n: number) => n.toLocaleString("en-US");
    expect(helpDefaults(stdout)).toEqual({
      reps: `${MODES.full.reps}, or ${MODES.quick.reps} with --quick`,
      only: "all",
      connections: `${connections(MODES.full.connections)}, or ${connections(MODES.quick.connections)} with --quick`,
    });
  });
});
