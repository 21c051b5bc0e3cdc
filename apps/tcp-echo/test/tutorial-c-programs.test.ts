// docs/tutorial.md, "client.c and server.c, byte for byte": the tutorial's C programs and the
// TypeScript pair make the same exchange, byte for byte, in all four pairings.

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { rmSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { WAIT_MS } from "./_spawn.js";
import { compileC, documented, freePort, hasCommand, listening, same } from "./_tutorial.js";

const DIST = fileURLToPath(new URL("../dist/", import.meta.url));
const MESSAGE = "Hello from client\n";
const gcc = hasCommand("gcc");
let bin = "";
const children = new Set<ChildProcess>();

/** What one run of a pairing printed, and what crossed the wire each way. */
interface Exchange {
  serverStdout: string;
  clientStdout: string;
  /** Bytes the server received (client → server), and the client received. */
  toServer: string;
  toClient: string;
}

type Side = "c" | "ts";
const serverCommand = (side: Side, port: number): [string, string[]] =>
  side === "c"
    ? [join(bin, "server"), [String(port)]]
    : [process.execPath, [`${DIST}tutorial-server.js`, String(port)]];
const clientCommand = (side: Side, port: number): [string, string[]] =>
  side === "c"
    ? [join(bin, "client"), ["localhost", String(port)]]
    : [process.execPath, [`${DIST}tutorial-client.js`, "localhost", String(port)]];

/** Runs a program to its end with `stdin`; its stdout and exit code. */
async function run(command: [string, string[]], stdin: string) {
  const child = spawn(command[0], command[1], { stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("latin1").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdin.end(stdin);
  const timer = setTimeout(() => child.kill("SIGKILL"), WAIT_MS);
  const [code] = (await once(child, "close")) as [number | null];
  clearTimeout(timer);
  children.delete(child);
  return { stdout, stderr, code };
}

/**
 * One exchange: the server on one port, a relay recording both directions on another, and the
 * client through the relay.
 */
async function exchange(server: Side, client: Side): Promise<Exchange> {
  const port = await freePort();
  const serving = run(serverCommand(server, port), "");
  await listening(port);
  let toServer = "";
  let toClient = "";
  const relay = net.createServer((inbound) => {
    const outbound = net.connect(port, "127.0.0.1");
    inbound.on("data", (chunk) => (toServer += chunk.toString("latin1")));
    outbound.on("data", (chunk) => (toClient += chunk.toString("latin1")));
    inbound.pipe(outbound).on("error", () => {});
    outbound.pipe(inbound).on("error", () => {});
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  const relayPort = (relay.address() as net.AddressInfo).port;
  try {
    const asked = await run(clientCommand(client, relayPort), MESSAGE);
    const served = await serving;
    expect(asked.code, asked.stderr).toBe(0);
    expect(served.code, served.stderr).toBe(0);
    return { serverStdout: served.stdout, clientStdout: asked.stdout, toServer, toClient };
  } finally {
    relay.close();
  }
}

describe.skipIf(!gcc)(
  gcc
    ? "the tutorial's client.c and server.c"
    : "the tutorial's client.c and server.c (skipped: gcc is not installed)",
  () => {
    beforeAll(() => {
      bin = compileC(["server", "client"]);
    });
    afterAll(() => {
      for (const child of children) child.kill("SIGKILL");
      if (bin !== "") rmSync(bin, { recursive: true, force: true });
    });

    const runs = new Map<string, Exchange>();
    test.each([
      ["c", "c"],
      ["ts", "c"],
      ["c", "ts"],
      ["ts", "ts"],
    ] as const)(
      "%s server and %s client make the C programs' exchange, byte for byte",
      async (server, client) => {
        const seen = await exchange(server, client);
        runs.set(`${server}-${client}`, seen);
        expect(seen).toEqual({
          serverStdout: `Here is the message: ${MESSAGE}\n`,
          clientStdout: "Please enter the message: I got your message\n",
          toServer: MESSAGE,
          toClient: "I got your message",
        });
      },
    );

    test("docs/tutorial.md shows what the C pair and the TypeScript pair print", async () => {
      for (const [server, client] of [
        ["c", "c"],
        ["ts", "ts"],
      ] as const) {
        const seen = runs.get(`${server}-${client}`) ?? (await exchange(server, client));
        const [serverShown, clientShown] =
          server === "c"
            ? ["$ ./server 7000", "$ echo 'Hello from client' | ./client localhost 7000"]
            : [
                "$ node apps/tcp-echo/dist/tutorial-server.js 7000",
                "$ echo 'Hello from client' | node apps/tcp-echo/dist/tutorial-client.js localhost 7000",
              ];
        expect(same(`${serverShown}\n${seen.serverStdout}`)).toBe(same(documented(serverShown)));
        expect(same(`${clientShown}\n${seen.clientStdout}`)).toBe(same(documented(clientShown)));
      }
    });
  },
);
