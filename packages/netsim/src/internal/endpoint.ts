/**
 * Reads the `target` and `listen` options of the link and the relay: an endpoint string or
 * object, checked against the transport the tool speaks.
 */

import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import {
  type Endpoint,
  ErrorCode,
  explain,
  formatEndpoint,
  type InetEndpoint,
  parseEndpoint,
  SocketError,
} from "@socket-lab/core";
import { invalidArgType } from "@socket-lab/core/internal";

function wrongTransport(name: string, endpoint: Endpoint, allowed: string): never {
  const text = formatEndpoint(endpoint);
  if (allowed === "udp" && endpoint.transport === "unix") {
    throw new SocketError(
      ErrorCode.ERR_UNSUPPORTED_SOCKET,
      `${name} '${text}' is a unix socket; the lossy link relays UDP datagrams and node:dgram cannot open AF_UNIX datagram sockets`,
      { hint: "Use a udp:// endpoint such as udp://127.0.0.1:7001." },
    );
  }
  throw new SocketError(
    ErrorCode.ERR_INVALID_ENDPOINT,
    `${name} '${text}' is a ${endpoint.transport} endpoint; this relay needs ${allowed}`,
    {
      hint:
        allowed === "udp"
          ? "Write it as udp://127.0.0.1:7001 or host:port."
          : "Write it as tcp://127.0.0.1:7000, host:port or unix:///tmp/x.sock.",
    },
  );
}

/** A UDP endpoint from an option; short forms (`host:port`, `:port`) are read as UDP. */
export function udpEndpoint(name: string, value: unknown): InetEndpoint {
  const endpoint = toEndpoint(name, value, "udp");
  if (endpoint.transport !== "udp") wrongTransport(name, endpoint, "udp");
  return endpoint;
}

/** A stream endpoint from an option: TCP or a unix socket path. */
export function streamEndpoint(name: string, value: unknown): Endpoint {
  const endpoint = toEndpoint(name, value, "tcp");
  if (endpoint.transport === "udp") wrongTransport(name, endpoint, "tcp or unix");
  return endpoint;
}

function toEndpoint(name: string, value: unknown, transport: "tcp" | "udp"): Endpoint {
  if (typeof value === "string") return parseEndpoint(value, { transport });
  if (typeof value === "object" && value !== null && "transport" in value) {
    // Round-trip through the parser so an object gets exactly the checks a string gets.
    return parseEndpoint(formatEndpoint(value as Endpoint), { transport });
  }
  throw invalidArgType(name, "an endpoint string or object", value);
}

/** The IP address and dgram socket type for a host: an address as is, a name looked up once. */
export async function resolveHost(
  host: string,
): Promise<{ address: string; type: "udp4" | "udp6" }> {
  const family = isIP(host);
  if (family !== 0) return { address: host, type: family === 6 ? "udp6" : "udp4" };
  try {
    const found = await lookup(host);
    return { address: found.address, type: found.family === 6 ? "udp6" : "udp4" };
  } catch (err) {
    throw explain(err);
  }
}
