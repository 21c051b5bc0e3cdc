/**
 * Faults, run on the built programs: a server killed mid-way, a flood of garbage and invalid
 * UTF-8 datagrams while a client talks, an oversize message, and flag values the other tests do
 * not try.
 */

import type { Socket } from "node:dgram";
import { once } from "node:events";
import { afterEach, describe, expect, test } from "vitest";
import { useRawSockets } from "./_raw-sockets.js";
import { interrupt, run, start, startServer, stopAll, WAIT_MS } from "./_spawn.js";

afterEach(stopAll);
const rawSocket = useRawSockets();

/** Sends one datagram and waits (bounded) for the next one back. */
async function exchange(socket: Socket, port: string, data: Buffer): Promise<Buffer> {
  const reply = once(socket, "message", { signal: AbortSignal.timeout(WAIT_MS) });
  socket.send(data, Number(port), "127.0.0.1");
  const [message] = (await reply) as [Buffer];
  return message;
}

describe("udp-echo under faults", () => {
  test("server killed (SIGKILL) mid-way: the client says which message got no reply, exit 1", async () => {
    const { server, port } = await startServer();
    const input = Array.from({ length: 100_000 }, (_, i) => `message ${i + 1}`).join("\n");
    // A reply may take a while on a busy machine: the timeout must not end the run before the kill.
    const client = start("client-cli", ["--port", port, "--timeout", "2", "--retries", "1"], {
      stdin: input,
    });
    await client.line(/^message 500$/);
    server.child.kill("SIGKILL");
    const exit = await client.exited();
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(
      new RegExp(
        `^udp-echo-client: no reply to message \\d+ from 127\\.0\\.0\\.1:${port} after 2 tries over [\\d.]+ s\\. Is udp-echo-server running\\? Start one with: pnpm udp:server .*\\n$`,
      ),
    );
  });

  test("a flood of 2,000 garbage datagrams while a client talks: the client gets all 50 replies, the server goes on", async () => {
    const { server, port } = await startServer();
    const attacker = await rawSocket();
    let flooding = true;
    const flood = (async () => {
      for (let i = 0; i < 2_000 && flooding; i++) {
        const size = (i * 7919) % 1_400;
        const garbage = Buffer.alloc(size, i & 0xff);
        await new Promise<void>((resolve) =>
          attacker.send(garbage, Number(port), "127.0.0.1", () => resolve()),
        );
      }
    })();
    const client = await run("client-cli", ["--port", port, "--count", "50", "--timeout", "0.2"]);
    flooding = false;
    await flood;
    expect(client.code).toBe(0);
    expect(client.stdout).toMatch(/^sent 50 messages to udp:\/\/127\.0\.0\.1:\d+, got every reply/);
    const stopped = await interrupt(server);
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toMatch(/stopped: 2 peers, \d+ messages\n$/);
  });

  test("garbage from other ports before each reply: ignored, counted in the --count summary and --json, exit 0", async () => {
    const server = await rawSocket();
    const stranger = await rawSocket();
    const port = String(server.address().port);
    // A scripted echo server: three datagrams from another port reach the client first.
    server.on("message", async (data: Buffer, client: { port: number }) => {
      for (const junk of ["Hello from client 1", "\u0000", "junk"]) {
        await new Promise((resolve) => stranger.send(junk, client.port, "127.0.0.1", resolve));
      }
      server.send(data, client.port, "127.0.0.1");
    });
    const text = await run("client-cli", ["--port", port, "--count", "2", "--expect-echo"]);
    expect(text).toMatchObject({ code: 0, stderr: "" });
    expect(text.stdout).toMatch(
      /^sent 2 messages to udp:\/\/127\.0\.0\.1:\d+, got every reply in [\d.]+ ms \(0 retries, 6 garbage datagrams ignored\)\n$/,
    );
    const json = await run("client-cli", ["--port", port, "--count", "2", "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      event: "summary",
      messages: 2,
      replies: 2,
      late: 0,
      garbage: 6,
    });
  });

  test("invalid UTF-8 and binary datagrams are echoed byte for byte and printed with U+FFFD", async () => {
    const { server, port } = await startServer();
    const peer = await rawSocket();
    const binary = Buffer.from([0x68, 0x69, 0xff, 0x00, 0xc3, 0x28, 0x0a]);
    expect(await exchange(peer, port, binary)).toEqual(binary);
    await server.line(/^127\.0\.0\.1:\d+: "hi\uFFFD\\x00\uFFFD\("$/);
    expect((await exchange(peer, port, Buffer.alloc(0))).length).toBe(0);
    expect((await run("client-cli", ["--port", port, "-m", "still here"])).stdout).toBe(
      "still here\n",
    );
  });

  test("a message over the IPv4 datagram maximum (65,507 bytes) is refused before it is sent, exit 1", async () => {
    const { server, port } = await startServer();
    const result = await run("client-cli", ["--port", port, "-m", "a".repeat(70_000)]);
    expect(result).toMatchObject({
      code: 1,
      stdout: "",
      stderr: expect.stringMatching(
        /^udp-echo-client: datagram of 70,000 bytes is larger than the IPv4 maximum of 65,507 bytes\. .*\n$/,
      ),
    });
    expect(server.stdout()).not.toMatch(/: "a/);
  });
});

describe("flag values the CLI tests do not try", () => {
  test.each([
    [["--port="], "--port: '' is not a port number (0–65535)"],
    [["--port", "-1"], "Option '--port' argument is ambiguous"],
    [["--host="], "--host: '' is not a valid host name or IP address"],
    [
      ["--host", "[127.0.0.1]"],
      "--host: '[127.0.0.1]' has brackets but '127.0.0.1' is not an IPv6 address",
    ],
    [["--reply"], "Option '--reply <value>' argument missing"],
    [["--max-amplification", "Infinity"], "--max-amplification: 'Infinity' is not a number"],
    [["--max-amplification", "65508"], "--max-amplification: 65508 is out of range (1–65507)"],
    [["--max-amplification=-1"], "--max-amplification: -1 is out of range (1–65507)"],
  ])("udp-echo-server %j: usage error naming the flag, exit 2", async (args, message) => {
    const result = await run("server-cli", args);
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: "" });
    expect(result.stderr).toContain(`udp-echo-server: ${message}`);
  });

  test.each([
    [["--port="], "--port: '' is not a port number (0–65535)"],
    [["--port", "65536"], "--port: 65536 is out of range (0–65535)"],
    [["--host="], "--host: '' is not a valid host name or IP address"],
    [["--message"], "Option '-m, --message <value>' argument missing"],
    [["--count", "1000001"], "--count: 1000001 is out of range (1–1000000)"],
    [["--retries=-1"], "--retries: -1 is out of range (0–100)"],
    [["--retries", "1.5"], "--retries: '1.5' is not a whole number"],
    [["--timeout=-1"], "--timeout: -1 is out of range (0.001–3600)"],
    [["--timeout", "3601"], "--timeout: 3601 is out of range (0.001–3600)"],
  ])("udp-echo-client %j: usage error naming the flag, exit 2", async (args, message) => {
    const result = await run("client-cli", args, { stdin: "ignore" });
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: "" });
    expect(result.stderr).toContain(`udp-echo-client: ${message}`);
  });
});
