/**
 * Endpoints: where a socket binds or connects, written as `tcp://127.0.0.1:7000`,
 * `tls://127.0.0.1:8443` (TCP with TLS on top), `udp://[::1]:7001`, `unix:///tmp/x.sock`, or the
 * short `host:port`, `[v6]:port`, `:port`.
 */

import { isIP, isIPv4, isIPv6 } from "node:net";
import { Domain } from "./attributes.js";
import { ErrorCode, SocketError } from "./errors.js";
import { checkInteger, checkOneOf, checkString, invalidArgValue } from "./internal/arguments.js";
import { MAX_UNIX_PATH_BYTES } from "./limits.js";

/** An IP endpoint: a host name or address and a port. `tls` is a TCP endpoint speaking TLS. */
export interface InetEndpoint {
  readonly transport: "tcp" | "tls" | "udp";
  /** A host name (`localhost`) or an IP address without brackets (`127.0.0.1`, `::1`). */
  readonly host: string;
  /** 0–65535; 0 asks the system to choose a free port when binding. */
  readonly port: number;
}

/** A unix-domain (AF_UNIX) stream endpoint: a filesystem path. */
export interface UnixEndpoint {
  readonly transport: "unix";
  /** The socket file's path, at most {@link MAX_UNIX_PATH_BYTES} bytes. */
  readonly path: string;
}

/** Where a socket binds or connects. */
export type Endpoint = InetEndpoint | UnixEndpoint;

/** The scheme of an endpoint URL. */
export type Transport = Endpoint["transport"];

/** How the short forms (`host:port`, `[v6]:port`, `:port`, `host`) are completed. */
export interface ParseEndpointOptions {
  /** Transport of a short form, and the only transport accepted when `strict`. @default "tcp" */
  transport?: "tcp" | "udp";
  /** Host of the short form `:port`. @default "127.0.0.1" */
  host?: string;
  /** Port of an endpoint written without one (`localhost`, `tcp://[::1]`); without it a port is required. */
  port?: number;
}

/** The host `:port` and servers bind to unless told otherwise: loopback, never 0.0.0.0. */
export const DEFAULT_HOST = "127.0.0.1";

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/is;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

function fail(input: string, part: string): never {
  throw new SocketError(ErrorCode.ERR_INVALID_ENDPOINT, `invalid endpoint '${input}': ${part}`, {
    hint: "Write it as tcp://127.0.0.1:7000, tls://127.0.0.1:8443, udp://[::1]:7001, unix:///tmp/x.sock, host:port or :port.",
  });
}

/**
 * Checks a port number: an integer from 0 to 65535.
 * @throws {SocketError} `ERR_INVALID_ENDPOINT` naming the bad value.
 */
export function parsePort(text: string, input = text): number {
  if (!/^\d+$/.test(text)) fail(input, `port '${text}' is not a number from 0 to 65535`);
  const port = Number(text);
  if (port > 65_535) fail(input, `port ${text} is out of range (0–65535)`);
  return port;
}

/** True for a host name or IP address that may appear in an endpoint. */
export function isValidHost(host: string): boolean {
  if (isIP(host) !== 0) return true;
  if (host.length === 0 || host.length > 253) return false;
  // All digits and dots but not an IPv4 address (e.g. 999.1.1.1): never a host name.
  if (/^[\d.]+$/.test(host)) return false;
  const name = host.endsWith(".") ? host.slice(0, -1) : host;
  return name.split(".").every((label) => LABEL.test(label));
}

function parseHost(text: string, input: string): string {
  if (text.startsWith("[")) {
    if (!text.endsWith("]")) fail(input, `'${text}' is missing the closing ']'`);
    const inner = text.slice(1, -1);
    if (!isIPv6(inner)) fail(input, `'${inner}' in brackets is not an IPv6 address`);
    return inner;
  }
  if (text.includes(":"))
    fail(input, `IPv6 address '${text}' must be written in brackets, as [${text}]`);
  if (text.includes("]")) fail(input, `host '${text}' has a ']' without '['`);
  if (!isValidHost(text)) fail(input, `host '${text}' is not a valid host name or IP address`);
  return text;
}

function parseInet(
  transport: InetEndpoint["transport"],
  rest: string,
  input: string,
  options: ParseEndpointOptions,
): InetEndpoint {
  if (rest.length === 0) fail(input, "host and port are missing");
  if (/[/?#@]/.test(rest))
    fail(input, `'${rest}' has a path, query or user part; only host:port is allowed`);
  let hostText: string;
  let portText: string | undefined;
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close === -1) fail(input, `'${rest}' is missing the closing ']'`);
    hostText = rest.slice(0, close + 1);
    const after = rest.slice(close + 1);
    if (after.length > 0 && !after.startsWith(":"))
      fail(input, `unexpected '${after}' after '${hostText}'`);
    portText = after.length > 0 ? after.slice(1) : undefined;
  } else {
    const colon = rest.lastIndexOf(":");
    if (colon !== rest.indexOf(":"))
      fail(input, `IPv6 address '${rest}' must be written in brackets, as [::1]:7000`);
    hostText = colon === -1 ? rest : rest.slice(0, colon);
    portText = colon === -1 ? undefined : rest.slice(colon + 1);
  }
  const host = hostText.length === 0 ? (options.host ?? DEFAULT_HOST) : parseHost(hostText, input);
  if (portText === "") fail(input, "port is missing after ':'");
  if (portText === undefined) {
    if (options.port === undefined) fail(input, "port is missing");
    return { transport, host, port: options.port };
  }
  return { transport, host, port: parsePort(portText, input) };
}

function parseUnix(path: string, input: string): UnixEndpoint {
  if (path.length === 0) fail(input, "unix socket path is missing");
  if (path.includes("\0")) fail(input, "unix socket path contains a NUL byte");
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_UNIX_PATH_BYTES) {
    fail(
      input,
      `unix socket path is ${bytes} bytes; the system allows at most ${MAX_UNIX_PATH_BYTES}`,
    );
  }
  return { transport: "unix", path };
}

function checkOptions(options: ParseEndpointOptions): void {
  const { transport, host, port } = options;
  if (transport !== undefined) checkOneOf("options.transport", transport, ["tcp", "udp"]);
  if (host !== undefined && !isValidHost(checkString("options.host", host))) {
    throw invalidArgValue(
      "options.host",
      host,
      "must be a host name or an IP address without brackets",
    );
  }
  if (port !== undefined) checkInteger("options.port", port, 0, 65_535);
}

/**
 * Parses an endpoint string. Short forms take their transport, host and port from `options`;
 * a path starting with `/` is a unix endpoint.
 *
 * @throws {SocketError} `ERR_INVALID_ENDPOINT`, the message naming the bad part.
 * @throws {TypeError | RangeError} for bad `options`, with Node's codes (`ERR_INVALID_ARG_TYPE`,
 *   `ERR_INVALID_ARG_VALUE`, `ERR_OUT_OF_RANGE`).
 * @example
 * parseEndpoint("udp://[::1]:7001") //=> { transport: "udp", host: "::1", port: 7001 }
 * parseEndpoint(":7000")            //=> { transport: "tcp", host: "127.0.0.1", port: 7000 }
 * parseEndpoint("localhost:99999")
 * //=> throws SocketError [ERR_INVALID_ENDPOINT]: invalid endpoint 'localhost:99999': port 99999 is out of range (0–65535)
 */
export function parseEndpoint(input: string, options: ParseEndpointOptions = {}): Endpoint {
  checkString("endpoint argument", input);
  checkOptions(options);
  if (input.length === 0) fail(input, "it is empty");
  // Spaces are never part of an endpoint: ' :1' is a typo, not a wish for ':1'.
  if (input.trim() !== input) fail(input, "it starts or ends with whitespace");
  const scheme = SCHEME.exec(input);
  if (scheme) {
    const name = (scheme[1] ?? "").toLowerCase();
    const rest = scheme[2] ?? "";
    if (name === "unix") return parseUnix(rest, input);
    if (name === "tcp" || name === "tls" || name === "udp") {
      return parseInet(name, rest, input, options);
    }
    fail(input, `scheme '${name}://' is not one of tcp://, tls://, udp://, unix://`);
  }
  if (input.startsWith("/")) return parseUnix(input, input);
  return parseInet(options.transport ?? "tcp", input, input, options);
}

/**
 * Formats an endpoint as a URL that `parseEndpoint` reads back to the same endpoint.
 * @example
 * formatEndpoint({ transport: "tcp", host: "::1", port: 7000 }) //=> "tcp://[::1]:7000"
 */
export function formatEndpoint(endpoint: Endpoint): string {
  if (endpoint.transport === "unix") return `unix://${endpoint.path}`;
  return `${endpoint.transport}://${formatAddress(endpoint)}`;
}

/**
 * Formats the address part alone, as messages and traces print it.
 * @example
 * formatAddress({ transport: "udp", host: "::1", port: 7001 }) //=> "[::1]:7001"
 */
export function formatAddress(endpoint: Endpoint): string {
  if (endpoint.transport === "unix") return endpoint.path;
  const host = isIPv6(endpoint.host) ? `[${endpoint.host}]` : endpoint.host;
  return `${host}:${endpoint.port}`;
}

/** The address family of an endpoint; `undefined` for a host name, which may resolve to either. */
export function endpointDomain(endpoint: Endpoint): Domain | undefined {
  if (endpoint.transport === "unix") return Domain.AF_UNIX;
  if (isIPv4(endpoint.host)) return Domain.AF_INET;
  if (isIPv6(endpoint.host)) return Domain.AF_INET6;
  return undefined;
}

/**
 * Builds an endpoint from what Node reports (`socket.address()`, `remoteAddress`/`remotePort`,
 * a dgram `rinfo`). A string is a unix path.
 */
export function endpointOf(
  transport: "tcp" | "udp",
  address: { address?: string | undefined; port?: number | undefined } | string,
): Endpoint {
  if (typeof address === "string") return { transport: "unix", path: address };
  return { transport, host: address.address ?? "", port: address.port ?? 0 };
}
