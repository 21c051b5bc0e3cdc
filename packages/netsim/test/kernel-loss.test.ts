import { execFileSync, fork, spawn } from "node:child_process";
import { existsSync, readlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { ERR_NETNS_UNAVAILABLE, kernelLossUnavailable } from "../src/index.js";

const CHILD = fileURLToPath(new URL("fixtures/kernel-loss-child.mjs", import.meta.url));
const BUILT = fileURLToPath(new URL("../dist/index.js", import.meta.url));

// These tests need root (or unprivileged user namespaces), unshare and nft. CI runs as root
// with both installed, so there a missing tool is a failure, not a skip.
const unavailable = kernelLossUnavailable();
if (unavailable !== undefined) {
  if (process.env.CI !== undefined) {
    throw new Error(`kernel-loss tests cannot run in CI: ${unavailable}`);
  }
  console.warn(`skipping the kernel-loss tests: ${unavailable}`);
}
if (!existsSync(BUILT)) throw new Error("the kernel-loss tests run the built package: pnpm build");

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the fixture (plain Node, the built package) with a bound on its time. */
function runChild(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, ...args], { env });
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
      reject(new Error(`kernel-loss-child ${args.join(" ")} ran over 25 s; stderr: ${stderr}`));
    }, 25_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function result<T>(args: string[]): Promise<T> {
  const ran = await runChild(args);
  expect(ran, ran.stderr).toMatchObject({ code: 0 });
  return JSON.parse(ran.stdout) as T;
}

/** The host's network configuration that the rules must never touch. */
function hostNetwork() {
  const tool = (command: string, args: string[]) => {
    try {
      return execFileSync(command, args, { encoding: "utf8" });
    } catch (error) {
      return `(${command} failed: ${(error as Error).message})`;
    }
  };
  return {
    netns: readlinkSync("/proc/self/ns/net"),
    nft: tool("nft", ["list", "ruleset"]),
    iptables: tool("iptables-save", []),
    ip6tables: tool("ip6tables-save", []),
    links: tool("ip", ["-o", "link", "show"]),
  };
}

describe.skipIf(unavailable !== undefined)("withKernelLoss", () => {
  test("runs in a namespace of its own: only lo, up, at the asked MTU, the host unchanged", async () => {
    const before = hostNetwork();
    const inside = await result<{ netns: string; mtu: number; dev: string }>(["inspect", "0.05"]);
    expect(inside.netns).not.toBe(before.netns);
    expect(inside.mtu).toBe(1500);
    expect(inside.dev).toMatch(/^ +lo:/m);
    expect(inside.dev.split("\n").filter((line) => line.includes(":"))).toHaveLength(1);
    expect(hostNetwork()).toEqual(before);
  });

  test("UDP loses about the asked share: exactly the datagrams the rule dropped", async () => {
    const before = hostNetwork();
    const run = await result<{
      sent: number;
      received: number;
      counters: { udp: { packets: number; dropped: number } };
      snmp: Record<string, number>;
    }>(["udp", "0.2"]);
    expect(run.counters.udp.packets).toBe(run.sent);
    // Nothing but the rule lost a datagram: no full receive buffer.
    expect(run.received).toBe(run.sent - run.counters.udp.dropped);
    expect(run.snmp.RcvbufErrors).toBe(0);
    // 2,000 draws at 20 %: 400 ± 18 (one standard deviation); the bounds are 4.5 of them.
    const share = run.counters.udp.dropped / run.sent;
    expect(share).toBeGreaterThan(0.16);
    expect(share).toBeLessThan(0.24);
    expect(hostNetwork()).toEqual(before);
  });

  test("TCP delivers every byte at 5 % loss, and the kernel retransmits (RetransSegs > 0)", async () => {
    const before = hostNetwork();
    const run = await result<{
      total: number;
      received: number;
      snmp: Record<string, number>;
      info: { local: string; peer: string; retransmits: number }[];
      counters: { tcp: { packets: number; dropped: number } };
    }>(["tcp", "0.05"]);
    expect(run.received).toBe(run.total);
    expect(run.counters.tcp.dropped).toBeGreaterThan(0);
    expect(run.snmp.RetransSegs).toBeGreaterThan(0);
    // tcp_info of both ends of the one connection, read through ss.
    expect(run.info).toHaveLength(2);
    for (const socket of run.info) expect(socket.local).toMatch(/^127\.0\.0\.1:\d+$/);
    const retransmits = run.info.reduce((sum, socket) => sum + socket.retransmits, 0);
    expect(retransmits).toBeLessThanOrEqual(run.snmp.RetransSegs as number);
    expect(hostNetwork()).toEqual(before);
  });

  test("an error thrown in the namespace is thrown in the parent, code and hint kept", async () => {
    const ran = await runChild(["fail", "0.05"]);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain("RangeError ERR_TEST boom in the namespace\na hint\n");
    expect(ran.stdout).toBe("");
  });

  test("refuses to install a rule in its parent's namespace", async () => {
    const before = hostNetwork();
    // The child believes it was started by withKernelLoss, but no unshare ran.
    const child = fork(CHILD, ["inspect", "0.5"], {
      env: { ...process.env, SOCKET_LAB_PARENT_NETNS: before.netns },
      execArgv: [],
      serialization: "advanced",
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const answer = await new Promise<{ error?: { code?: string; message: string } }>(
      (resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer in 20 s: ${stderr}`)), 20_000);
        child.on("message", (message) => {
          clearTimeout(timer);
          resolve(message as { error?: { code?: string; message: string } });
        });
      },
    );
    expect(answer.error?.code).toBe(ERR_NETNS_UNAVAILABLE);
    expect(answer.error?.message).toContain("parent's network namespace");
    expect(hostNetwork()).toEqual(before);
  });
});

test("without unshare it says what to run", async () => {
  // A PATH with no unshare on it: the same answer as a machine without the privilege.
  const ran = await runChild(["inspect", "0.05"], { ...process.env, PATH: "/nonexistent" });
  expect(ran.code).toBe(2);
  expect(ran.stderr).toContain(ERR_NETNS_UNAVAILABLE);
  expect(ran.stderr).toContain("unshare is not installed");
  expect(ran.stderr).toContain("sudo");
  expect(ran.stdout).toBe("");
});
