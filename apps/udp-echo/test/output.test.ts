/**
 * What udp-echo shows of its peers' datagrams, and what its output can do to it: message lines
 * are escaped previews, rate-limited per sender with a summary; a closed stdout is not fatal.
 */

import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import {
  ESCAPED,
  HOSTILE,
  hasRawControls,
  logAccounting,
  messageRecords,
} from "@socket-lab/test-utils/peer-text";
import { afterEach, describe, expect, test } from "vitest";
import { interrupt, run, startServer, stopAll } from "./_spawn.js";

const sockets: Socket[] = [];
afterEach(() => {
  stopAll();
  for (const socket of sockets.splice(0)) socket.close();
});

async function rawSocket(): Promise<Socket> {
  const socket = createSocket("udp4");
  sockets.push(socket);
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  return socket;
}

describe("udp-echo output", () => {
  test("a flood of 20,000 empty datagrams from one sender: a bounded number of message lines, the rest counted in summaries", async () => {
    const DATAGRAMS = 20_000;
    const { server, port } = await startServer();
    const flood = await rawSocket();
    const source = `127.0.0.1:${flood.address().port}`;
    flood.on("message", () => {}); // the echoes
    for (let i = 0; i < DATAGRAMS; i += 1) {
      // One at a time, so the sender's own buffer never overflows.
      await new Promise<void>((resolve) =>
        flood.send(Buffer.alloc(0), Number(port), "127.0.0.1", () => resolve()),
      );
    }
    expect(await run("client-cli", ["--port", port, "-m", "hello"])).toMatchObject({
      code: 0,
      stdout: "hello\n",
    });
    const stopped = await interrupt(server);
    const lines = stopped.stdout.trimEnd().split("\n");
    // Datagrams may be lost on the way in; the server counts what it received. The reply guard
    // holds back the replies to some of them (the same empty datagram 16 times in a row: an
    // echo storm; past the burst of 2,000: over the sender's rate); those get no message line
    // and are counted in "replies held back". How many depends on the machine's speed; the
    // accounting below does not.
    const summary = /^stopped: 2 peers, (\d+) messages(?:, (\d+) replies held back)?$/.exec(
      lines.at(-1) ?? "",
    );
    const received = Number(summary?.[1]) - 1 - Number(summary?.[2] ?? 0);
    expect(received).toBeGreaterThan(0);
    const { shown, notShown } = logAccounting(lines, source, `${source}: ""`);
    expect(shown + notShown).toBe(received);
    expect(shown).toBeLessThan(DATAGRAMS / 20);
    expect(lines.length).toBeLessThan(DATAGRAMS / 20);
  });

  test("--json: a message record carries the escaped preview; a long one is cut", async () => {
    const { server, port } = await startServer(["--json"]);
    expect((await run("client-cli", ["--port", port, "-m", HOSTILE])).code).toBe(0);
    expect((await run("client-cli", ["--port", port, "-m", "z".repeat(5_000)])).code).toBe(0);
    await server.line(/"text":"z/);
    const stopped = await interrupt(server);
    const messages = messageRecords(stopped.stdout);
    expect(messages[0]).toMatchObject({ text: ESCAPED, truncated: false });
    expect(messages[1]).toMatchObject({
      text: "z".repeat(120),
      truncated: true,
      receivedBytes: 5_000,
    });
    expect(hasRawControls(stopped.stdout)).toBe(false);
  });
});
