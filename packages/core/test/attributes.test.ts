import {
  Domain,
  domainName,
  endpointDomain,
  formatAttributeTable,
  formatSocketCall,
  isSocketError,
  Protocol,
  parseEndpoint,
  protocolName,
  type SocketAttributesOptions,
  SocketType,
  socketAttributes,
  socketTypeName,
  validCombinations,
} from "@socket-lab/core";
import { describe, expect, test } from "vitest";

/** Runs `fn` and returns the SocketError it throws; fails the test if it throws nothing. */
function thrown(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    if (isSocketError(err)) return err;
    throw err;
  }
  throw new Error("expected a SocketError, nothing was thrown");
}

describe("Domain, SocketType, Protocol", () => {
  test("carry the Linux numeric values", () => {
    expect(Domain).toEqual({ AF_UNIX: 1, AF_INET: 2, AF_INET6: 10 });
    expect(SocketType).toEqual({ SOCK_STREAM: 1, SOCK_DGRAM: 2 });
    expect(Protocol).toEqual({ DEFAULT: 0, IPPROTO_TCP: 6, IPPROTO_UDP: 17 });
  });

  test("are named as the C headers name them", () => {
    expect(domainName(Domain.AF_INET6)).toBe("AF_INET6");
    expect(socketTypeName(SocketType.SOCK_DGRAM)).toBe("SOCK_DGRAM");
    expect(protocolName(Protocol.IPPROTO_UDP)).toBe("IPPROTO_UDP");
    expect(protocolName(Protocol.DEFAULT)).toBe("0");
    // A value outside the table is printed as the number it is.
    expect(domainName(3 as Domain)).toBe("3");
  });
});

describe("socketAttributes", () => {
  test.each([
    [Domain.AF_INET, SocketType.SOCK_STREAM, Protocol.IPPROTO_TCP],
    [Domain.AF_INET6, SocketType.SOCK_STREAM, Protocol.IPPROTO_TCP],
    [Domain.AF_INET, SocketType.SOCK_DGRAM, Protocol.IPPROTO_UDP],
    [Domain.AF_INET6, SocketType.SOCK_DGRAM, Protocol.IPPROTO_UDP],
    [Domain.AF_UNIX, SocketType.SOCK_STREAM, Protocol.DEFAULT],
  ])("domain %i, type %i: the protocol defaults to %i", (domain, type, protocol) => {
    expect(socketAttributes({ domain, type })).toEqual({ domain, type, protocol });
    // Protocol 0 asks for the natural protocol, as socket(2) does, and is filled in.
    expect(socketAttributes({ domain, type, protocol: Protocol.DEFAULT })).toEqual({
      domain,
      type,
      protocol,
    });
    expect(socketAttributes({ domain, type, protocol })).toEqual({ domain, type, protocol });
  });

  test.each<[string, SocketAttributesOptions, string[]]>([
    [
      "SOCK_DGRAM with TCP",
      { domain: Domain.AF_INET, type: SocketType.SOCK_DGRAM, protocol: Protocol.IPPROTO_TCP },
      ["SOCK_DGRAM cannot use IPPROTO_TCP in AF_INET", "it uses IPPROTO_UDP"],
    ],
    [
      "SOCK_STREAM with UDP",
      { domain: Domain.AF_INET6, type: SocketType.SOCK_STREAM, protocol: Protocol.IPPROTO_UDP },
      ["SOCK_STREAM cannot use IPPROTO_UDP in AF_INET6", "it uses IPPROTO_TCP"],
    ],
    [
      "an IP protocol on AF_UNIX",
      { domain: Domain.AF_UNIX, type: SocketType.SOCK_STREAM, protocol: Protocol.IPPROTO_TCP },
      ["SOCK_STREAM cannot use IPPROTO_TCP in AF_UNIX"],
    ],
    [
      "an unknown domain",
      { domain: 3 as Domain, type: SocketType.SOCK_STREAM },
      ["unknown domain 3"],
    ],
    [
      "an unknown type",
      { domain: Domain.AF_INET, type: 5 as SocketType },
      ["unknown socket type 5"],
    ],
    [
      "an unknown protocol",
      { domain: Domain.AF_INET, type: SocketType.SOCK_STREAM, protocol: 132 as Protocol },
      ["unknown protocol 132"],
    ],
  ])("rejects %s with ERR_INVALID_SOCKET_ATTRIBUTES", (_, options, fragments) => {
    const err = thrown(() => socketAttributes(options));
    expect(err.code).toBe("ERR_INVALID_SOCKET_ATTRIBUTES");
    for (const fragment of fragments) expect(err.message).toContain(fragment);
    expect(err.hint).toContain("AF_UNIX takes protocol 0");
  });

  test("AF_UNIX with SOCK_DGRAM is ERR_UNSUPPORTED_SOCKET and says Node.js cannot open it", () => {
    const err = thrown(() =>
      socketAttributes({ domain: Domain.AF_UNIX, type: SocketType.SOCK_DGRAM }),
    );
    expect(err.code).toBe("ERR_UNSUPPORTED_SOCKET");
    expect(err.message).toContain("socket(AF_UNIX, SOCK_DGRAM)");
    expect(err.message).toContain("Node.js cannot open it");
    expect(err.hint).toContain("SOCK_STREAM");
  });
});

describe("formatSocketCall", () => {
  test("prints the C call that creates the socket", () => {
    const tcp = socketAttributes({ domain: Domain.AF_INET, type: SocketType.SOCK_STREAM });
    expect(formatSocketCall(tcp)).toBe("socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)");
    const udp6 = socketAttributes({ domain: Domain.AF_INET6, type: SocketType.SOCK_DGRAM });
    expect(formatSocketCall(udp6)).toBe("socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP)");
    const unix = socketAttributes({ domain: Domain.AF_UNIX, type: SocketType.SOCK_STREAM });
    expect(formatSocketCall(unix)).toBe("socket(AF_UNIX, SOCK_STREAM, 0)");
  });
});

describe("validCombinations", () => {
  test("lists the five combinations Node can open, each valid and matching its example", () => {
    const combinations = validCombinations();
    expect(combinations.map(formatSocketCall)).toEqual([
      "socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)",
      "socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP)",
      "socket(AF_UNIX, SOCK_STREAM, 0)",
      "socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP)",
      "socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP)",
    ]);
    for (const { node, example, ...attributes } of combinations) {
      expect(socketAttributes(attributes)).toEqual(attributes);
      // The example endpoint is of the same domain, and its scheme of the same type.
      const endpoint = parseEndpoint(example);
      expect(endpointDomain(endpoint)).toBe(attributes.domain);
      expect(endpoint.transport === "udp").toBe(attributes.type === SocketType.SOCK_DGRAM);
      expect(node).toMatch(attributes.type === SocketType.SOCK_DGRAM ? /^dgram\./ : /^net\./);
    }
  });
});

describe("formatAttributeTable", () => {
  test("has a header, a rule, one row per valid combination and the unsupported one", () => {
    const lines = formatAttributeTable().split("\n");
    const rows = lines.map((line) => line.split(/ {2,}/));
    expect(rows[0]).toEqual(["socket(domain, type, protocol)", "opened in Node with", "endpoint"]);
    expect(lines[1]).toMatch(/^-+ {2}-+ {2}-+$/);
    expect(rows.slice(2)).toEqual([
      [
        "socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)",
        "net.createServer / net.connect",
        "tcp://127.0.0.1:7000",
      ],
      [
        "socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP)",
        "net.createServer / net.connect",
        "tcp://[::1]:7000",
      ],
      [
        "socket(AF_UNIX, SOCK_STREAM, 0)",
        "net.createServer / net.connect",
        "unix:///tmp/socket-lab.sock",
      ],
      [
        "socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP)",
        "dgram.createSocket('udp4')",
        "udp://127.0.0.1:7001",
      ],
      [
        "socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP)",
        "dgram.createSocket('udp6')",
        "udp://[::1]:7001",
      ],
      ["socket(AF_UNIX, SOCK_DGRAM, 0)", "not supported by Node.js", "—"],
    ]);
  });

  test("aligns the columns: every cell of a column starts at the same offset", () => {
    const lines = formatAttributeTable().split("\n");
    const header = lines[0] ?? "";
    const second = header.indexOf("opened in Node with");
    const third = header.indexOf("endpoint");
    for (const line of lines) {
      expect(line.slice(second - 2, second)).toBe("  ");
      expect(line.slice(third - 2, third)).toBe("  ");
      expect(line).toBe(line.trimEnd());
    }
  });
});
