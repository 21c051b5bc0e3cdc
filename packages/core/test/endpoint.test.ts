import { readdirSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import {
  DEFAULT_HOST,
  Domain,
  type Endpoint,
  endpointDomain,
  endpointOf,
  formatAddress,
  formatEndpoint,
  isSocketError,
  isValidHost,
  MAX_UNIX_PATH_BYTES,
  type ParseEndpointOptions,
  parseEndpoint,
  parsePort,
  SocketError,
} from "@socket-lab/core";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { next, tempDir } from "./_sockets.js";

/** The error `parseEndpoint` throws for `input`, checked to be ERR_INVALID_ENDPOINT. */
function parseError(input: string, options?: ParseEndpointOptions): SocketError {
  try {
    parseEndpoint(input, options);
  } catch (err) {
    expect(err).toBeInstanceOf(SocketError);
    if (!isSocketError(err, "ERR_INVALID_ENDPOINT")) throw err;
    return err;
  }
  throw new Error(`parseEndpoint(${JSON.stringify(input)}) did not throw`);
}

const tooLongPath = `/tmp/${"x".repeat(MAX_UNIX_PATH_BYTES)}.sock`;

describe("parseEndpoint and formatEndpoint", () => {
  test.each<[string, ParseEndpointOptions, Endpoint, string]>([
    [
      "tcp://127.0.0.1:7000",
      {},
      { transport: "tcp", host: "127.0.0.1", port: 7000 },
      "tcp://127.0.0.1:7000",
    ],
    ["udp://[::1]:7001", {}, { transport: "udp", host: "::1", port: 7001 }, "udp://[::1]:7001"],
    ["unix:///tmp/x.sock", {}, { transport: "unix", path: "/tmp/x.sock" }, "unix:///tmp/x.sock"],
    // Short forms take their transport and host from the options.
    [
      "127.0.0.1:7000",
      {},
      { transport: "tcp", host: "127.0.0.1", port: 7000 },
      "tcp://127.0.0.1:7000",
    ],
    [
      "localhost:80",
      { transport: "udp" },
      { transport: "udp", host: "localhost", port: 80 },
      "udp://localhost:80",
    ],
    ["[::1]:7000", {}, { transport: "tcp", host: "::1", port: 7000 }, "tcp://[::1]:7000"],
    [":7000", {}, { transport: "tcp", host: DEFAULT_HOST, port: 7000 }, "tcp://127.0.0.1:7000"],
    [
      ":7001",
      { transport: "udp", host: "::1" },
      { transport: "udp", host: "::1", port: 7001 },
      "udp://[::1]:7001",
    ],
    ["/tmp/x.sock", {}, { transport: "unix", path: "/tmp/x.sock" }, "unix:///tmp/x.sock"],
    // A port may come from the options when the endpoint has none.
    [
      "localhost",
      { port: 7000 },
      { transport: "tcp", host: "localhost", port: 7000 },
      "tcp://localhost:7000",
    ],
    ["tcp://[::1]", { port: 9 }, { transport: "tcp", host: "::1", port: 9 }, "tcp://[::1]:9"],
    // Port edges, scheme case, a fully qualified name, an IPv6 zone, an IPv4-mapped address.
    [
      "tcp://127.0.0.1:0",
      {},
      { transport: "tcp", host: "127.0.0.1", port: 0 },
      "tcp://127.0.0.1:0",
    ],
    ["udp://[::1]:65535", {}, { transport: "udp", host: "::1", port: 65_535 }, "udp://[::1]:65535"],
    ["tls://[::1]:8443", {}, { transport: "tls", host: "::1", port: 8443 }, "tls://[::1]:8443"],
    [
      "TCP://example.com.:1",
      {},
      { transport: "tcp", host: "example.com.", port: 1 },
      "tcp://example.com.:1",
    ],
    [
      "[fe80::1%lo]:80",
      {},
      { transport: "tcp", host: "fe80::1%lo", port: 80 },
      "tcp://[fe80::1%lo]:80",
    ],
    [
      "udp://[::ffff:127.0.0.1]:53",
      {},
      { transport: "udp", host: "::ffff:127.0.0.1", port: 53 },
      "udp://[::ffff:127.0.0.1]:53",
    ],
  ])("%s %j", (input, options, endpoint, url) => {
    expect(parseEndpoint(input, options)).toEqual(endpoint);
    expect(formatEndpoint(endpoint)).toBe(url);
    expect(parseEndpoint(url)).toEqual(endpoint);
  });

  test.each<[string, string]>([
    ["localhost:99999", "port 99999 is out of range (0–65535)"],
    ["tcp://", "host and port are missing"],
    ["[::1", "'[::1' is missing the closing ']'"],
    ["udp://a:b", "port 'b' is not a number"],
    [tooLongPath, `unix socket path is ${tooLongPath.length} bytes`],
    [`unix://${tooLongPath}`, `at most ${MAX_UNIX_PATH_BYTES}`],
    ["", "it is empty"],
    ["tcp://host", "port is missing"],
    ["ftp://x:1", "scheme 'ftp://' is not one of tcp://, tls://, udp://, unix://"],
    ["::1:80", "IPv6 address '::1:80' must be written in brackets"],
    ["999.1.1.1:80", "host '999.1.1.1' is not a valid host name or IP address"],
    ["tcp://a:-1", "port '-1' is not a number from 0 to 65535"],
    [" :1", "whitespace"],
    ["localhost:80\n", "whitespace"],
    ["tcp://a b:1", "host 'a b'"],
    ["tcp://127.0.0.1:7000/path", "'127.0.0.1:7000/path' has a path"],
    ["user@localhost:1", "user part"],
    ["[127.0.0.1]:80", "'127.0.0.1' in brackets is not an IPv6 address"],
    ["[::1]x", "unexpected 'x' after '[::1]'"],
    ["[::1]:", "port is missing after ':'"],
    ["localhost:", "port is missing after ':'"],
    ["a]:1", "host 'a]' has a ']' without '['"],
    ["-bad-.example:1", "host '-bad-.example'"],
    ["a..b:1", "host 'a..b'"],
    ["host:1.5", "port '1.5'"],
    ["host:+1", "port '+1'"],
    ["tcp://[::1]:70000", "port 70000 is out of range"],
    [`${"a".repeat(64)}:1`, `host '${"a".repeat(64)}'`],
    ["unix://", "unix socket path is missing"],
    ["/tmp/a\0b", "NUL"],
  ])("%j is ERR_INVALID_ENDPOINT naming %j", (input, fragment) => {
    const err = parseError(input);
    const prefix = `invalid endpoint '${input}': `;
    expect(err.message.startsWith(prefix)).toBe(true);
    // The part after the prefix, not the echoed input, names what is wrong.
    expect(err.message.slice(prefix.length)).toContain(fragment);
    expect(err.hint).toContain("tcp://127.0.0.1:7000");
  });

  test("rejects a value that is not a string with a TypeError", () => {
    expect(() => parseEndpoint(7000 as unknown as string)).toThrow(
      expect.objectContaining({
        name: "TypeError",
        code: "ERR_INVALID_ARG_TYPE",
        message: 'The "endpoint" argument must be of type string. Received type number (7000)',
      }),
    );
  });

  test("rejects bad options with TypeError/RangeError naming the option and value", () => {
    expect(() => parseEndpoint(":1", { port: 70_000 })).toThrow(RangeError);
    expect(() => parseEndpoint(":1", { port: 70_000 })).toThrow(
      expect.objectContaining({
        code: "ERR_OUT_OF_RANGE",
        message:
          'The value of "options.port" is out of range. It must be an integer >= 0 && <= 65535. Received 70000',
      }),
    );
    expect(() => parseEndpoint(":1", { port: 1.5 })).toThrow("Received 1.5");
    expect(() => parseEndpoint(":1", { host: "a b" })).toThrow(TypeError);
    expect(() => parseEndpoint(":1", { host: "[::1]" })).toThrow("options.host");
    expect(() => parseEndpoint(":1", { transport: "sctp" as "tcp" })).toThrow(
      expect.objectContaining({
        name: "TypeError",
        code: "ERR_INVALID_ARG_VALUE",
        message: `The "options.transport" property must be one of: 'tcp', 'udp'. Received 'sctp'`,
      }),
    );
  });
});

describe("parsePort", () => {
  test("accepts 0–65535 and names the input and value otherwise", () => {
    expect(parsePort("0")).toBe(0);
    expect(parsePort("65535")).toBe(65_535);
    expect(() => parsePort("65536")).toThrow("port 65536 is out of range (0–65535)");
    expect(() => parsePort("", "host:")).toThrow("invalid endpoint 'host:': port ''");
    expect(() => parsePort("0x10")).toThrow("port '0x10' is not a number");
  });
});

describe("isValidHost", () => {
  test.each([
    "127.0.0.1",
    "::1",
    "fe80::1%lo",
    "localhost",
    "example.com.",
    "a-b.c0",
    "1e100.net",
    `${"a".repeat(63)}.com`,
  ])("accepts %s", (host) => {
    expect(isValidHost(host)).toBe(true);
  });

  test.each([
    "",
    "999.1.1.1",
    "1.2.3",
    "-a.com",
    "a-.com",
    "a_b",
    "a..b",
    "[::1]",
    `${"a".repeat(64)}.com`,
    `${"a.".repeat(127)}com`,
  ])("rejects %j", (host) => {
    expect(isValidHost(host)).toBe(false);
  });
});

describe("formatAddress, endpointDomain, endpointOf", () => {
  test("formatAddress prints host:port with IPv6 in brackets, or the unix path", () => {
    expect(formatAddress({ transport: "tcp", host: "127.0.0.1", port: 7000 })).toBe(
      "127.0.0.1:7000",
    );
    expect(formatAddress({ transport: "udp", host: "::1", port: 7001 })).toBe("[::1]:7001");
    expect(formatAddress({ transport: "tcp", host: "localhost", port: 1 })).toBe("localhost:1");
    expect(formatAddress({ transport: "unix", path: "/tmp/x.sock" })).toBe("/tmp/x.sock");
  });

  test("endpointDomain is the address family, undefined for a host name", () => {
    expect(endpointDomain(parseEndpoint("tcp://127.0.0.1:1"))).toBe(Domain.AF_INET);
    expect(endpointDomain(parseEndpoint("udp://[::1]:1"))).toBe(Domain.AF_INET6);
    expect(endpointDomain(parseEndpoint("unix:///tmp/x.sock"))).toBe(Domain.AF_UNIX);
    expect(endpointDomain(parseEndpoint("localhost:1"))).toBeUndefined();
  });

  test("endpointOf builds endpoints from what real sockets report", async () => {
    const server = net.createServer((socket) => socket.end());
    server.listen(0, "::1");
    await next(server, "listening");
    try {
      const local = endpointOf("tcp", server.address() as net.AddressInfo);
      expect(local).toEqual({ transport: "tcp", host: "::1", port: expect.any(Number) });
      const client = net.connect({ host: "::1", port: (local as { port: number }).port });
      await next(client, "connect");
      expect(endpointOf("tcp", { address: client.localAddress, port: client.localPort })).toEqual({
        transport: "tcp",
        host: "::1",
        port: client.localPort,
      });
      client.destroy();
    } finally {
      server.close();
    }
    expect(endpointOf("tcp", "/tmp/x.sock")).toEqual({ transport: "unix", path: "/tmp/x.sock" });
    // A socket that is not connected reports nothing; the endpoint says so instead of throwing.
    expect(endpointOf("udp", {})).toEqual({ transport: "udp", host: "", port: 0 });
  });
});

describe("unix paths and the system limit", () => {
  test(`a path of exactly MAX_UNIX_PATH_BYTES (${MAX_UNIX_PATH_BYTES}) binds and connects, one more byte does not parse`, async () => {
    const dir = tempDir();
    const base = join(dir, "s");
    const path = base + "x".repeat(MAX_UNIX_PATH_BYTES - Buffer.byteLength(base));
    expect(Buffer.byteLength(path)).toBe(MAX_UNIX_PATH_BYTES);

    const endpoint = parseEndpoint(`unix://${path}`);
    expect(endpoint).toEqual({ transport: "unix", path });
    const server = net.createServer((socket) => socket.end("ok"));
    server.listen(path);
    await next(server, "listening");
    try {
      // The file has the whole name: nothing was cut off.
      expect(readdirSync(dir).map((name) => join(dir, name))).toEqual([path]);
      const client = net.connect(path);
      const [reply] = await next<Buffer>(client, "data");
      expect(String(reply)).toBe("ok");
      client.destroy();
    } finally {
      server.close();
    }

    expect(parseError(`${path}x`).message).toContain(
      `unix socket path is ${MAX_UNIX_PATH_BYTES + 1} bytes; the system allows at most ${MAX_UNIX_PATH_BYTES}`,
    );
  });

  test("the limit counts UTF-8 bytes, not characters", () => {
    const path = `/tmp/${"é".repeat(60)}`; // 65 characters, 125 bytes
    expect(parseError(path).message).toContain("125 bytes");
  });
});

// Canonical endpoint strings: what formatEndpoint prints.
const hostArb = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.domain(),
  fc.constantFrom("localhost", "::", "::1", "0.0.0.0"),
);
const portArb = fc.integer({ min: 0, max: 65_535 });
const segmentArb = fc.stringMatching(/^[a-zA-Z0-9._\-éü中]{1,12}$/);
const unixPathArb = fc
  .array(segmentArb, { minLength: 1, maxLength: 8 })
  .map((segments) => `/${segments.join("/")}`)
  .filter((path) => Buffer.byteLength(path) <= MAX_UNIX_PATH_BYTES);
const endpointArb: fc.Arbitrary<Endpoint> = fc.oneof(
  fc.record({ transport: fc.constantFrom("tcp", "udp"), host: hostArb, port: portArb }),
  fc.record({ transport: fc.constant("unix"), path: unixPathArb }),
);
const bracket = (host: string) => (host.includes(":") ? `[${host}]` : host);
const endpointStringArb = fc.oneof(
  fc
    .tuple(fc.constantFrom("tcp", "udp"), hostArb, portArb)
    .map(([scheme, host, port]) => `${scheme}://${bracket(host)}:${port}`),
  unixPathArb.map((path) => `unix://${path}`),
);

describe("properties", () => {
  test("formatEndpoint(parseEndpoint(x)) === x for canonical endpoint strings", () => {
    fc.assert(
      fc.property(endpointStringArb, (text) => {
        expect(formatEndpoint(parseEndpoint(text))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  test("parseEndpoint(formatEndpoint(e)) deep-equals e", () => {
    fc.assert(
      fc.property(endpointArb, (endpoint) => {
        expect(parseEndpoint(formatEndpoint(endpoint))).toEqual(endpoint);
      }),
      { numRuns: 500 },
    );
  });

  test("a short form means the same as its URL", () => {
    fc.assert(
      fc.property(fc.constantFrom("tcp", "udp"), hostArb, portArb, (transport, host, port) => {
        const short = `${bracket(host)}:${port}`;
        expect(parseEndpoint(short, { transport })).toEqual(
          parseEndpoint(`${transport}://${short}`),
        );
        expect(parseEndpoint(`:${port}`, { transport, host })).toEqual({ transport, host, port });
      }),
      { numRuns: 200 },
    );
  });

  test("any string parses to an endpoint that round-trips, or fails with ERR_INVALID_ENDPOINT", () => {
    const noisy = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.stringMatching(/^[a-z]{0,4}:?\/{0,3}\[?[0-9a-f:.]{0,12}\]?:?[-+0-9a-z]{0,7}$/),
    );
    fc.assert(
      fc.property(noisy, (text) => {
        let endpoint: Endpoint;
        try {
          endpoint = parseEndpoint(text);
        } catch (err) {
          expect(isSocketError(err, "ERR_INVALID_ENDPOINT")).toBe(true);
          return;
        }
        expect(parseEndpoint(formatEndpoint(endpoint))).toEqual(endpoint);
      }),
      { numRuns: 1_000 },
    );
  });
});
