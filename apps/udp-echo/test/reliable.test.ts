import { afterEach, describe, expect, test } from "vitest";
import { inOrder, interrupt, run, startServer, stopAll } from "./_spawn.js";

afterEach(() => stopAll());

describe("udp-echo --reliable", () => {
  test("echoes over one reliable connection; --trace shows the handshake, SEQ/ACK and the FINs", async () => {
    const { server, port } = await startServer(["--reliable"]);
    const client = await run("client-cli", ["--reliable", "--port", port, "--trace"], {
      stdin: "one\ntwo\n",
    });
    expect(client).toMatchObject({ code: 0, stdout: "one\ntwo\n" });
    const lines = client.stderr.split("\n");
    const fd = /^socket\(AF_INET, SOCK_DGRAM, IPPROTO_UDP\) = (\d+)$/m.exec(client.stderr)?.[1];
    expect(fd).toBeDefined();
    // Segments travel in datagrams: a → line goes out with a send(), a ← line came in a
    // recvfrom() from the server's port.
    const sent = new RegExp(`^send\\(${fd}, \\d+ bytes\\)$`);
    const received = new RegExp(`^recvfrom\\(${fd}\\) = \\d+ \\(127\\.0\\.0\\.1:${port}\\)$`);
    // The socket calls and the segments, in the order they happened.
    inOrder(lines, [
      new RegExp(`^connect\\(${fd}, 127\\.0\\.0\\.1:${port}\\)$`),
      /^→ SYN seq=\d+$/,
      sent,
      received,
      /^← SYN_ACK seq=\d+ ack=\d+ win=\d+$/,
      /^→ ACK ack=\d+ win=\d+$/,
      sent,
      /^→ DATA seq=\d+ ack=\d+ win=\d+ 3 bytes$/,
      sent,
      received,
      /^← DATA seq=\d+ ack=\d+ win=\d+ 3 bytes$/,
      /^→ FIN seq=\d+ ack=\d+ win=\d+$/,
      sent,
      received,
      /^← FIN seq=\d+ ack=\d+ win=\d+$/,
      new RegExp(`^close\\(${fd}\\)$`),
    ]);
    await server.line(/^127\.0\.0\.1:\d+: "two"$/);
    const stopped = await interrupt(server);
    expect(stopped.stdout).toMatch(/stopped: 1 connection\n$/);
  });

  test("--count prints a summary with the retransmissions", async () => {
    const { port } = await startServer(["--reliable"]);
    const client = await run("client-cli", ["--reliable", "--port", port, "--count", "50"]);
    expect(client.code).toBe(0);
    expect(client.stdout).toMatch(
      /^sent 50 messages over one reliable connection, got every reply in [\d.]+ ms \(\d+ retransmissions?\)\n$/,
    );
  });

  test("nothing listening: connection refused, exit 1; --retries does not apply", async () => {
    const refused = await run("client-cli", ["--reliable", "--port", "9"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("connection refused");
    const usage = await run("client-cli", ["--reliable", "--retries", "2"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--reliable the sliding window retransmits by itself");
  });
});
