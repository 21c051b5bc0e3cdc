/**
 * Real packet loss on loopback, done by the kernel: the program runs again inside a private
 * network namespace (`unshare -n`), where loopback is brought up and an nftables rule drops a
 * random share of TCP and UDP packets. TCP then loses real segments and the kernel retransmits
 * them; UDP datagrams simply vanish. The host's own network namespace is never touched.
 */

import { execFile, spawn, spawnSync } from "node:child_process";
import { readFileSync, readlinkSync } from "node:fs";
import { promisify } from "node:util";
import { SocketError } from "@socket-lab/core";
import { checkInteger, invalidArgValue } from "@socket-lab/core/internal";
import { checkRate } from "./internal/validate.js";
import {
  counters,
  type KernelLossCounters,
  nft,
  rules,
  type Snmp,
  snmp,
  type TcpInfo,
  tcpInfo,
} from "./kernel-counters.js";

const run = promisify(execFile);

/** Code of the error thrown when no private network namespace with loss rules can be made. */
export const ERR_NETNS_UNAVAILABLE = "ERR_NETNS_UNAVAILABLE";

/** Default share of packets dropped: 5 %. */
export const DEFAULT_KERNEL_LOSS = 0.05;
/**
 * Default MTU of loopback inside the namespace, in bytes: Ethernet's 1,500, so that a stream is
 * cut into many segments (loopback's own 65,536 would send 260 KB in a handful).
 */
export const DEFAULT_KERNEL_LOSS_MTU = 1_500;

/** The environment variable that tells the namespaced child the parent's namespace. */
const PARENT_NETNS_ENV = "SOCKET_LAB_PARENT_NETNS";

/** Options of {@link withKernelLoss}. */
export interface KernelLossOptions {
  /** Share of TCP and UDP packets the kernel drops, each packet on its own, 0 to 1. @default 0.05 */
  loss?: number;
  /** MTU of loopback inside the namespace, in bytes, 1,280 to 65,536. @default 1500 */
  mtu?: number;
  /**
   * The program to run inside the namespace, `[executable, ...args]`. It must call
   * `withKernelLoss` again, on the same path. @default this program again: `process.execPath`,
   * `process.execArgv` and `process.argv.slice(1)`
   */
  command?: readonly string[];
}

/** Handed to the function that runs inside the namespace. */
export interface KernelLoss {
  /** The share of packets dropped, as asked. */
  readonly loss: number;
  /** Loopback's MTU in the namespace, in bytes. */
  readonly mtu: number;
  /** What the rules have seen and dropped so far (`nft list table`). */
  counters(): Promise<KernelLossCounters>;
  /** The namespace's `/proc/net/snmp` now (each namespace has its own). */
  snmp(): Snmp;
  /** `tcp_info` of the namespace's TCP sockets now, through `ss -ti` (sock_diag). */
  tcpInfo(): Promise<TcpInfo[]>;
}

/**
 * Runs `fn` inside a new network namespace where the kernel drops `loss` of the TCP and UDP
 * packets on loopback, and resolves with what `fn` returned.
 *
 * It runs the program again (`options.command`) under `unshare -n` (`unshare -rn` when not
 * root) with an IPC channel; in there, the same call brings `lo` up, installs the rules and runs
 * `fn`, sends its result back (structured clone) and exits the child. So `fn` runs in the child
 * process: the code before the call runs twice, and `fn` must not print what the parent prints.
 * Before installing a rule the child checks that it is in a namespace of its own: a different
 * one from its parent's, with nothing but `lo` in it and no rules yet; otherwise it refuses.
 *
 * @throws {RangeError} naming a bad option.
 * @throws {SocketError} `ERR_NETNS_UNAVAILABLE` (with a hint saying what to run) when the
 *   namespace cannot be made here, or `fn`'s own error, rebuilt in this process.
 * @throws {Error} when the program in the namespace ends without answering (it crashed: its
 *   stderr, shared with this process's, says why).
 * @example Fragment: needs a network namespace of its own (root, or an unprivileged user namespace)
 * const counts = await withKernelLoss({ loss: 0.2 }, async (net) => (await net.counters()).udp);
 */
export async function withKernelLoss<T>(
  options: KernelLossOptions,
  fn: (net: KernelLoss) => T | Promise<T>,
): Promise<T> {
  const loss = checkRate("loss", options.loss ?? DEFAULT_KERNEL_LOSS);
  const mtu = checkInteger("mtu", options.mtu ?? DEFAULT_KERNEL_LOSS_MTU, 1_280, 65_536);
  const parent = process.env[PARENT_NETNS_ENV];
  if (parent !== undefined) return runInside(parent, loss, mtu, fn);
  const command = options.command ?? [
    process.execPath,
    ...process.execArgv,
    ...process.argv.slice(1),
  ];
  return runOutside(command);
}

/**
 * Why a kernel-loss namespace cannot be made here, or `undefined` when it can: tries
 * `unshare` and `nft` once, in a throwaway namespace.
 */
export function kernelLossUnavailable(): string | undefined {
  if (process.platform !== "linux")
    return `network namespaces are Linux only (this is ${process.platform})`;
  const probe = spawnSync("unshare", [...unshareFlags(), "--", "nft", "list", "ruleset"], {
    encoding: "utf8",
  });
  if (probe.error !== undefined) {
    return (probe.error as NodeJS.ErrnoException).code === "ENOENT"
      ? "unshare is not installed (Debian: apt-get install util-linux)"
      : probe.error.message;
  }
  if (probe.status !== 0) {
    const said = probe.stderr.trim().split("\n")[0] ?? "";
    return /nft/.test(said) && /No such file|not found/.test(said)
      ? "nft is not installed (Debian: apt-get install nftables)"
      : `unshare ${unshareFlags().join(" ")} failed: ${said}`;
  }
  return undefined;
}

/** `-n` as root; `-rn` (a user namespace that maps us to root) otherwise. */
function unshareFlags(): string[] {
  return process.getuid?.() === 0 ? ["-n"] : ["-rn"];
}

function unavailable(reason: string): SocketError {
  return new SocketError(ERR_NETNS_UNAVAILABLE, `no network namespace for kernel loss: ${reason}`, {
    hint: "Run as root (sudo), or as a user allowed to make namespaces: unshare -rn true must work",
  });
}

/** The parent: starts the namespaced child and waits for its one message. */
async function runOutside<T>(command: readonly string[]): Promise<T> {
  const reason = kernelLossUnavailable();
  if (reason !== undefined) throw unavailable(reason);
  const [executable, ...args] = command;
  if (executable === undefined) {
    throw invalidArgValue("command argument", command, "must name a program");
  }
  const child = spawn("unshare", [...unshareFlags(), "--", executable, ...args], {
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    serialization: "advanced",
    env: { ...process.env, [PARENT_NETNS_ENV]: netnsId() },
  });
  const forward = () => child.kill("SIGTERM");
  process.on("SIGTERM", forward);
  try {
    return await new Promise<T>((resolve, reject) => {
      let answer: ChildMessage | undefined;
      child.on("message", (message: ChildMessage) => {
        answer = message;
      });
      child.on("error", (error) => reject(unavailable(error.message)));
      child.on("exit", (code, signal) => {
        if (answer === undefined) {
          // unshare worked in the probe: the program itself failed, and said why on stderr.
          const how = signal === null ? `exit code ${code}` : signal;
          reject(
            new Error(`the program in the network namespace ended (${how}) without an answer`),
          );
        } else if ("error" in answer) {
          reject(rebuild(answer.error));
        } else {
          resolve(answer.value as T);
        }
      });
    });
  } finally {
    process.off("SIGTERM", forward);
  }
}

type ChildMessage = { value: unknown } | { error: SentError };

interface SentError {
  name: string;
  message: string;
  code?: string;
  hint?: string;
  stack?: string;
}

/** The child: checks, installs the rules, runs `fn`, sends its result, exits. */
async function runInside<T>(
  parent: string,
  loss: number,
  mtu: number,
  fn: (net: KernelLoss) => T | Promise<T>,
): Promise<T> {
  let message: ChildMessage;
  try {
    if (process.send === undefined) {
      throw unavailable(`${PARENT_NETNS_ENV} is set but there is no parent to answer`);
    }
    await checkFresh(parent);
    // gso_max_segs 1: every segment is its own packet, as on a wire; loopback would otherwise
    // pass up to 64 KB of segments through the rules as one packet, kept or dropped together.
    await run("ip", ["link", "set", "lo", "up", "mtu", String(mtu), "gso_max_segs", "1"]);
    await nft(["-f", "-"], rules(loss));
    message = { value: await fn({ loss, mtu, counters, snmp, tcpInfo }) };
  } catch (error) {
    message = { error: flatten(error) };
  }
  await new Promise<void>((resolve) => {
    process.send?.(message, undefined, {}, () => resolve());
  });
  // The namespace and its rules end with this process.
  process.exit(0);
}

/** Refuses unless this is a new namespace, not the parent's, with only `lo` and no rules. */
async function checkFresh(parent: string): Promise<void> {
  const own = netnsId();
  if (own === parent) {
    throw unavailable(
      `refusing to install rules: this process is in its parent's network namespace (${own})`,
    );
  }
  const links = readFileSync("/proc/self/net/dev", "utf8")
    .split("\n")
    .slice(2)
    .map((line) => line.split(":")[0]?.trim())
    .filter((name) => name !== undefined && name !== "");
  if (links.join() !== "lo") {
    throw unavailable(
      `refusing to install rules: this namespace has links besides lo (${links.join(", ")})`,
    );
  }
  const { stdout } = await nft(["list", "ruleset"]);
  if (stdout.trim() !== "") {
    throw unavailable("refusing to install rules: this namespace already has nftables rules");
  }
}

/** The namespace this process is in, as `net:[inode]`. */
function netnsId(): string {
  return readlinkSync("/proc/self/ns/net");
}

function flatten(error: unknown): SentError {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const { code, hint } = error as { code?: unknown; hint?: unknown };
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === "string" ? { code } : {}),
    ...(typeof hint === "string" ? { hint } : {}),
    ...(error.stack === undefined ? {} : { stack: error.stack }),
  };
}

function rebuild(sent: SentError): Error {
  const error =
    sent.code === undefined
      ? new Error(sent.message)
      : new SocketError(
          sent.code,
          sent.message,
          sent.hint === undefined ? {} : { hint: sent.hint },
        );
  error.name = sent.name;
  if (sent.stack !== undefined) error.stack = sent.stack;
  return error;
}
