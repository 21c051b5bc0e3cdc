/**
 * The orchestrator's side of the workers: each one is `node dist/worker.js` in its own process,
 * started through `taskset -c CPU` so that client and server never share a CPU, and talked to
 * over the IPC channel, one call at a time.
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Call, Reply } from "./role.js";

const WORKER = fileURLToPath(new URL("./worker.js", import.meta.url));

/** Longest any call to a worker may take unless the caller says otherwise, in ms. */
const BENCH_CALL_TIMEOUT_MS = 60_000;

/** Time a worker gets to exit after its channel closes before it is killed, in ms. */
const EXIT_GRACE_MS = 3_000;

/** Which side of a workload a worker is: it decides the CPU. */
export type Side = "client" | "server";

/** Where the two sides run. */
export interface Placement {
  /** CPU of the client side (and of in-process workloads), or `undefined` when not pinned. */
  readonly clientCpu: number | undefined;
  /** CPU of the server side, or `undefined` when not pinned. */
  readonly serverCpu: number | undefined;
  /** One line for people, e.g. `client on CPU 0 (taskset -c 0), server on CPU 1 (taskset -c 1)`. */
  readonly description: string;
}

/**
 * Pins the client to the first CPU this process may use and the server to the second, when
 * `taskset` exists and there are two; otherwise says why it does not.
 */
export function detectPlacement(): Placement {
  const query = spawnSync("taskset", ["-pc", String(process.pid)], { encoding: "utf8" });
  if (query.error !== undefined || query.status !== 0) {
    return unpinned("taskset is not available");
  }
  const cpus = parseCpuList(query.stdout.split(":").pop() ?? "");
  const [client, server] = cpus;
  if (client === undefined || server === undefined) {
    return unpinned(`only ${cpus.length} CPU available`);
  }
  return {
    clientCpu: client,
    serverCpu: server,
    description: `client on CPU ${client} (taskset -c ${client}), server on CPU ${server} (taskset -c ${server})`,
  };
}

function unpinned(reason: string): Placement {
  return {
    clientCpu: undefined,
    serverCpu: undefined,
    description: `client and server not pinned (${reason}): figures are noisier`,
  };
}

/** `"0-2,5"` → `[0, 1, 2, 5]`. */
export function parseCpuList(text: string): number[] {
  const cpus: number[] = [];
  for (const part of text.trim().split(",")) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (range === null) continue;
    const from = Number(range[1]);
    const to = Number(range[2] ?? range[1]);
    for (let cpu = from; cpu <= to && cpus.length < 1024; cpu++) cpus.push(cpu);
  }
  return cpus;
}

/** How to start one worker. */
export interface WorkerOptions {
  readonly side: Side;
  /** The role it takes (see src/worker.ts), and that role's options. */
  readonly role: string;
  readonly options: unknown;
  /**
   * Open-file limit wanted (`ulimit -n`); when the hard limit is lower, the soft limit is raised
   * to the hard one. The worker is then started through `bash -c "ulimit -n … && exec node …"`.
   */
  readonly openFiles?: number;
  /** Start node with `--expose-gc`, so the role can collect garbage before measuring memory. */
  readonly exposeGc?: boolean;
  /** Write a V8 CPU profile of the worker into this directory (`node --cpu-prof`). */
  readonly cpuProfileDir?: string | undefined;
}

let profiles = 0;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** A running worker process. */
export class Worker {
  readonly #child: ChildProcess;
  readonly #name: string;
  readonly #pending = new Map<number, Pending>();
  readonly #exited: Promise<void>;
  #lastId = 0;
  #exitReason: string | undefined;

  private constructor(child: ChildProcess, name: string) {
    this.#child = child;
    this.#name = name;
    child.on("message", (reply: Reply) => this.#onReply(reply));
    this.#exited = new Promise((resolve) => {
      child.on("error", (error) => this.#gone(`could not start: ${error.message}`));
      child.on("exit", (code, signal) => {
        this.#gone(`exited (${signal ?? `code ${code}`})`);
        resolve();
      });
    });
  }

  /** Starts a worker on its side's CPU and makes it take its role. */
  static async start(placement: Placement, options: WorkerOptions): Promise<Worker> {
    const cpu = options.side === "client" ? placement.clientCpu : placement.serverCpu;
    let command = process.execPath;
    const nodeArgs = options.exposeGc === true ? ["--expose-gc"] : [];
    if (options.cpuProfileDir !== undefined) {
      const impl = (options.options as { impl?: string } | null)?.impl;
      const name = [options.role, impl, options.side, ++profiles].filter(Boolean).join("-");
      nodeArgs.push(
        "--cpu-prof",
        `--cpu-prof-dir=${options.cpuProfileDir}`,
        `--cpu-prof-name=${name}.cpuprofile`,
      );
    }
    let args = [...nodeArgs, WORKER];
    if (options.openFiles !== undefined) {
      const script = `ulimit -n ${options.openFiles} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`;
      args = ["-c", script, command, ...args];
      command = "bash";
    }
    if (cpu !== undefined) {
      args = ["-c", String(cpu), command, ...args];
      command = "taskset";
    }
    const child = spawn(command, args, { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    const worker = new Worker(child, `${options.role} (${options.side})`);
    try {
      await worker.call("init", { role: options.role, options: options.options });
    } catch (error) {
      await worker.stop();
      throw error;
    }
    return worker;
  }

  /**
   * Calls `method` in the worker and resolves with what it returns. Rejects with the worker's
   * error, or when it takes longer than `timeoutMs` (the worker is then killed).
   */
  call<T = unknown>(method: string, args?: unknown, timeoutMs = BENCH_CALL_TIMEOUT_MS): Promise<T> {
    if (this.#exitReason !== undefined) {
      return Promise.reject(new Error(`${this.#name} ${this.#exitReason}`));
    }
    const id = ++this.#lastId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.#name}: ${method} took longer than ${timeoutMs / 1000} s`));
        this.#child.kill("SIGKILL");
      }, timeoutMs);
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.#child.send({ id, method, args } satisfies Call);
    });
  }

  /** Closes the channel (the worker exits) and waits; kills it if it lingers. */
  async stop(): Promise<void> {
    if (this.#exitReason === undefined) {
      if (this.#child.connected) this.#child.disconnect();
      const grace = setTimeout(() => this.#child.kill("SIGKILL"), EXIT_GRACE_MS);
      await this.#exited;
      clearTimeout(grace);
    }
  }

  #onReply(reply: Reply): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    clearTimeout(pending.timer);
    if ("error" in reply) pending.reject(new Error(`${this.#name}: ${reply.error}`));
    else pending.resolve(reply.value);
  }

  #gone(reason: string): void {
    this.#exitReason ??= reason;
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id);
      clearTimeout(pending.timer);
      pending.reject(new Error(`${this.#name} ${reason}`));
    }
  }
}
