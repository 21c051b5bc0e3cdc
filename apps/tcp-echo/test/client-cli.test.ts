import { once } from "node:events";
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { inOrder, run, startServer, stopAll } from "./_spawn.js";

const servers = new Set<Server>();
afterEach(() => {
  stopAll();
  for (const server of servers) server.close();
  servers.clear();
});

/** A port that was free a moment ago: bound, then closed. */
async function closedPort(): Promise<string> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return String(port);
}

describe("tcp-echo-client", () => {
  test("no server: one line saying the connection was refused and how to start one, exit 1", async () => {
    const port = await closedPort();
    const client = await run("client-cli", ["--port", port]);
    expect(client).toEqual({
      code: 1,
      signal: null,
      stdout: "",
      stderr: `tcp-echo-client: connection refused by 127.0.0.1:${port} — no server is listening there. Start one with: pnpm tcp:server\n`,
    });
  });

  test("--timeout: a server that accepts but never answers is given up on, exit 1", async () => {
    const silent = createServer({ allowHalfOpen: true }, (socket) => socket.resume());
    servers.add(silent);
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    const { port } = silent.address() as { port: number };
    const client = await run("client-cli", ["--port", String(port), "--timeout", "0.2"]);
    expect(client.code).toBe(1);
    expect(client.stderr).toMatch(
      /^tcp-echo-client: no reply from 127\.0\.0\.1:\d+ for 200 ms, with 1 of 1 message sent still unanswered\. .*allow longer with --timeout SECONDS\n$/,
    );
  });

  test("--trace prints the client's side in order: socket, connect, send, shutdown, recv, close", async () => {
    const { port } = await startServer();
    const client = await run("client-cli", ["--port", port, "--trace"]);
    expect(client.code).toBe(0);
    const fd = /^socket\(AF_INET, SOCK_STREAM, IPPROTO_TCP\) = (\d+)$/m.exec(client.stderr)?.[1];
    expect(fd).toBeDefined();
    inOrder(client.stderr.split("\n"), [
      new RegExp(`^socket\\(AF_INET, SOCK_STREAM, IPPROTO_TCP\\) = ${fd}$`),
      new RegExp(`^connect\\(${fd}, 127\\.0\\.0\\.1:${port}\\)$`),
      new RegExp(`^send\\(${fd}, 18 bytes\\)$`),
      new RegExp(`^recv\\(${fd}\\) = 18$`),
      new RegExp(`^recv\\(${fd}\\) = 0 \\(end of stream\\)$`),
      new RegExp(`^close\\(${fd}\\)$`),
    ]);
    // The client says "no more" with shutdown(SHUT_WR) after its message.
    inOrder(client.stderr.split("\n"), [/^send\(/, new RegExp(`^shutdown\\(${fd}, SHUT_WR\\)$`)]);
    expect(client.stdout).toBe("Hello from client\n");
  });
});
