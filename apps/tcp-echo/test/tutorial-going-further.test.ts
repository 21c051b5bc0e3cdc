// docs/tutorial.md, "Going further": ss on a listening socket and a connection, tcpdump of the
// handshake and the FINs, TIME_WAIT and SO_REUSEADDR, and fork() per client against Node's one
// process.

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { start, startServer, stopAll, WAIT_MS } from "./_spawn.js";
import { compileC, documented, freePort, hasCommand, listening, same, sh } from "./_tutorial.js";

const DIST = fileURLToPath(new URL("../dist/", import.meta.url));
const BURST = fileURLToPath(new URL("../scripts/connect-burst.mjs", import.meta.url));
let bin = "";
const children = new Set<ChildProcess>();
const tools = ["gcc", "tcpdump", "nc", "ss", "ps"].filter((tool) => !hasCommand(tool));

/** A program of ours with its output so far. */
function launch(command: string, args: readonly string[]) {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  child.on("close", () => children.delete(child));
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const closed = once(child, "close").catch(() => undefined); // an "error" ends it too
  const exited = async () => {
    await closed;
    return { code: child.exitCode, out, err };
  };
  return { child, out: () => out, err: () => err, exited };
}

/** Runs the C program `name` to its end (bounded): exit code, stdout, stderr. */
function runC(name: string, args: readonly string[]) {
  const program = launch(join(bin, name), args);
  const timer = setTimeout(() => program.child.kill("SIGKILL"), WAIT_MS);
  return program.exited().finally(() => clearTimeout(timer));
}

/** One client through nc, which hangs up only after the server does: the server closes first. */
function ncExchange(port: number): string {
  return sh(`echo 'Hello from client' | nc 127.0.0.1 ${port}; echo`);
}

/** The TIME-WAIT connections whose local port is `port`, as `ss -tan state time-wait` shows them. */
function timeWait(port: number): string {
  return sh(`ss -tan state time-wait '( sport = :${port} )'`);
}

async function waitForTimeWait(port: number): Promise<void> {
  await vi.waitFor(() => expect(timeWait(port).trim().split("\n")).toHaveLength(2), {
    timeout: WAIT_MS,
    interval: 20,
  });
}

const title =
  tools.length > 0 ? `going further (skipped: ${tools.join(", ")} not installed)` : "going further";

describe.skipIf(tools.length > 0)(title, () => {
  beforeAll(() => {
    bin = compileC(["server", "client", "server-fork"]);
  });
  afterAll(() => {
    for (const child of children) child.kill("SIGKILL");
    stopAll();
    if (bin !== "") rmSync(bin, { recursive: true, force: true });
  });

  test("ss -tlnp shows the listening socket and its queue; ss -tin one connection", async () => {
    const { server, port } = await startServer();
    const client = launch(process.execPath, [BURST, "--port", port, "--count", "1"]);
    await vi.waitFor(() => expect(client.out()).toContain("all 1 connected"), { timeout: WAIT_MS });
    const listen = sh(`ss -tlnp 'sport = :${port}'`);
    expect(listen).toContain(`users:(("node",pid=${server.child.pid},`);
    expect(same(`$ ss -tlnp 'sport = :7000'\n${listen}`.replace(/fd=\d+/, "fd=N"))).toBe(
      same(documented("$ ss -tlnp 'sport = :7000'").replace(/fd=\d+/, "fd=N")),
    );
    // The figures of ss -i vary with the run and the machine: the state line and the names of
    // the figures are what the document must show.
    const info = sh(`ss -tin 'dport = :${port}'`).trimEnd().split("\n");
    const shown = documented("$ ss -tin 'dport = :7000'").split("\n");
    expect(same(info.slice(0, 2).join("\n"))).toBe(same(shown.slice(1, 3).join("\n")));
    for (const figure of ["rtt:", "rto:", "mss:", "cwnd:", "bytes_acked:", "segs_out:"]) {
      expect(info[2]).toContain(figure);
      expect(shown[3]).toContain(figure);
    }
    client.child.kill("SIGINT");
    server.child.kill("SIGINT");
    await Promise.all([client.exited(), server.exited()]);
  });

  test("tcpdump -i lo shows the three-way handshake and a FIN from each side", async () => {
    const port = await freePort();
    // Only the packets with SYN or FIN set: exactly four, so -c 4 ends the capture.
    const capture = launch("tcpdump", [
      ...["-i", "lo", "-n", "-l", "-c", "4"],
      `tcp port ${port} and tcp[tcpflags] & (tcp-syn|tcp-fin) != 0`,
    ]);
    await vi.waitFor(() => expect(capture.err()).toContain("listening on lo"), {
      timeout: WAIT_MS,
    });
    const server = runC("server", [String(port)]);
    await listening(port);
    ncExchange(port);
    expect((await server).code).toBe(0);
    const { code, out } = await capture.exited();
    expect(code).toBe(0);
    const flags = (text: string, serverPort: string) =>
      text
        .split("\n")
        .map((line) => / IP [\d.]+\.(\d+) > [\d.]+\.(\d+): Flags \[(\S+)\]/.exec(line))
        .filter((match) => match !== null && /S|F/.test(match[3] ?? ""))
        .map((match) => `${match?.[1] === serverPort ? "server" : "client"} [${match?.[3]}]`);
    const seen = flags(out, String(port));
    expect(seen.slice(0, 2)).toEqual(["client [S]", "server [S.]"]);
    expect(seen.slice(2).sort()).toEqual(["client [F.]", "server [F.]"]);
    const shown = flags(documented("$ tcpdump -i lo -n -c 10 port 7000"), "7000");
    expect(shown.slice(0, 2)).toEqual(seen.slice(0, 2));
    expect(shown.slice(2).sort()).toEqual(seen.slice(2).sort());
  });

  test("a TIME_WAIT left by server.c (no SO_REUSEADDR) makes every bind of its port fail", async () => {
    const port = await freePort();
    const served = runC("server", [String(port)]);
    await listening(port);
    const answer = ncExchange(port);
    expect((await served).out).toBe("Here is the message: Hello from client\n\n");
    await waitForTimeWait(port);
    const again = await runC("server", [String(port)]);
    const fork = await runC("server-fork", [String(port)]);
    const node = start("server-cli", ["--port", String(port)]);
    const nodeExit = await node.exited();
    // The three failures happened while the TIME_WAIT was there.
    const waiting = timeWait(port);
    expect(waiting.trim().split("\n")).toHaveLength(2);
    expect(again).toMatchObject({ code: 1, err: "ERROR on binding: Address already in use\n" });
    expect(fork).toMatchObject({ code: 1, err: "ERROR on binding: Address already in use\n" });
    expect(nodeExit.code).toBe(1);
    expect(nodeExit.stderr).toContain("is already in use");
    const session = [
      "# terminal 1: ./server 7000, which answers one client and exits; terminal 2:",
      "$ echo 'Hello from client' | nc 127.0.0.1 7000; echo",
      answer.trimEnd(),
      "$ ss -tan state time-wait '( sport = :7000 )'",
      waiting.trimEnd(),
      '$ ./server 7000; echo "exit $?"',
      `${again.err}exit ${again.code}`,
      '$ ./server-fork 7000; echo "exit $?"',
      `${fork.err}exit ${fork.code}`,
      '$ node apps/tcp-echo/dist/server-cli.js; echo "exit $?"',
      `${nodeExit.stdout}${nodeExit.stderr}exit ${nodeExit.code}`,
    ].join("\n");
    expect(same(session)).toBe(same(documented(session.split("\n")[0] ?? "")));
  });

  test.each([
    ["server-fork", "# terminal 1: ./server-fork 7000 answered one client, then Ctrl-C"],
    ["node", "# terminal 1: node apps/tcp-echo/dist/tutorial-server.js 7000 answered one client"],
  ] as const)(
    "%s sets SO_REUSEADDR: it listens again at once over its own TIME_WAIT",
    async (kind, shown) => {
      const port = await freePort();
      const first =
        kind === "server-fork"
          ? launch(join(bin, "server-fork"), [String(port)])
          : launch(process.execPath, [`${DIST}tutorial-server.js`, String(port)]);
      await listening(port);
      ncExchange(port);
      if (kind === "server-fork") first.child.kill("SIGINT");
      await first.exited();
      await waitForTimeWait(port);
      const waiting = timeWait(port);
      let restarted: string;
      if (kind === "server-fork") {
        const again = launch(join(bin, "server-fork"), [String(port)]);
        await listening(port);
        restarted = [
          "$ ./server-fork 7000",
          "$ ss -ltn 'sport = :7000'",
          sh(`ss -ltn 'sport = :${port}'`),
        ].join("\n");
        again.child.kill("SIGINT");
        await again.exited();
      } else {
        const again = start("server-cli", ["--port", String(port)]);
        restarted = ["$ node apps/tcp-echo/dist/server-cli.js", await again.line(/listening/)].join(
          "\n",
        );
        again.child.kill("SIGINT");
        await again.exited();
      }
      expect(timeWait(port).trim().split("\n")).toHaveLength(2);
      const session = [
        shown,
        "$ ss -tan state time-wait '( sport = :7000 )'",
        waiting.trimEnd(),
        restarted,
      ].join("\n");
      expect(same(session)).toBe(same(documented(shown)));
    },
  );

  test.each([
    [
      "server-fork",
      "# terminal 1: ./server-fork 7000; 3 terminals: ./client localhost 7000, at the prompt",
    ],
    [
      "node",
      "# terminal 1: node apps/tcp-echo/dist/server-cli.js; 3 terminals: ./client localhost 7000",
    ],
  ] as const)("%s with 3 clients: what ss -tnp shows", async (kind, shown) => {
    const port = kind === "node" ? Number((await startServer()).port) : await freePort();
    if (kind === "server-fork") {
      launch(join(bin, "server-fork"), [String(port)]);
      await listening(port);
    }
    // Three C clients, each connected and waiting at its prompt (its stdin still open).
    const clients = [1, 2, 3].map(() => launch(join(bin, "client"), ["localhost", String(port)]));
    const table = () => sh(`ss -tnp state established '( sport = :${port} )'`);
    const owners = () =>
      table()
        .split("\n")
        .slice(1)
        .filter((line) => line.trim() !== "")
        .map((line) => /users:\(\("[^"]+",pid=(\d+),fd=\d+\)\)$/.exec(line.trim())?.[1]);
    // fork(): one process per client, each holding its own socket; Node: one process holds all.
    const processes = kind === "server-fork" ? 3 : 1;
    await vi.waitFor(
      () => {
        const pids = owners();
        expect(pids).toHaveLength(3);
        expect(pids.every((pid) => pid !== undefined)).toBe(true);
        expect(new Set(pids).size).toBe(processes);
      },
      { timeout: WAIT_MS, interval: 20 },
    );
    const established = table();
    const documentedSession = documented(shown).split("\n$ ps ");
    if (kind === "server-fork") {
      // ps: the server and three children of it (pids named in order of appearance).
      const ps = sh("ps -o pid,ppid,comm -C server-fork");
      const shape = (text: string) => {
        const names = new Map<string, string>();
        return text.replace(/^ +/gm, "").replace(/\b\d+\b/g, (pid) => {
          if (!names.has(pid)) names.set(pid, `N${names.size + 1}`);
          return names.get(pid) as string;
        });
      };
      expect(same(shape(`-o pid,ppid,comm -C server-fork\n${ps}`))).toBe(
        same(shape(documentedSession[1] ?? "")),
      );
    } else {
      expect(documentedSession).toHaveLength(1);
    }
    // Each is answered while the others are connected: all three served at once.
    for (const client of clients) client.child.stdin.end("Hello from client\n");
    for (const client of clients) {
      const { code, out } = await client.exited();
      expect(code).toBe(0);
      expect(out).toMatch(/^Please enter the message: (I got your message|Hello from client\n)\n$/);
    }
    // ss lists the sockets in no fixed order: the lines are compared as a set.
    const session = [shown, "$ ss -tnp state established '( sport = :7000 )'", established].join(
      "\n",
    );
    const lines = (text: string) =>
      same(text.replace(/fd=\d+/g, "fd=N"))
        .split("\n")
        .sort();
    expect(lines(session)).toEqual(lines(documentedSession[0] ?? ""));
  });
});
