import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { inOrder, interrupt, run, startServer, stopAll } from "./_spawn.js";

afterEach(stopAll);

/** A --tls server with a certificate made at start, saved where a client can read it. */
async function tlsServer(extra: readonly string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), "tcp-echo-tls-"));
  const pem = join(dir, "cert.pem");
  const { server, port } = await startServer(["--tls", "--save-cert", pem, ...extra]);
  const certificate = await server.line(/^certificate: /);
  return { server, port, pem, certificate, cleanup: () => rmSync(dir, { recursive: true }) };
}

describe("tcp-echo over TLS (--tls)", () => {
  test("the server makes a self-signed certificate and prints its fingerprint; --ca trusts it", async () => {
    const { server, port, pem, certificate, cleanup } = await tlsServer(["--trace"]);
    try {
      expect(server.stdout()).toMatch(/^listening on tls:\/\/127\.0\.0\.1:\d+$/m);
      expect(certificate).toMatch(
        /^certificate: self-signed for localhost, 127\.0\.0\.1, ::1; SHA-256 fingerprint ([0-9A-F]{2}:){31}[0-9A-F]{2}; saved to /,
      );
      expect(readFileSync(pem, "utf8")).toMatch(/^-----BEGIN CERTIFICATE-----/);
      const client = await run("client-cli", ["--port", port, "--tls", "--ca", pem, "--trace"]);
      expect(client).toMatchObject({ code: 0, stdout: "Hello from client\n" });
      // The handshake comes between connect() and the first send(); what is sent and received
      // is the 18 bytes of "Hello from client\n", counted before encryption.
      const fd = /^socket\(AF_INET, SOCK_STREAM, IPPROTO_TCP\) = (\d+)$/m.exec(client.stderr)?.[1];
      expect(fd).toBeDefined();
      inOrder(client.stderr.split("\n"), [
        new RegExp(`^connect\\(${fd}, 127\\.0\\.0\\.1:${port}\\)$`),
        new RegExp(`^tls handshake 127\\.0\\.0\\.1:${port} -> TLSv1\\.3 TLS_\\w+$`),
        new RegExp(`^send\\(${fd}, 18 bytes\\)$`),
        new RegExp(`^recv\\(${fd}\\) = 18$`),
      ]);
      const stopped = await interrupt(server);
      const err = stopped.stderr;
      const listening = /^socket\(AF_INET, SOCK_STREAM, IPPROTO_TCP\) = (\d+)$/m.exec(err)?.[1];
      const accepted = new RegExp(
        `^accept\\(${listening}\\) = (\\d+) \\(127\\.0\\.0\\.1:\\d+\\)$`,
        "m",
      ).exec(err)?.[1];
      // accept() gives the TCP connection its own descriptor; TLS then runs over it.
      expect(listening).toBeDefined();
      expect(accepted).toBeDefined();
      expect(accepted).not.toBe(listening);
      inOrder(err.split("\n"), [
        new RegExp(`^accept\\(${listening}\\) = ${accepted} `),
        /^tls handshake 127\.0\.0\.1:\d+ -> TLSv1\.3 TLS_\w+$/,
        new RegExp(`^recv\\(${accepted}\\) = 18$`),
        new RegExp(`^send\\(${accepted}, 18 bytes\\)$`),
        new RegExp(`^close\\(${accepted}\\)$`),
      ]);
    } finally {
      cleanup();
    }
  });

  test("without --ca the client refuses the self-signed certificate, explained, exit 1", async () => {
    const { server, port, cleanup } = await tlsServer();
    try {
      const client = await run("client-cli", ["localhost", "--port", port, "--tls"]);
      expect(client.code).toBe(1);
      expect(client.stderr).toMatch(
        /^tcp-echo-client: the certificate of 127\.0\.0\.1:\d+ is self-signed, and this client does not trust it\. .*--ca FILE/,
      );
      // The server says why the client hung up, and goes on.
      await server.line(/^listening/);
      expect((await run("client-cli", ["--port", port, "--tls", "--insecure"])).code).toBe(0);
      const stopped = await interrupt(server);
      expect(stopped.stderr).toMatch(/does not trust this server's certificate/);
    } finally {
      cleanup();
    }
  });

  test("--insecure connects without checking, and says so loudly on stderr", async () => {
    const { port, cleanup } = await tlsServer();
    try {
      const client = await run("client-cli", ["--port", port, "--tls", "--insecure"]);
      expect(client).toMatchObject({ code: 0, stdout: "Hello from client\n" });
      expect(client.stderr).toMatch(/WARNING: --insecure: the server's certificate is NOT checked/);
    } finally {
      cleanup();
    }
  });

  test("--tls against a plain server, and a plain client against --tls: both explained", async () => {
    // A plain server that speaks first (an echo server would echo the TLS hello back).
    const plain = createServer((socket) => socket.end("Hello from a plain TCP server\n"));
    await once(plain.listen(0, "127.0.0.1"), "listening");
    const plainPort = String((plain.address() as AddressInfo).port);
    const tlsClient = await run("client-cli", ["--port", plainPort, "--tls", "--insecure"]);
    plain.close();
    expect(tlsClient.code).toBe(1);
    expect(tlsClient.stderr).toMatch(/does not speak TLS — a plain TCP peer on a TLS connection/);

    const { server, port, cleanup } = await tlsServer();
    try {
      expect((await run("client-cli", ["--port", port])).code).toBe(1);
      const stopped = await interrupt(server);
      expect(stopped.stderr).toMatch(
        /tcp-echo-server: the peer 127\.0\.0\.1:\d+ does not speak TLS/,
      );
    } finally {
      cleanup();
    }
  });

  test("flag mistakes are usage errors (exit 2)", async () => {
    const { port, cleanup } = await tlsServer();
    try {
      for (const args of [
        ["--ca", "x.pem"],
        ["--insecure"],
        ["--tls", "--insecure", "--ca", "x.pem"],
      ]) {
        expect((await run("client-cli", ["--port", port, ...args])).code).toBe(2);
      }
      expect((await run("server-cli", ["--port", "0", "--key", "k.pem"])).code).toBe(2);
      expect((await run("server-cli", ["--port", "0", "--tls", "--key", "k.pem"])).code).toBe(2);
    } finally {
      cleanup();
    }
  });
});
