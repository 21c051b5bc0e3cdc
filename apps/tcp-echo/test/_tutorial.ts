/**
 * For the tests that keep docs/tutorial.md true: the document's blocks, shell commands, the C
 * programs of docs/c built into a temp dir, free ports and bounded waits.
 */

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fencedBlock, normaliseOutput } from "@socket-lab/test-utils/readme-examples";
import { vi } from "vitest";
import { WAIT_MS } from "./_spawn.js";

/** docs/ at the root of the repository. */
export const DOCS = fileURLToPath(new URL("../../../docs/", import.meta.url));

/** The fenced block of docs/tutorial.md that starts with `firstLine`. */
export function documented(firstLine: string): string {
  return fencedBlock(readFileSync(`${DOCS}tutorial.md`, "utf8"), firstLine);
}

/**
 * `normaliseOutput`, and what else differs between runs of `ss`: column padding and
 * process ids (numbered in order of first appearance, so three pids stay three and one stays one).
 */
export function same(text: string): string {
  const pids = new Map<string, string>();
  return normaliseOutput(text)
    .replace(/\bpid=(\d+)/g, (_, pid: string) => `pid=${numbered(pids, pid)}`)
    .replace(/Port ?Process/g, "Port Process")
    .replace(/[ \t]+/g, " ")
    .replace(/ $/gm, "");
}

function numbered(names: Map<string, string>, pid: string): string {
  if (!names.has(pid)) names.set(pid, `P${names.size + 1}`);
  return names.get(pid) as string;
}

/** Runs `command` in sh; its stdout (a non-zero exit throws). */
export function sh(command: string): string {
  return execFileSync("sh", ["-c", command], { encoding: "utf8", timeout: WAIT_MS });
}

/** Whether `name` is a command on PATH. */
export function hasCommand(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`]).status === 0;
}

/** A port nobody listens on now (the system's choice for port 0, released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Lines of `ss` that match `filter` (no header). */
export function ssLines(options: string, filter: string): string[] {
  return sh(`ss ${options}H ${filter}`)
    .split("\n")
    .filter((line) => line.trim() !== "");
}

/** Waits, bounded, until something listens on 127.0.0.1:`port`. */
export async function listening(port: number): Promise<void> {
  await vi.waitFor(
    () => {
      if (ssLines("-ltn", `'sport = :${port}'`).length === 0)
        throw new Error(`no listener on ${port}`);
    },
    { timeout: WAIT_MS, interval: 20 },
  );
}

/**
 * Builds docs/c/NAME.c for each name with `gcc -Wall -Wextra -Werror` (the tutorial's programs
 * must compile without a warning) into a new temp dir, and returns the dir.
 */
export function compileC(names: readonly string[]): string {
  const bin = mkdtempSync(join(tmpdir(), "tutorial-c-"));
  for (const name of names) {
    execFileSync("gcc", [
      "-Wall",
      "-Wextra",
      "-Werror",
      "-o",
      join(bin, name),
      `${DOCS}c/${name}.c`,
    ]);
  }
  return bin;
}
