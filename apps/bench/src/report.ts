/** The report as people read it: one block per workload, then every target met or not. */

import type { BenchReport } from "./bench.js";
import type { Check } from "./measure.js";

/**
 * A number for a table: thousands separators, and about three significant digits below 100.
 * @example Fragment: formatNumber is private to this file, so no example can import it
 * formatNumber(1234567.8) // "1,234,568"
 * formatNumber(3.14159)   // "3.14"
 */
function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function withUnit(value: string, unit: string): string {
  return unit === "" ? value : `${value} ${unit}`;
}

function formatCheckValue(check: Check): string {
  return check.unit === "×"
    ? `${check.value.toFixed(2)}×`
    : withUnit(formatNumber(check.value), check.unit);
}

function formatTarget(check: Check): string {
  if (check.target === undefined) return "";
  const value =
    check.unit === "×"
      ? `${check.target.value}×`
      : withUnit(String(check.target.value), check.unit);
  return `${check.target.op} ${value}`;
}

function verdict(check: Check): string {
  if (check.met === undefined) return "";
  return check.met ? "met" : "NOT MET";
}

/** Pads each column to its widest cell. */
function table(rows: readonly (readonly string[])[], indent = "  "): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    `${indent}${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ")}`.trimEnd(),
  );
}

/** The whole report as text. */
export function formatReport(report: BenchReport): string {
  const { machine, placement } = report;
  const lines = [
    `socket-lab bench (${report.mode}): ${report.repetitions} repetition${report.repetitions === 1 ? "" : "s"} per figure after a warm-up; median, then spread (min–max)`,
    `machine:   ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.kernel}`,
    `placement: ${placement.description}`,
  ];
  if (machine.busyBeforePercent !== undefined) {
    lines.push(
      `load:      CPUs ${machine.busyBeforePercent.toFixed(0)}% busy just before the run (other processes share this machine)`,
    );
  }
  const targets: string[][] = [];
  for (const workload of report.workloads) {
    const repetitions =
      workload.repetitions === undefined ? "" : ` (${workload.repetitions} repetitions)`;
    lines.push("", `${workload.name} — ${workload.title}${repetitions}`);
    lines.push(
      ...table(
        workload.figures.map((f) => [
          f.label,
          f.metric,
          withUnit(formatNumber(f.median), f.unit),
          f.samples.length > 1 ? `(${formatNumber(f.min)}–${formatNumber(f.max)})` : "",
        ]),
      ),
    );
    lines.push(
      ...table(
        workload.checks.map((c) => [
          c.name,
          formatCheckValue(c),
          c.target === undefined ? "" : `target ${formatTarget(c)}`,
          verdict(c),
        ]),
      ),
    );
    for (const note of workload.notes) lines.push(`  note: ${note}`);
    for (const check of workload.checks) {
      if (check.target !== undefined) {
        targets.push([
          `${workload.name}: ${check.name}`,
          formatCheckValue(check),
          formatTarget(check),
          verdict(check),
        ]);
      }
    }
  }
  if (targets.length > 0) {
    const met = targets.filter((row) => row[3] === "met").length;
    lines.push("", `targets: ${met} of ${targets.length} met`, ...table(targets));
  }
  lines.push("", `took ${report.elapsedSeconds.toFixed(1)} s`);
  return `${lines.join("\n")}\n`;
}
