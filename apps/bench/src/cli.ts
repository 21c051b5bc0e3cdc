#!/usr/bin/env node
/**
 * `socket-lab-bench`: throughput, latency and scale of @socket-lab/tcp and @socket-lab/udp
 * against raw node:net and node:dgram, measured in the same run.
 *
 * Run it:
 *   pnpm bench             # the full run, a few minutes: the table in BENCHMARKS.md
 *   pnpm bench --quick     # a seconds-long smoke run (the test runs it)
 *
 * Read src/workloads.ts first: what each workload sends and which ratios it checks.
 */

import { JSON_FLAG, parseIntegerFlag, runCommand, UsageError } from "@socket-lab/cli";
import pkg from "../package.json" with { type: "json" };
import { MODES, runBench } from "./bench.js";
import { formatReport } from "./report.js";
import { BULK_REPS_FACTOR, WORKLOAD_NAMES, type WorkloadName } from "./workloads.js";

/** Most repetitions and connections the flags accept. */
const MAX_REPS = 50;
const MAX_CONNECTIONS = 50_000;

function parseWorkloads(value: string): WorkloadName[] {
  const names = value.split(",").map((name) => name.trim());
  for (const name of names) {
    if (!(WORKLOAD_NAMES as readonly string[]).includes(name)) {
      throw new UsageError(`--only: '${name}' is not one of ${WORKLOAD_NAMES.join(", ")}`);
    }
  }
  // In the order of a full run, each once.
  return WORKLOAD_NAMES.filter((name) => names.includes(name));
}

process.exitCode = await runCommand({
  name: "socket-lab-bench",
  version: pkg.version,
  description:
    "measure @socket-lab/tcp and @socket-lab/udp against raw node:net and node:dgram on 127.0.0.1",
  usage: "[options]",
  flags: {
    quick: {
      type: "boolean",
      description: `a seconds-long smoke run: ${MODES.quick.reps} repetition, short runs, ${MODES.quick.connections.toLocaleString("en-US")} connections`,
    },
    reps: {
      type: "string",
      valueName: "N",
      description: `repetitions of each figure, 1–${MAX_REPS} (TCP bulk runs ${BULK_REPS_FACTOR} times as many)`,
      defaultText: `${MODES.full.reps}, or ${MODES.quick.reps} with --quick`,
      parse: (flag, value) => parseIntegerFlag(flag, value, { min: 1, max: MAX_REPS }),
    },
    only: {
      type: "string",
      valueName: "LIST",
      description: `comma-separated workloads to run: ${WORKLOAD_NAMES.join(", ")}`,
      defaultText: "all",
      parse: (_flag, value) => parseWorkloads(value),
      default: [...WORKLOAD_NAMES],
    },
    connections: {
      type: "string",
      valueName: "N",
      description: `concurrent clients of the connections workload, 1–${MAX_CONNECTIONS.toLocaleString("en-US")}`,
      defaultText: `${MODES.full.connections.toLocaleString("en-US")}, or ${MODES.quick.connections.toLocaleString("en-US")} with --quick`,
      parse: (flag, value) => parseIntegerFlag(flag, value, { min: 1, max: MAX_CONNECTIONS }),
    },
    "cpu-prof": {
      type: "string",
      valueName: "DIR",
      description: "write a V8 CPU profile of every worker process into DIR (node --cpu-prof)",
    },
    json: { ...JSON_FLAG, description: "print the report as one JSON object" },
  },
  examples: [
    "socket-lab-bench",
    "socket-lab-bench --quick --json",
    "socket-lab-bench --only tcp-bulk,tcp-pingpong --reps 9",
  ],
  async run({ values, stdout, stderr }) {
    const { reps, connections, only: workloads } = values;
    const interactive = (stderr as { isTTY?: boolean }).isTTY === true;
    const report = await runBench({
      mode: values.quick ? "quick" : "full",
      reps,
      connections,
      workloads,
      cpuProfileDir: values["cpu-prof"],
      onProgress: interactive ? (line) => stderr.write(`${line}\n`) : undefined,
    });
    stdout.write(values.json ? `${JSON.stringify(report)}\n` : formatReport(report));
  },
});
