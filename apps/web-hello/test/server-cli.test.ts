import { once } from "node:events";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_HOST, DEFAULT_MAX_CONNECTIONS } from "@socket-lab/core";
import { helpDefaults } from "@socket-lab/test-utils/help-defaults";
import { afterEach, describe, expect, test } from "vitest";
import { WEB_MAX_BODY_BYTES, WEB_MAX_HEAD_BYTES, WEB_MAX_HEADERS } from "../src/http-framing.js";
import {
  WEB_HTTP_PORT,
  WEB_HTTPS_PORT,
  WEB_KEEP_ALIVE_TIMEOUT_MS,
  WEB_REQUEST_TIMEOUT_MS,
} from "../src/options.js";
import { curl, exchange, field, rawSocket, readToEnd, statuses } from "./_http.js";
import { inOrder, interrupt, run, start, startServer, stopAll, WAIT_MS } from "./_spawn.js";

afterEach(stopAll);

const GET = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

/** An HTTP-only server on a free port. */
function httpServer(args: readonly string[] = []) {
  return startServer(["--http-only", ...args]);
}

describe("web-hello-server --help", () => {
  test("shows each default as the constant the server applies", async () => {
    const help = await run("server-cli", ["--help"]);
    expect(help.code).toBe(0);
    expect(helpDefaults(help.stdout)).toEqual({
      host: DEFAULT_HOST,
      port: String(WEB_HTTP_PORT),
      "https-port": String(WEB_HTTPS_PORT),
      key: "made at start",
      cert: "self-signed for localhost, made at start",
      "max-connections": String(DEFAULT_MAX_CONNECTIONS),
      "max-head-bytes": String(WEB_MAX_HEAD_BYTES),
      "max-headers": String(WEB_MAX_HEADERS),
      "max-body-bytes": String(WEB_MAX_BODY_BYTES),
      "request-timeout": String(WEB_REQUEST_TIMEOUT_MS / 1000),
      "keep-alive-timeout": String(WEB_KEEP_ALIVE_TIMEOUT_MS / 1000),
    });
  });
});

describe("web-hello-server over HTTP, with curl", () => {
  test("HTTP/1.1 and HTTP/1.0 GET get the page, which tells the connection's story", async () => {
    const { server, port } = await httpServer();
    for (const version of ["--http1.1", "--http1.0"]) {
      const { code, stdout } = await curl([version, "--include", `http://127.0.0.1:${port}/`]);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(stdout).toMatch(
        version === "--http1.0" ? /\r\nConnection: close\r\n/ : /\r\nConnection: keep-alive\r\n/,
      );
      expect(field(stdout, "fd")).toMatch(/^\d+ \(the socket accept\(\) returned for you\)$/);
      expect(field(stdout, "client")).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(field(stdout, "server")).toBe(`127.0.0.1:${port}`);
      expect(field(stdout, "requests")).toBe("1");
    }
    // The server's log names the same client port and fd the page showed.
    await server.line(/ disconnected after 1 request$/, 2);
    expect(server.stdout()).toMatch(/^127\.0\.0\.1:\d+ connected \(fd \d+\)$/m);
    expect(server.stdout()).toMatch(
      /^127\.0\.0\.1:\d+ 200 "GET \/" \(request 1 on this connection\)$/m,
    );
  });

  test("keep-alive: curl re-uses the connection, and the page counts the requests on it", async () => {
    const { port } = await httpServer();
    const url = `http://127.0.0.1:${port}/`;
    const { code, stdout, stderr } = await curl(["--verbose", url, url, url]);
    expect(code).toBe(0);
    expect(stderr).toMatch(/Re-using existing connection/);
    const pages = stdout.split("</html>").slice(0, 3);
    expect(pages.map((page) => field(page, "requests"))).toEqual(["1", "2", "3"]);
    expect(new Set(pages.map((page) => field(page, "client"))).size).toBe(1);
  });

  test("pipelined requests, written at once, are answered in order on one connection", async () => {
    const { port } = await httpServer();
    const reply = await exchange(
      port,
      `${GET}HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n${GET.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")}`,
    );
    expect(statuses(reply)).toEqual([200, 200, 404, 200]);
    const pages = reply.split("</html>");
    expect(field(pages[0] ?? "", "requests")).toBe("1");
    expect(field(pages[1] ?? "", "requests")).toBe("4"); // HEAD and the 404 had no page
  });

  test("HEAD sends the head GET would send, without the body", async () => {
    const { port } = await httpServer();
    const head = await curl(["--head", `http://127.0.0.1:${port}/`]);
    const length = Number(/\r\nContent-Length: (\d+)\r\n/.exec(head.stdout)?.[1]);
    expect(length).toBeGreaterThan(200);
    expect(head.stdout.endsWith("\r\n\r\n")).toBe(true);
  });

  test("answers 404, 405, 400, 413, 414, 431 and 501, and keeps serving", async () => {
    const { server, port } = await httpServer([
      "--max-body-bytes",
      "100",
      "--max-head-bytes",
      "2048",
    ]);
    const url = `http://127.0.0.1:${port}`;
    const status = async (args: string[]) =>
      (await curl(["--output", "/dev/null", "--write-out", "%{http_code}", ...args])).stdout;
    expect(await status([`${url}/missing`])).toBe("404");
    expect(await status(["--request", "DELETE", `${url}/`])).toBe("405");
    expect(await status(["--data", "x".repeat(101), `${url}/`])).toBe("413");
    expect(await status([`${url}/${"a".repeat(3000)}`])).toBe("414");
    expect(await status(["--header", `X-Big: ${"b".repeat(3000)}`, `${url}/`])).toBe("431");
    expect(await status(["--header", "Transfer-Encoding: chunked", "--data", "x", `${url}/`])).toBe(
      "501",
    );
    const allow = await curl(["--include", "--request", "POST", `${url}/`]);
    expect(allow.stdout).toMatch(/\r\nAllow: GET, HEAD\r\n/);
    expect(statuses(await exchange(port, "GET / HTTP/1.1\nHost: a\n\n"))).toEqual([400]);
    expect(await status([`${url}/`])).toBe("200");
    expect(server.child.exitCode).toBe(null);
  });

  test("malformed requests (fuzz cases) get a 4xx/5xx or a close, and never crash the server", async () => {
    const { server, port } = await httpServer();
    const cases = [
      "GET / HTTP/1.1\nHost: a\n\n", // bare \n
      "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n folded\r\n\r\n", // obs-fold
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
      "\u0000\u0001\u0002\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n\u00ff\u00fe: x\r\n\r\n",
      `${"\r\n".repeat(5000)}`,
    ];
    for (const wire of cases) {
      const reply = await exchange(port, wire);
      const answered = statuses(reply);
      expect(answered.length).toBeLessThanOrEqual(1);
      for (const code of answered) expect(code === 400 || code === 414 || code === 501).toBe(true);
    }
    expect((await curl([`http://127.0.0.1:${port}/`])).code).toBe(0);
    expect(server.child.exitCode).toBe(null);
  });

  test("a request that does not arrive whole within --request-timeout is closed (slow loris)", async () => {
    const { server, port } = await httpServer(["--request-timeout", "0.3"]);
    const socket = await rawSocket(port);
    const closed = readToEnd(socket);
    socket.write("GET / HTTP/1.1\r\nHost: a\r\n"); // ...and never the empty line
    expect(statuses(await closed)).toEqual([]);
    expect(await server.line(/did not finish it within 300 ms/)).toMatch(/^127\.0\.0\.1:\d+: /);
  });

  test("--max-connections: one more connection is closed at once, the open one keeps working", async () => {
    const { port } = await httpServer(["--max-connections", "1"]);
    const first = await rawSocket(port);
    first.write(GET);
    await once(first, "data"); // accepted and answered: it counts as open
    const second = await rawSocket(port);
    expect(statuses(await readToEnd(second))).toEqual([]);
    const rest = readToEnd(first);
    first.end(GET.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"));
    expect(statuses(await rest)).toEqual([200]);
  });

  test("--trace prints the socket story: socket, bind, listen, accept, recv, send, shutdown, close", async () => {
    const { server, port } = await httpServer(["--trace"]);
    const page = await curl(["--http1.0", `http://127.0.0.1:${port}/`]);
    expect(page.code).toBe(0);
    await server.line(/disconnected after 1 request$/);
    const stopped = await interrupt(server);
    expect(stopped.code).toBe(0);
    const err = stopped.stderr;
    const fd = /^socket\(AF_INET, SOCK_STREAM, IPPROTO_TCP\) = (\d+)$/m.exec(err)?.[1];
    const client = new RegExp(`^accept\\(${fd}\\) = (\\d+) \\(127\\.0\\.0\\.1:\\d+\\)$`, "m").exec(
      err,
    )?.[1];
    // accept() returns a new socket, with a descriptor of its own: the page's "fd".
    expect(fd).toBeDefined();
    expect(client).toBeDefined();
    expect(client).not.toBe(fd);
    expect(field(page.stdout, "fd")).toBe(`${client} (the socket accept() returned for you)`);
    inOrder(err.split("\n"), [
      new RegExp(`^bind\\(${fd}, 127\\.0\\.0\\.1:${port}\\)$`),
      new RegExp(`^listen\\(${fd}, 511\\)$`),
      new RegExp(`^accept\\(${fd}\\) = ${client} `),
      new RegExp(`^recv\\(${client}\\) = \\d+$`), // the request
      new RegExp(`^send\\(${client}, \\d+ bytes\\)$`), // the page
      new RegExp(`^shutdown\\(${client}, SHUT_WR\\)$`), // HTTP/1.0: the server ends
      new RegExp(`^close\\(${client}\\)$`),
      new RegExp(`^close\\(${fd}\\)$`), // the listening socket
    ]);
  });
});

describe("web-hello-server over HTTPS", () => {
  test(
    "makes a self-signed certificate, prints its fingerprint, and serves the page over TLS",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "web-hello-"));
      const pem = join(dir, "cert.pem");
      const server = start("server-cli", ["--port", "0", "--https-port", "0", "--save-cert", pem]);
      const https = await server.line(/^listening on https:/);
      const port = /:(\d+)$/.exec(https)?.[1];
      const certificate = await server.line(/^certificate: /);
      expect(certificate).toMatch(
        /^certificate: self-signed for localhost, 127\.0\.0\.1, ::1; SHA-256 fingerprint ([0-9A-F]{2}:){31}[0-9A-F]{2}; saved to /,
      );
      expect(readFileSync(pem, "utf8")).toMatch(/^-----BEGIN CERTIFICATE-----/);

      // Not trusted: curl refuses, as a browser would.
      expect((await curl([`https://localhost:${port}/`])).code).toBe(60);
      // Trusted with the saved certificate: the page says it came over TLS.
      for (const host of ["localhost", "127.0.0.1"]) {
        const { code, stdout } = await curl(["--cacert", pem, `https://${host}:${port}/`]);
        expect(code).toBe(0);
        expect(stdout).toMatch(
          /over a stream socket: TLS \(TLSv1\.[23], TLS_[A-Z0-9_]+\) over TCP\./,
        );
        expect(field(stdout, "server")).toBe(`127.0.0.1:${port}`);
      }
      // Plain HTTP to the HTTPS port: the server explains it and goes on.
      await curl([`http://127.0.0.1:${port}/`]);
      expect(await server.line(/plain HTTP request to a TLS \(HTTPS\) port/)).toBeTruthy();
      expect((await curl(["--cacert", pem, `https://localhost:${port}/`])).code).toBe(0);
    },
    2 * WAIT_MS,
  );
});
