/**
 * Endpoints and socket attributes as the stream transport needs them: only tcp:// and unix://
 * are accepted, and a node:net socket's addresses become endpoints.
 */

import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import {
  Domain,
  type Endpoint,
  ErrorCode,
  parseEndpoint,
  type SocketAttributes,
  SocketError,
  SocketType,
  socketAttributes,
} from "@socket-lab/core";
import { invalidArgType } from "@socket-lab/core/internal";

/**
 * Parses `tcp://host:port`, `tls://host:port`, `unix:///path` or a short form, and refuses `udp://`.
 * @throws {SocketError} `ERR_INVALID_ENDPOINT`.
 */
export function streamEndpoint(endpoint: string | Endpoint): Endpoint {
  const parsed = typeof endpoint === "string" ? parseEndpoint(endpoint) : endpoint;
  if (typeof parsed !== "object" || parsed === null) {
    throw invalidArgType("endpoint argument", "of type string or an Endpoint", endpoint);
  }
  if (parsed.transport !== "tcp" && parsed.transport !== "tls" && parsed.transport !== "unix") {
    throw new SocketError(
      ErrorCode.ERR_INVALID_ENDPOINT,
      `invalid endpoint '${String(parsed.transport)}://…': a stream socket needs tcp://, tls:// or unix://`,
      {
        hint: "Write it as tcp://127.0.0.1:7000, tcp://[::1]:7000, tls://127.0.0.1:8443 or unix:///tmp/x.sock.",
      },
    );
  }
  return parsed;
}

/** `socket(AF_*, SOCK_STREAM, …)` for an IP family as Node names it, or AF_UNIX. */
export function streamAttributes(family: "IPv4" | "IPv6" | "unix"): SocketAttributes {
  const domain =
    family === "unix" ? Domain.AF_UNIX : family === "IPv6" ? Domain.AF_INET6 : Domain.AF_INET;
  return socketAttributes({ domain, type: SocketType.SOCK_STREAM });
}

/**
 * Both ends of a connected socket (`tls` ones for a TLS socket). Unix peers are unnamed, so for a
 * unix socket both ends are given as the server's socket path.
 */
export function socketEndpoints(
  socket: Socket,
  unixPath: string | undefined,
): { local: Endpoint; remote: Endpoint } {
  if (unixPath !== undefined) {
    const endpoint: Endpoint = { transport: "unix", path: unixPath };
    return { local: endpoint, remote: endpoint };
  }
  const transport = socket instanceof TLSSocket ? "tls" : "tcp";
  return {
    local: { transport, host: socket.localAddress ?? "", port: socket.localPort ?? 0 },
    remote: { transport, host: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 },
  };
}
