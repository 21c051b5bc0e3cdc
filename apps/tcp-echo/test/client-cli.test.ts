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
  test("no server: one line saying the connection was refused and the server command that would have worked, exit 1", async () => {
    const port = await closedPort();
    const client = await run("client-cli", ["--port", port]);
    expect(client).toEqual({
      code: 1,
      signal: null,
      stdout: "",
      stderr: `tcp-echo-client: connection refused by 127.0.0.1:${port} — no server is listening there. Start one with: pnpm tcp:server --port ${port}\n`,
    });
  });

  test("no server: the hint keeps the host, port and framing the user gave", async () => {
    const port = await closedPort();
    const client = await run("client-cli", ["127.0.0.1", "--port", port, "--framing", "length"]);
    expect(client.code).toBe(1);
    expect(client.stderr).toMatch(
      new RegExp(
        `Start one with: pnpm tcp:server --host 127\\.0\\.0\\.1 --port ${port} --framing length\\n$`,
      ),
    );
  });

  test("--port 0: a usage error (0 lets a server choose; a client needs the real port), exit 2", async () => {
    const client = await run("client-cli", ["--port", "0"]);
    expect(client.code).toBe(2);
    expect(client.stdout).toBe("");
    expect(client.stderr).toMatch(/^tcp-echo-client: --port: 0 lets a server choose a free port; /);
  });

  test("--framing length against a lines server: says the framings differ, exit 1", async () => {
    const { port } = await startServer();
    const client = await run("client-cli", ["--port", port, "--framing", "length"]);
    expect(client.code).toBe(1);
    expect(client.stderr).toMatch(
      /^tcp-echo-client: 127\.0\.0\.1:\d+ sent 1 byte after the last reply that are not a whole length-prefixed message\. .*run both with the same --framing\.\n$/,
    );
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
