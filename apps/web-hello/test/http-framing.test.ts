import { cutAt } from "@socket-lab/test-utils/chunks";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { type HttpMessage, type HttpRequest, http } from "../src/http-framing.js";

const GET = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

/** Everything `wire` decodes to, fed in one chunk. */
function decode(wire: string | Buffer, limits = {}): HttpMessage[] {
  const decoder = http(limits).createDecoder();
  return [...decoder.push(Buffer.from(wire)), ...decoder.end()];
}

/** The status a refused request gets, or "request" when it is read. */
function verdict(wire: string, limits = {}): number | "request" {
  const [first] = decode(wire, limits);
  if (first?.kind === "error") return first.status;
  if (first?.kind === "request") return "request";
  throw new Error(`nothing decoded from ${JSON.stringify(wire)}`);
}

describe("http() decoder", () => {
  test("reads a request line, headers and an empty line as one request", () => {
    const wire = "GET /index.html?x=1 HTTP/1.1\r\nHost: a\r\nUser-Agent:  curl/8 \r\n\r\n";
    const [request] = decode(wire);
    expect(request).toMatchObject({
      kind: "request",
      method: "GET",
      target: "/index.html?x=1",
      version: "HTTP/1.1",
      headers: [
        ["host", "a"],
        ["user-agent", "curl/8"],
      ],
      keepAlive: true,
      headBytes: wire.length,
    });
    expect((request as HttpRequest).body.length).toBe(0);
  });

  test("reads Content-Length bytes of body, then the next request (pipelined)", () => {
    const wire = `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello${GET}`;
    const messages = decode(wire) as HttpRequest[];
    expect(messages.map((m) => [m.method, m.body.toString()])).toEqual([
      ["POST", "hello"],
      ["GET", ""],
    ]);
  });

  test("keep-alive: on by default in HTTP/1.1, off in HTTP/1.0 unless asked", () => {
    const keepAlive = (wire: string) => (decode(wire)[0] as HttpRequest).keepAlive;
    expect(keepAlive(GET)).toBe(true);
    expect(keepAlive("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).toBe(false);
    expect(keepAlive("GET / HTTP/1.0\r\n\r\n")).toBe(false);
    expect(keepAlive("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")).toBe(true);
  });

  test("refuses what RFC 9112 says to refuse, with the status to answer", () => {
    expect(verdict("GET / HTTP/1.1\nHost: a\n\n")).toBe(400); // bare \n
    expect(verdict("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  folded\r\n\r\n")).toBe(400); // obs-fold
    expect(
      verdict("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"),
    ).toBe(400);
    expect(verdict("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\nx")).toBe(400);
    expect(verdict("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")).toBe(501);
    expect(verdict("GET / HTTP/1.1\r\n\r\n")).toBe(400); // no Host
    expect(verdict("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")).toBe(400);
    expect(verdict("GET / HTTP/1.1\r\nHost : a\r\n\r\n")).toBe(400); // space before the colon
    expect(verdict("GET / HTTP/1.1\r\nHost: a\u0001\r\n\r\n")).toBe(400);
    expect(verdict("GET /\r\n\r\n")).toBe(400); // HTTP/0.9
    expect(verdict("GET / HTTP/2.0\r\nHost: a\r\n\r\n")).toBe(505);
  });

  test("limits: head size (414 in the request line, 431 after), header count, body size", () => {
    const limits = { maxHeadBytes: 64, maxHeaders: 2, maxBodyBytes: 10 };
    expect(verdict(`GET /${"a".repeat(100)} HTTP/1.1\r\n\r\n`, limits)).toBe(414);
    expect(verdict(`GET / HTTP/1.1\r\nHost: a\r\nX: ${"b".repeat(60)}\r\n\r\n`, limits)).toBe(431);
    expect(verdict("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", limits)).toBe(431);
    expect(verdict("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", limits)).toBe(413);
    expect(
      verdict("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789", limits),
    ).toBe("request");
  });

  test("a head over the limit fails before its end arrives, holding no more than the limit", () => {
    const decoder = http({ maxHeadBytes: 1024 }).createDecoder();
    const line = Buffer.from(`X-Long: ${"a".repeat(100)}`);
    expect(decoder.push(Buffer.from("GET / HTTP/1.1\r\nHost: a\r\n"))).toEqual([]);
    let refused: HttpMessage[] = [];
    for (let i = 0; i < 100 && refused.length === 0; i++) {
      refused = decoder.push(line);
      expect(decoder.bufferedBytes).toBeLessThanOrEqual(1024);
    }
    expect(refused).toMatchObject([{ kind: "error", status: 431 }]);
    expect(decoder.bufferedBytes).toBe(0);
    expect(decoder.push(Buffer.from(GET))).toEqual([]); // nothing after a refusal is read
  });

  test("bufferedBytes is 0 between requests and counts a request under way", () => {
    const decoder = http().createDecoder();
    expect(decoder.push(Buffer.from(GET))).toHaveLength(1);
    expect(decoder.bufferedBytes).toBe(0);
    decoder.push(Buffer.from("GET / HT"));
    expect(decoder.bufferedBytes).toBe(8);
  });

  test("encodes a response as its head (Latin-1) then its body", () => {
    const framing = http();
    const wire = framing.encode({
      kind: "response",
      head: "HTTP/1.1 200 OK\r\n\r\n",
      body: Buffer.from("hi"),
    });
    expect(wire.toString()).toBe("HTTP/1.1 200 OK\r\n\r\nhi");
    expect(() => framing.encode(decode(GET)[0] as HttpMessage)).toThrow(TypeError);
  });
});

// Requests made of valid parts, pipelined, then split anywhere: the decoder must not care.
const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,11}$/);
const value = fc.stringMatching(/^[!-~]([ !-~]{0,20}[!-~])?$/);
const requestArb = fc.record({
  method: fc.constantFrom("GET", "HEAD", "POST", "DELETE"),
  path: fc.stringMatching(/^\/[!-~]{0,30}$/),
  headers: fc.array(fc.tuple(token, value), { maxLength: 6 }),
  body: fc.uint8Array({ maxLength: 40 }),
});
type RequestSpec = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

function wireOf({ method, path, headers, body }: RequestSpec): Buffer {
  const fields = headers
    .filter(([name]) => !/^(host|content-length|transfer-encoding|connection)$/i.test(name))
    .map(([name, v]) => `${name}: ${v}\r\n`)
    .join("");
  const head = `${method} ${path} HTTP/1.1\r\nHost: a\r\n${fields}Content-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

describe("http() decoder properties", () => {
  test("any split of pipelined valid requests decodes to the same requests", () => {
    fc.assert(
      fc.property(
        fc.array(requestArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (specs, cuts) => {
          const wire = Buffer.concat(specs.map(wireOf));
          const decoder = http().createDecoder();
          const got = cutAt(wire, cuts).flatMap((piece) => decoder.push(piece)) as HttpRequest[];
          expect(got.map((r) => [r.method, r.target, Buffer.from(r.body)])).toEqual(
            specs.map((s) => [s.method, s.path, Buffer.from(s.body)]),
          );
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  // Malformed requests: random bytes, and valid requests with the smuggling-prone changes.
  const mutation = fc.constantFrom(
    (w: string) => w.replaceAll("\r\n", "\n"), // bare \n line endings
    (w: string) => w.replace("\r\nHost: a", "\r\nHost: a\r\n folded"), // obs-fold
    (w: string) => w.replace("Content-Length:", "Content-Length: 3\r\nContent-Length:"), // duplicate
    (w: string) => w.replace("Host: a", "Host: a\r\nTransfer-Encoding: chunked"),
    (w: string) => w.replace("Host: a", "Transfer-Encoding: gzip, chunked\r\nHost: a"),
    (w: string) => w.replace(" HTTP/1.1", " HTTP/1.1 extra"),
    (w: string) => w.replace("Host: a", "Host: a\u0000"),
  );

  test("malformed requests are refused with a 4xx or 5xx, never a crash or a request", () => {
    fc.assert(
      fc.property(
        requestArb,
        mutation,
        fc.array(fc.nat(), { maxLength: 8 }),
        (spec, mutate, cuts) => {
          const wire = Buffer.from(mutate(wireOf(spec).toString("latin1")), "latin1");
          const decoder = http().createDecoder();
          const got = cutAt(wire, cuts).flatMap((piece) => decoder.push(piece));
          expect(got).toHaveLength(1);
          expect(got[0]).toMatchObject({ kind: "error" });
          expect([400, 501]).toContain((got[0] as { status: number }).status);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("any bytes give requests or one refusal, never a throw, and stay within the limits", () => {
    const limits = { maxHeadBytes: 256, maxHeaders: 8, maxBodyBytes: 64 };
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      fc
        .array(
          fc.constantFrom(
            "GET / HTTP/1.1",
            "Host: a",
            "\r\n",
            "\n",
            "\r",
            " ",
            ":",
            "Content-Length: 9",
            "x",
          ),
          { maxLength: 60 },
        )
        .map((parts) => Buffer.from(parts.join(""))),
    );
    fc.assert(
      fc.property(bytes, fc.array(fc.nat(), { maxLength: 8 }), (wire, cuts) => {
        const decoder = http(limits).createDecoder();
        const got: HttpMessage[] = [];
        for (const piece of cutAt(Buffer.from(wire), cuts)) {
          got.push(...decoder.push(piece));
          expect(decoder.bufferedBytes).toBeLessThanOrEqual(
            limits.maxHeadBytes + limits.maxBodyBytes,
          );
        }
        got.push(...decoder.end());
        const errors = got.filter((m) => m.kind === "error");
        expect(errors.length).toBeLessThanOrEqual(1);
        if (errors.length === 1) expect(got.at(-1)?.kind).toBe("error");
      }),
      { numRuns: 500 },
    );
  });
});
