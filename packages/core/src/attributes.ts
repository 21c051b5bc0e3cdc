/**
 * The three attributes every socket has — domain, type, protocol — with their Linux values,
 * as in `socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)`.
 */

import { ErrorCode, SocketError } from "./errors.js";

/** Address family (the "domain"), with Linux's numeric values. */
export const Domain = {
  /** Local to this machine, addressed by a filesystem path. */
  AF_UNIX: 1,
  /** IPv4: `127.0.0.1:7000`. */
  AF_INET: 2,
  /** IPv6: `[::1]:7000`. */
  AF_INET6: 10,
} as const;
export type Domain = (typeof Domain)[keyof typeof Domain];

/** Socket type, with Linux's numeric values. */
export const SocketType = {
  /** A sequenced, reliable, two-way byte stream with no message boundaries. */
  SOCK_STREAM: 1,
  /** Connectionless messages of bounded size that may be lost, duplicated or reordered. */
  SOCK_DGRAM: 2,
} as const;
export type SocketType = (typeof SocketType)[keyof typeof SocketType];

/** Protocol, with its IANA number. `0` lets the system pick the one protocol of the type. */
export const Protocol = {
  /** The default protocol of the domain and type. */
  DEFAULT: 0,
  /** Transmission Control Protocol: the stream protocol of AF_INET and AF_INET6. */
  IPPROTO_TCP: 6,
  /** User Datagram Protocol: the datagram protocol of AF_INET and AF_INET6. */
  IPPROTO_UDP: 17,
} as const;
export type Protocol = (typeof Protocol)[keyof typeof Protocol];

/** A validated domain/type/protocol triple. */
export interface SocketAttributes {
  readonly domain: Domain;
  readonly type: SocketType;
  readonly protocol: Protocol;
}

/** What `socketAttributes()` takes; `protocol` defaults to the natural one for the type. */
export interface SocketAttributesOptions {
  domain: Domain;
  type: SocketType;
  /** @default IPPROTO_TCP for SOCK_STREAM, IPPROTO_UDP for SOCK_DGRAM, 0 for AF_UNIX */
  protocol?: Protocol;
}

/** A valid combination, as `validCombinations()` lists it, with what Node opens for it. */
export interface SocketCombination extends SocketAttributes {
  /** The Node API that opens such a socket. */
  readonly node: string;
  /** The socket-lab endpoint scheme for it. */
  readonly example: string;
}

const nameOf = <T extends Record<string, number>>(table: T, value: number): string =>
  Object.keys(table).find((key) => table[key] === value) ?? String(value);

/** `AF_INET`, `SOCK_STREAM`, `IPPROTO_TCP`: the names the C headers use. */
export const domainName = (value: Domain): string => nameOf(Domain, value);
export const socketTypeName = (value: SocketType): string => nameOf(SocketType, value);
export const protocolName = (value: Protocol): string =>
  value === Protocol.DEFAULT ? "0" : nameOf(Protocol, value);

function isOneOf(table: Record<string, number>, value: unknown): boolean {
  return Object.values(table).includes(value as number);
}

/**
 * Validates a domain/type/protocol combination the way `socket(2)` would, and fills in the
 * default protocol.
 *
 * @throws {SocketError} `ERR_INVALID_SOCKET_ATTRIBUTES` for a combination that makes no sense
 *   (SOCK_DGRAM with IPPROTO_TCP, an IP protocol on AF_UNIX, an unknown value);
 *   `ERR_UNSUPPORTED_SOCKET` for AF_UNIX with SOCK_DGRAM, which Linux has but Node does not.
 * @example
 * formatSocketCall(socketAttributes({ domain: Domain.AF_INET, type: SocketType.SOCK_STREAM }))
 * //=> "socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)"
 */
export function socketAttributes(options: SocketAttributesOptions): SocketAttributes {
  const { domain, type } = options;
  if (!isOneOf(Domain, domain)) invalid(`unknown domain ${String(domain)}`);
  if (!isOneOf(SocketType, type)) invalid(`unknown socket type ${String(type)}`);
  if (options.protocol !== undefined && !isOneOf(Protocol, options.protocol)) {
    invalid(`unknown protocol ${String(options.protocol)}`);
  }
  const natural = naturalProtocol(domain, type);
  const protocol = options.protocol ?? natural;
  if (protocol !== Protocol.DEFAULT && protocol !== natural) {
    invalid(
      `${socketTypeName(type)} cannot use ${protocolName(protocol)} in ${domainName(domain)}` +
        (natural === Protocol.DEFAULT ? "" : ` (it uses ${protocolName(natural)})`),
    );
  }
  if (domain === Domain.AF_UNIX && type === SocketType.SOCK_DGRAM) {
    throw new SocketError(
      ErrorCode.ERR_UNSUPPORTED_SOCKET,
      "socket(AF_UNIX, SOCK_DGRAM) exists on Linux but Node.js cannot open it: node:dgram speaks only udp4 and udp6",
      {
        hint: "Use AF_UNIX with SOCK_STREAM (a unix:// endpoint over node:net), or UDP on 127.0.0.1.",
      },
    );
  }
  return { domain, type, protocol: protocol === Protocol.DEFAULT ? natural : protocol };
}

function naturalProtocol(domain: Domain, type: SocketType): Protocol {
  if (domain === Domain.AF_UNIX) return Protocol.DEFAULT;
  return type === SocketType.SOCK_STREAM ? Protocol.IPPROTO_TCP : Protocol.IPPROTO_UDP;
}

function invalid(message: string): never {
  throw new SocketError(
    ErrorCode.ERR_INVALID_SOCKET_ATTRIBUTES,
    `invalid socket attributes: ${message}`,
    {
      hint: "Stream sockets use IPPROTO_TCP and datagram sockets IPPROTO_UDP on AF_INET/AF_INET6; AF_UNIX takes protocol 0.",
    },
  );
}

/**
 * Prints the attributes as the C call that creates such a socket.
 * @example
 * formatSocketCall({ domain: 10, type: 2, protocol: 17 }) //=> "socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP)"
 */
export function formatSocketCall(attributes: SocketAttributes): string {
  return `socket(${domainName(attributes.domain)}, ${socketTypeName(attributes.type)}, ${protocolName(attributes.protocol)})`;
}

/** Every combination Node can open, in the order the tutorial meets them. */
export function validCombinations(): SocketCombination[] {
  return [
    {
      ...stream(Domain.AF_INET),
      node: "net.createServer / net.connect",
      example: "tcp://127.0.0.1:7000",
    },
    {
      ...stream(Domain.AF_INET6),
      node: "net.createServer / net.connect",
      example: "tcp://[::1]:7000",
    },
    {
      ...stream(Domain.AF_UNIX),
      node: "net.createServer / net.connect",
      example: "unix:///tmp/socket-lab.sock",
    },
    {
      ...dgram(Domain.AF_INET),
      node: "dgram.createSocket('udp4')",
      example: "udp://127.0.0.1:7001",
    },
    { ...dgram(Domain.AF_INET6), node: "dgram.createSocket('udp6')", example: "udp://[::1]:7001" },
  ];
}

const stream = (domain: Domain) => socketAttributes({ domain, type: SocketType.SOCK_STREAM });
const dgram = (domain: Domain) => socketAttributes({ domain, type: SocketType.SOCK_DGRAM });

/**
 * The table of valid combinations as aligned text, one row each, plus the one Linux has and
 * Node does not.
 */
export function formatAttributeTable(): string {
  const rows = validCombinations().map((c) => [formatSocketCall(c), c.node, c.example]);
  rows.push(["socket(AF_UNIX, SOCK_DGRAM, 0)", "not supported by Node.js", "—"]);
  const header = ["socket(domain, type, protocol)", "opened in Node with", "endpoint"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
