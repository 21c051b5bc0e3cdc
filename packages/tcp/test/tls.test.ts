/**
 * TLS: certificate problems a client meets, explained with hints; a plain-TCP peer on either
 * side; and our TLS against a real peer, openssl s_client and s_server. (The contract suite runs
 * framing, backpressure, limits and the trace over TLS too.)
 */

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { type SocketError, TLS_ERROR_CODES } from "@socket-lab/core";
import { describe, expect, it, onTestFinished } from "vitest";
import { connect, listen, selfSignedCertificate } from "../src/index.js";
import {
  CERTIFICATE,
  recorder,
  startClient,
  startServer,
  tempDir,
  until,
  WAIT_MS,
  within,
} from "./_sockets.js";

/** A tls:// line server with `cert`, answering each line with "echo: " + line. */
async function echoServer(cert: { key: string; cert: string }) {
  const failures: SocketError[] = [];
  const server = await startServer("tls://127.0.0.1:0", {
    tls: cert,
    handler: async (connection) => {
      for await (const line of connection) await connection.send(`echo: ${line}`);
    },
    onError: (error) => failures.push(error),
  });
  return {
    server,
    failures,
    port: server.endpoint.transport === "unix" ? 0 : server.endpoint.port,
  };
}

/** The error a connect to `endpoint` fails with. */
async function connectError(endpoint: string, options: Parameters<typeof connect>[1]) {
  const error = await connect(endpoint, options).then(
    (connection) => {
      connection.destroy();
      throw new Error("connected, but should have failed");
    },
    (err: unknown) => err as SocketError,
  );
  expect(error.name).toBe("SocketError");
  expect(TLS_ERROR_CODES as readonly string[]).toContain(error.code);
  expect(error.hint).toBeTruthy();
  return error;
}

describe("tls:// certificate problems are explained errors with hints", () => {
  it("self-signed and not trusted: DEPTH_ZERO_SELF_SIGNED_CERT, not retried", async () => {
    const { port, failures } = await echoServer(CERTIFICATE);
    const trace = recorder();
    const error = await connectError(`tls://localhost:${port}`, {
      retries: 3,
      trace: trace.trace,
    });
    expect(error).toMatchObject({
      code: "DEPTH_ZERO_SELF_SIGNED_CERT",
      message: expect.stringContaining("is self-signed, and this client does not trust it"),
      hint: expect.stringContaining("--insecure"),
    });
    // One attempt: the same certificate would fail again. (localhost tries ::1 first, refused.)
    expect(trace.events.filter((e) => e.type === "connect").map((e) => e.type)).toHaveLength(2);
    // The server sees a client hang up in the handshake, and says why that usually is.
    await until(() => failures.length > 0, "the server's 'error'");
    expect(failures[0]).toMatchObject({
      code: "ECONNRESET",
      hint: expect.stringContaining("does not trust this server's certificate"),
    });
  });

  it("trusted with ca, or --insecure, it connects and says what TLS agreed on", async () => {
    const { port } = await echoServer(CERTIFICATE);
    for (const tls of [{ ca: CERTIFICATE.cert }, { insecure: true }]) {
      const client = await startClient(`tls://127.0.0.1:${port}`, { tls });
      expect(client.tls).toMatchObject({
        protocol: "TLSv1.3",
        cipher: expect.stringMatching(/^TLS_/),
      });
      await client.send("hello");
      const reply = await within(client[Symbol.asyncIterator]().next(), "the echo");
      expect(reply.value).toBe("echo: hello");
    }
  });

  it("signed by an unknown CA: UNABLE_TO_VERIFY_LEAF_SIGNATURE; trusting the CA works", async () => {
    const ca = await selfSignedCertificate({ hosts: ["socket-lab test CA"], ca: true });
    const leaf = await selfSignedCertificate({ issuer: ca });
    const { port } = await echoServer(leaf);
    const error = await connectError(`tls://127.0.0.1:${port}`, { tls: { ca: CERTIFICATE.cert } });
    expect(error).toMatchObject({
      code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      message: expect.stringContaining(
        "signed by a certificate authority this client does not know",
      ),
    });
    const client = await startClient(`tls://127.0.0.1:${port}`, { tls: { ca: ca.cert } });
    expect(client.tls?.protocol).toBe("TLSv1.3");
  });

  it("for another name: ERR_TLS_CERT_ALTNAME_INVALID, naming the names it is for", async () => {
    const other = await selfSignedCertificate({ hosts: ["example.test"] });
    const { port } = await echoServer(other);
    const error = await connectError(`tls://localhost:${port}`, { tls: { ca: other.cert } });
    expect(error.code).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
    expect(error.message).toMatch(
      /is not for the name asked for: Host: localhost\. is not in the cert's altnames: DNS:example\.test$/,
    );
    // The right servername makes it work.
    const ok = { ca: other.cert, servername: "example.test" };
    expect((await startClient(`tls://127.0.0.1:${port}`, { tls: ok })).tls).toBeDefined();
  });

  it("expired: CERT_HAS_EXPIRED", async () => {
    const day = 86_400_000;
    const expired = await selfSignedCertificate({
      notBefore: new Date(Date.now() - 10 * day),
      notAfter: new Date(Date.now() - day),
    });
    const { port } = await echoServer(expired);
    const error = await connectError(`tls://127.0.0.1:${port}`, { tls: { ca: expired.cert } });
    expect(error).toMatchObject({
      code: "CERT_HAS_EXPIRED",
      hint: expect.stringContaining("Renew"),
    });
  });

  it("a plain-TCP server on a TLS connection: ERR_SSL_WRONG_VERSION_NUMBER", async () => {
    const plain = await startServer("tcp://127.0.0.1:0", {
      handler: (connection) => connection.send("Hello from a plain server"),
    });
    const port = plain.endpoint.transport === "tcp" ? plain.endpoint.port : 0;
    const error = await connectError(`tls://127.0.0.1:${port}`, { tls: { insecure: true } });
    expect(error).toMatchObject({
      code: "ERR_SSL_WRONG_VERSION_NUMBER",
      message: expect.stringContaining("does not speak TLS"),
    });
  });

  it("a plain-TCP client on a TLS port: the server reports it, once, and goes on serving", async () => {
    const { port, failures } = await echoServer(CERTIFICATE);
    for (const [wire, code] of [
      ["GET / HTTP/1.1\r\nHost: a\r\n\r\n", "ERR_SSL_HTTP_REQUEST"],
      ["hello\n".repeat(10), "ERR_SSL_WRONG_VERSION_NUMBER"],
    ] as const) {
      const before = failures.length;
      const raw = net.connect(port, "127.0.0.1");
      raw.on("error", () => {});
      const closed = once(raw, "close");
      raw.end(wire);
      await until(() => failures.length > before, "the server's report");
      expect(failures.at(-1)).toMatchObject({ code, hint: expect.any(String) });
      await within(closed, "the plain client's close");
    }
    expect(failures).toHaveLength(2);
    const client = await startClient(`tls://127.0.0.1:${port}`, { tls: { ca: CERTIFICATE.cert } });
    await client.send("still there?");
    expect((await within(client[Symbol.asyncIterator]().next(), "the echo")).value).toBe(
      "echo: still there?",
    );
  });

  it("close() ends handshakes under way instead of waiting for them", async () => {
    const server = await listen("tls://127.0.0.1:0", {
      tls: { ...CERTIFICATE, handshakeTimeoutMs: 10 * 60_000 },
    });
    const port = server.endpoint.transport === "tls" ? server.endpoint.port : 0;
    const raw = net.connect(port, "127.0.0.1"); // connects, then says nothing
    raw.on("error", () => {});
    await within(once(raw, "connect"), "the raw connect");
    await within(server.close({ timeoutMs: 10 * 60_000 }), "close() with a handshake under way");
    await within(once(raw, "close"), "the silent client's close");
  });

  it("refuses tls options on tcp://, and a tls:// server without a certificate", async () => {
    await expect(listen("tcp://127.0.0.1:0", { tls: CERTIFICATE })).rejects.toThrow(TypeError);
    await expect(listen("tls://127.0.0.1:0", {})).rejects.toMatchObject({
      code: "ERR_INVALID_ARG_TYPE",
      message: 'The "tls" option must be an object { key, cert }. Received undefined',
    });
    await expect(connect("tcp://127.0.0.1:1", { tls: { insecure: true } })).rejects.toThrow(
      TypeError,
    );
  });
});

/** Starts an openssl command; it is killed when the test ends. */
function openssl(
  args: readonly string[],
  input?: string,
): ChildProcess & { output: () => string; exited: Promise<number | null> } {
  const child = spawn("openssl", args, { stdio: ["pipe", "pipe", "pipe"] });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  if (input !== undefined) child.stdin.end(input);
  onTestFinished(() => {
    child.kill("SIGKILL");
  });
  return Object.assign(child, { output: () => output, exited });
}

/** Resolves once `read()` matches `pattern`, polling within WAIT_MS. */
async function waitFor(
  read: () => string,
  pattern: RegExp,
  what: string,
): Promise<RegExpExecArray> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const match = pattern.exec(read());
    if (match !== null) return match;
    if (Date.now() > deadline) throw new Error(`${what}: no ${pattern} in:\n${read()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("tls:// against a real peer: openssl", () => {
  it("openssl s_client verifies our certificate and gets the echo", async () => {
    const dir = tempDir();
    const ca = join(dir, "cert.pem");
    writeFileSync(ca, CERTIFICATE.cert);
    const trace = recorder();
    const server = await startServer("tls://127.0.0.1:0", {
      tls: CERTIFICATE,
      trace: trace.trace,
      handler: async (connection) => {
        for await (const line of connection) {
          await connection.send(`echo: ${line}`);
          break; // one answer, then close: s_client -quiet waits for the server to end
        }
      },
    });
    const port = server.endpoint.transport === "tls" ? server.endpoint.port : 0;
    const client = openssl(
      [
        "s_client",
        "-connect",
        `127.0.0.1:${port}`,
        "-CAfile",
        ca,
        "-servername",
        "localhost",
        "-verify_return_error",
        "-verify_hostname",
        "localhost",
        "-quiet",
      ],
      "Hello from openssl\n",
    );
    await waitFor(client.output, /echo: Hello from openssl/, "s_client");
    expect(await within(client.exited, "s_client to exit")).toBe(0);
    expect(trace.events.find((e) => e.type === "handshake")).toMatchObject({ protocol: "TLSv1.3" });
  });

  it("our client refuses openssl s_server's certificate until given it, then talks to it", async () => {
    const dir = tempDir();
    const cert = await selfSignedCertificate();
    writeFileSync(join(dir, "key.pem"), cert.key);
    writeFileSync(join(dir, "cert.pem"), cert.cert);
    const server = openssl([
      "s_server",
      "-accept",
      "127.0.0.1:0",
      "-key",
      join(dir, "key.pem"),
      "-cert",
      join(dir, "cert.pem"),
      "-rev",
      "-naccept",
      "2",
    ]);
    const [, port] = await waitFor(server.output, /ACCEPT 127\.0\.0\.1:(\d+)/, "s_server");
    const refused = await connectError(`tls://localhost:${port}`, {});
    expect(refused.code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
    const client = await startClient(`tls://localhost:${port}`, { tls: { ca: cert.cert } });
    expect(client.tls).toMatchObject({ protocol: "TLSv1.3" });
    await client.send("Hello from socket-lab");
    const reply = await within(client[Symbol.asyncIterator]().next(), "s_server's answer");
    expect(reply.value).toBe("bal-tekcos morf olleH");
  });
});
