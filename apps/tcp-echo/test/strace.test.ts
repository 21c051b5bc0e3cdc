/**
 * The trace against the kernel's own record: the built server and client run under
 * `strace -ff -e trace=network,close,read,write,writev`, and every socket our `--trace` names
 * must have made the same calls, in the same order, with the same backlog and addresses, on
 * the same file descriptor. Skipped (saying why) where strace is missing or may not trace,
 * unless CI is set: there it must run.
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { WAIT_MS } from "./_spawn.js";

const DIST = fileURLToPath(new URL("../dist/", import.meta.url));
const CALLS = "trace=network,close,read,write,writev";

/** Why strace cannot run here, or undefined when it can. */
function straceMissing(): string | undefined {
  const probe = spawnSync("strace", ["-f", "-qq", "-e", "trace=none", "true"], {
    encoding: "utf8",
  });
  if (probe.error !== undefined) return `strace is not installed (${probe.error.message})`;
  if (probe.status !== 0) return `strace cannot trace here: ${probe.stderr.trim()}`;
  return undefined;
}

const missing = straceMissing();
if (missing !== undefined && process.env.CI === undefined) {
  console.log(`strace.test.ts skipped: ${missing}`);
}
const scratch = mkdtempSync(join(tmpdir(), "socket-lab-strace-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** One call on one socket, as the comparison sees it. */
type Call = string;

/**
 * Our `--trace` lines as each descriptor's calls in order. send/recv become write/read with
 * their byte counts (what libuv really calls); socket and accept name what they made.
 */
function fromTrace(stderr: string): Map<number, Call[]> {
  const calls = new Map<number, Call[]>();
  const add = (fd: string | undefined, call: Call) => {
    const list = calls.get(Number(fd)) ?? [];
    list.push(call);
    calls.set(Number(fd), list);
  };
  const patterns: [RegExp, (m: string[]) => void][] = [
    [
      /^socket\((\w+), (\w+), (\w+)\) = (\d+)$/,
      (m) => add(m[4], `socket(${m[1]}, ${m[2]}, ${m[3]})`),
    ],
    [
      /^accept\((\d+)\) = (\d+) /,
      (m) => {
        add(m[1], "accept");
        add(m[2], "accepted");
      },
    ],
    [/^(bind|connect)\((\d+), (.+)\)$/, (m) => add(m[2], `${m[1]}(${m[3]})`)],
    [/^listen\((\d+), (\d+)\)$/, (m) => add(m[1], `listen(${m[2]})`)],
    [/^shutdown\((\d+), (\w+)\)$/, (m) => add(m[1], `shutdown(${m[2]})`)],
    [/^recv\((\d+)\) = (\d+)/, (m) => add(m[1], `read = ${m[2]}`)],
    [/^send\((\d+), (\d+) bytes?\)$/, (m) => add(m[1], `write ${m[2]}`)],
    [/^close\((\d+)\)$/, (m) => add(m[1], "close")],
  ];
  for (const line of stderr.split("\n")) {
    for (const [pattern, handle] of patterns) {
      const m = pattern.exec(line);
      if (m !== null) {
        handle(m.map((part) => part ?? ""));
        break;
      }
    }
  }
  return calls;
}

/** Node passes protocol 0: the kernel uses the default protocol of the type. */
const DEFAULT_PROTOCOL: Record<string, string> = {
  SOCK_STREAM: "IPPROTO_TCP",
  SOCK_DGRAM: "IPPROTO_UDP",
};

/** `{sa_family=AF_INET, sin_port=htons(40153), sin_addr=inet_addr("127.0.0.1")}` → address. */
function address(sockaddr: string): string {
  const port = /sin6?_port=htons\((\d+)\)/.exec(sockaddr)?.[1];
  const v4 = /inet_addr\("([^"]+)"\)/.exec(sockaddr)?.[1];
  const v6 = /inet_pton\(AF_INET6, "([^"]+)"/.exec(sockaddr)?.[1];
  return v4 !== undefined ? `${v4}:${port}` : `[${v6}]:${port}`;
}

/**
 * strace's record of the socket descriptors `fds`, from `socket()`/`accept4()` to `close()`,
 * in the same shape as {@link fromTrace}. Calls Node adds for itself (setsockopt,
 * getsockname, getsockopt) and calls that failed with EAGAIN are left out; connect()'s
 * EINPROGRESS is how a non-blocking connect starts.
 */
function fromStrace(text: string, fds: ReadonlySet<number>): Map<number, Call[]> {
  const calls = new Map<number, Call[]>();
  const open = new Set<number>();
  const add = (fd: number, call: Call) => {
    if (!fds.has(fd)) return;
    if (call === "accepted" || call.startsWith("socket(")) open.add(fd);
    if (!open.has(fd)) return; // the number was used for something else before
    const list = calls.get(fd) ?? [];
    list.push(call);
    calls.set(fd, list);
    if (call === "close") open.delete(fd);
  };
  for (const line of text.split("\n")) {
    const m = /^(\w+)\((\d+|AF_\w+)(.*)\) += (-?\d+)/.exec(line);
    if (m === null) continue;
    const [, name, first = "", rest = "", resultText] = m;
    const fd = Number(first);
    const result = Number(resultText);
    switch (name) {
      case "socket": {
        const [type = "", protocol] = rest.replace(/^, /, "").split(", ");
        const base = type.split("|")[0] ?? "";
        const named = protocol === "IPPROTO_IP" ? DEFAULT_PROTOCOL[base] : protocol;
        add(result, `socket(${first}, ${base}, ${named})`);
        break;
      }
      case "accept4":
        if (result >= 0) {
          add(fd, "accept");
          add(result, "accepted");
        }
        break;
      case "bind":
      case "connect":
        add(fd, `${name}(${address(rest)})`);
        break;
      case "getsockname": {
        // bind(fd, port 0): the kernel picks the port; Node asks which at once, and the trace
        // shows the one picked.
        const list = calls.get(fd) ?? [];
        const bind = list.findIndex((call) => call.startsWith("bind(") && call.endsWith(":0)"));
        if (bind >= 0) list[bind] = `bind(${address(rest)})`;
        break;
      }
      case "listen":
        add(fd, `listen(${rest.replace(/^, /, "")})`);
        break;
      case "shutdown":
        add(fd, `shutdown(${rest.replace(/^, /, "")})`);
        break;
      case "read":
        if (result >= 0) add(fd, `read = ${result}`);
        break;
      case "write":
      case "writev":
        if (result >= 0) add(fd, `write ${result}`);
        break;
      case "close":
        add(fd, "close");
        break;
    }
  }
  return calls;
}

/** Runs `node dist/<entry>.js args` under strace; strace writes one file per thread. */
function traced(entry: string, args: readonly string[], prefix: string): ChildProcess {
  return spawn(
    "strace",
    ["-ff", "-qq", "-e", CALLS, "-o", prefix, process.execPath, `${DIST}${entry}.js`, ...args],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
}

/** Everything the program printed, once it has exited. */
function finished(
  child: ChildProcess,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`still running after ${WAIT_MS} ms:\n${stdout}\n${stderr}`));
    }, WAIT_MS);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The thread files strace wrote for one program, joined: the socket calls are all on one. */
function straceOutput(prefix: string): string {
  const dir = join(prefix, "..");
  const base = prefix.slice(dir.length + 1);
  return readdirSync(dir)
    .filter((name) => name.startsWith(`${base}.`))
    .map((name) => readFileSync(join(dir, name), "utf8"))
    .join("\n");
}

/** The traced node process itself: strace's child. */
function childPid(stracePid: number): number {
  const children = readFileSync(`/proc/${stracePid}/task/${stracePid}/children`, "utf8");
  return Number(children.trim().split(/\s+/)[0]);
}

describe.skipIf(missing !== undefined && process.env.CI === undefined)(
  "the trace matches strace",
  () => {
    test("server and client: the same calls, order, backlog, addresses and fds as strace -f shows", async () => {
      expect(missing).toBeUndefined(); // with CI set, a missing strace fails here
      const serverPrefix = join(scratch, "server");
      const clientPrefix = join(scratch, "client");
      const server = traced("server-cli", ["--port", "0", "--trace"], serverPrefix);
      const serverDone = finished(server);
      const port = await new Promise<string>((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => reject(new Error("the server did not listen")), WAIT_MS);
        server.stdout?.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const found = /listening on tcp:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1];
          if (found !== undefined) {
            clearTimeout(timer);
            resolve(found);
          }
        });
      });
      const client = await finished(
        traced(
          "client-cli",
          ["--port", port, "--trace", "--message", "Hello from client"],
          clientPrefix,
        ),
      );
      expect(client.code).toBe(0);
      expect(client.stdout).toBe("Hello from client\n");
      // Ctrl-C for the server itself (strace would only pass it on).
      process.kill(childPid(server.pid as number), "SIGINT");
      const stopped = await serverDone;
      expect(stopped.code).toBe(0);

      for (const [who, stderr, prefix] of [
        ["server", stopped.stderr, serverPrefix],
        ["client", client.stderr, clientPrefix],
      ] as const) {
        const ours = fromTrace(stderr);
        const kernel = fromStrace(straceOutput(prefix), new Set(ours.keys()));
        expect(ours.size, `${who}: sockets traced`).toBeGreaterThan(0);
        // libuv learns of the end of stream two ways: read() = 0, or, right after a short read,
        // the hang-up flag of epoll (POLLHUP), with no read() = 0 made at all (uv__stream_io).
        // Our "read = 0" stands for either; where the kernel shows no such read, the hang-up
        // told libuv, and it must stand right after the last read.
        for (const [fd, calls] of ours) {
          const seen = kernel.get(fd) ?? [];
          const at = calls.indexOf("read = 0");
          if (at > 0 && !seen.includes("read = 0") && calls[at - 1]?.startsWith("read = ")) {
            ours.set(
              fd,
              calls.filter((_, index) => index !== at),
            );
          }
        }
        expect(Object.fromEntries(ours), who).toEqual(Object.fromEntries(kernel));
      }
      // What the comparison covered, so that a trace that lost its lines cannot pass.
      const server_ = [...fromTrace(stopped.stderr).values()];
      expect(server_).toEqual([
        [
          "socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)",
          `bind(127.0.0.1:${port})`,
          "listen(5)",
          "accept",
          "close",
        ],
        ["accepted", "read = 18", "write 18", "read = 0", "shutdown(SHUT_WR)", "close"],
      ]);
      expect([...fromTrace(client.stderr).values()]).toEqual([
        [
          "socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)",
          `connect(127.0.0.1:${port})`,
          "write 18",
          "shutdown(SHUT_WR)",
          "read = 18",
          "read = 0",
          "close",
        ],
      ]);
    });
  },
);
