/**
 * netsim-relay as a user runs it: the built program between a real echo server on 127.0.0.1:0
 * and a client, `nc` (netcat-openbsd) or plain node:net / node:dgram, then Ctrl-C for the summary.
 */

import { spawn } from "node:child_process";
import { createSocket, type Socket as DgramSocket } from "node:dgram";
import { once } from "node:events";
import { connect, createServer, type Server } from "node:net";
import { DEFAULT_SEED } from "@socket-lab/netsim";
import { helpDefaults } from "@socket-lab/test-utils/help-defaults";
import { afterEach, describe, expect, test } from "vitest";
import { RELAY_CHUNK, RELAY_DELAY_MS, RELAY_LISTEN_PORT, RELAY_RATE } from "../src/defaults.js";
import { interrupt, type Program, run, start, stopAll, WAIT_MS } from "./_spawn.js";

const cleanup: Array<() => void> = [];
afterEach(() => {
  stopAll();
  for (const close of cleanup.splice(0)) close();
});

/** A TCP echo server on 127.0.0.1, port 0. */
async function tcpEcho(): Promise<number> {
  const server: Server = createServer((socket) => socket.pipe(socket));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  cleanup.push(() => server.close());
  return (server.address() as { port: number }).port;
}

/** A UDP echo server on 127.0.0.1, port 0: each datagram goes back to its sender. */
async function udpEcho(): Promise<number> {
  const socket = createSocket("udp4");
  socket.on("message", (data, from) => socket.send(data, from.port, from.address));
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  cleanup.push(() => socket.close());
  return socket.address().port;
}

/** Starts the relay to 127.0.0.1:`target` and reads its port from the first line. */
async function relay(
  protocol: "--udp" | "--tcp",
  target: number,
  args: string[] = [],
): Promise<{ relay: Program; port: number }> {
  const program = start("cli", [
    protocol,
    "--target",
    `127.0.0.1:${target}`,
    "--listen",
    "0",
    ...args,
  ]);
  const first = await program.line(/^relaying /);
  const port = Number(/127\.0\.0\.1:(\d+) →/.exec(first)?.[1]);
  return { relay: program, port };
}

/**
 * Runs `nc ARGS` with `input` on stdin, bounded; resolves with what it printed. With `reply`,
 * stdin stays open until that much came back (nc -u stops reading once its stdin ends), then
 * nc is stopped.
 */
function nc(args: string[], input: string, reply?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("nc", args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      out += text;
      if (reply !== undefined && out.length >= reply.length) child.kill("SIGTERM");
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`nc ${args.join(" ")}: still running after ${WAIT_MS} ms; printed ${out}`));
    }, WAIT_MS);
    child.on("error", reject);
    child.on("close", () => {
      clearTimeout(timer);
      resolve(out);
    });
    if (reply === undefined) child.stdin.end(input);
    else child.stdin.write(input);
  });
}

/** The numbers of one summary line, e.g. `to-server: 20 received, 11 forwarded, …`. */
function figures(stdout: string, direction: string): Record<string, number> {
  const line = stdout.split("\n").find((l) => l.startsWith(`${direction}: `)) ?? "";
  return Object.fromEntries(
    [...line.matchAll(/(\d+) (\w+)/g)].map((m) => [m[2] as string, Number(m[1])]),
  );
}

describe("netsim-relay --udp", () => {
  test("relays nc's datagram to the server and the echo back, and counts it", async () => {
    const server = await udpEcho();
    const { relay: program, port } = await relay("--udp", server);
    const datagram = "hello over udp\n";
    expect(await nc(["-u", "127.0.0.1", String(port)], datagram, datagram)).toBe(datagram);
    const { code, stdout } = await interrupt(program);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\nto-server #0 127\.0\.0\.1:\d+ 15 bytes: passed\n/);
    expect(stdout).toMatch(/\nto-client #0 127\.0\.0\.1:\d+ 15 bytes: passed\n/);
    expect(stdout).toContain("\nstopped: 1 client\n");
    expect(figures(stdout, "to-server")).toMatchObject({ received: 1, forwarded: 1, dropped: 0 });
  });

  test("drops as --loss and --seed say: what the client got is what the relay says it passed", async () => {
    const server = await udpEcho();
    const { relay: program, port } = await relay("--udp", server, ["--loss", "0.4", "--seed", "7"]);
    const client: DgramSocket = createSocket("udp4");
    cleanup.push(() => client.close());
    let replies = 0;
    client.on("message", () => {
      replies += 1;
    });
    client.bind(0, "127.0.0.1");
    await once(client, "listening");
    const count = 20;
    for (let n = 1; n <= count; n += 1) client.send(`datagram ${n}`, port, "127.0.0.1");
    // 10 lines per flow and second; the other 10 decisions are counted in one line.
    await program.line(/^… and 10 more lines to-server 127\.0\.0\.1:\d+ not shown$/);
    const { code, stdout } = await interrupt(program);
    expect(stdout.match(/^to-server #\d+ /gm)).toHaveLength(10);
    expect(code).toBe(0);
    const toServer = figures(stdout, "to-server");
    const toClient = figures(stdout, "to-client");
    expect(toServer.received).toBe(count);
    expect(toServer.dropped).toBeGreaterThan(0);
    expect(toServer.forwarded).toBe(count - (toServer.dropped ?? 0));
    expect(toClient.received).toBe(toServer.forwarded);
    expect(stdout).toMatch(/^to-server #\d+ 127\.0\.0\.1:\d+ 1\d? bytes: dropped$/m);
    // The last replies may still be on their way to the client's socket: wait, bounded.
    for (let waited = 0; replies < (toClient.forwarded ?? 0) && waited < WAIT_MS; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(replies).toBe(toClient.forwarded);
  });
});

describe("netsim-relay --tcp", () => {
  test("carries nc's line through in 1-byte pieces and back", async () => {
    const server = await tcpEcho();
    const { relay: program, port } = await relay("--tcp", server, ["--chunk", "bytes:1"]);
    // -q 2: after stdin ends, send FIN and quit 2 s later (or when the relay closes first).
    expect(await nc(["-q", "2", "127.0.0.1", String(port)], "Hello from nc\n")).toBe(
      "Hello from nc\n",
    );
    // 10 lines per flow and second; the other 4 pieces are counted in one line.
    await program.line(/^… and 4 more lines to-client connection 0 not shown$/);
    const { code, stdout } = await interrupt(program);
    expect(code).toBe(0);
    expect(stdout.match(/^to-server connection 0: 1 byte$/gm)).toHaveLength(10);
    expect(stdout).toContain("\n… and 4 more lines to-server connection 0 not shown\n");
    expect(stdout).toContain("\nstopped: 1 connection\n");
    expect(figures(stdout, "to-server")).toMatchObject({ bytes: 14, pieces: 14 });
    expect(figures(stdout, "to-client")).toMatchObject({ bytes: 14, pieces: 14 });
  });

  test("re-cuts a node client's stream into random pieces that add up to it", async () => {
    const server = await tcpEcho();
    const { relay: program, port } = await relay("--tcp", server, [
      "--chunk",
      "random:1-4",
      "--seed",
      "3",
    ]);
    const socket = connect({ host: "127.0.0.1", port });
    cleanup.push(() => socket.destroy());
    const message = "Hello from client\n";
    let back = "";
    socket.setEncoding("utf8").on("data", (text: string) => (back += text));
    socket.end(message);
    await once(socket, "end");
    expect(back).toBe(message);
    const { stdout } = await interrupt(program);
    const sizes = [...stdout.matchAll(/^to-server connection 0: (\d+) bytes?$/gm)].map((m) =>
      Number(m[1]),
    );
    expect(sizes.reduce((sum, n) => sum + n, 0)).toBe(message.length);
    expect(sizes.length).toBeGreaterThan(message.length / 4 - 1);
    expect(sizes.every((n) => n >= 1 && n <= 4)).toBe(true);
    expect(figures(stdout, "to-server")).toMatchObject({ bytes: 18, pieces: sizes.length });
  });
});

describe("netsim-relay's command line", () => {
  test.each([
    [["--tcp", "--target", "10.0.0.1:7000"], "--target: 10.0.0.1:7000 is not on this machine"],
    [["--udp", "--target", "[2001:db8::1]:7001"], "is not on this machine"],
    [["--target", "127.0.0.1:7000"], "give one of --udp or --tcp"],
    [["--udp", "--tcp", "--target", "127.0.0.1:7000"], "give one of --udp or --tcp"],
    [["--tcp"], "--target HOST:PORT is required"],
    [["--tcp", "--target", "127.0.0.1:7000", "--loss", "0.1"], "--loss is for --udp only"],
    [["--udp", "--target", "127.0.0.1:7000", "--chunk", "bytes:1"], "--chunk is for --tcp only"],
    [["--tcp", "--target", "127.0.0.1:7000", "--chunk", "random:9-2"], "MIN is above MAX"],
    [["--tcp", "--target", "127.0.0.1:7000", "--chunk", "lines"], "is not one of bytes:N"],
  ])("%j is a usage error", async (args, message) => {
    const { code, stdout, stderr } = await run("cli", args);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain(message);
  });

  test("--help lists every flag", async () => {
    const { code, stdout } = await run("cli", ["--help"]);
    expect(code).toBe(0);
    for (const flag of ["--udp", "--tcp", "--target HOST:PORT", "--listen PORT", "--loss RATE"]) {
      expect(stdout).toContain(flag);
    }
    for (const flag of ["--duplicate RATE", "--reorder RATE", "--chunk MODE", "--delay MS"]) {
      expect(stdout).toContain(flag);
    }
    expect(stdout).toContain("--seed N");
    // Every default shown is the constant a run applies.
    expect(helpDefaults(stdout)).toEqual({
      listen: String(RELAY_LISTEN_PORT),
      loss: String(RELAY_RATE),
      duplicate: String(RELAY_RATE),
      reorder: String(RELAY_RATE),
      chunk: RELAY_CHUNK,
      delay: String(RELAY_DELAY_MS),
      seed: String(DEFAULT_SEED),
    });
  });
});
