/** Private: reading `udp://` endpoints given as strings or objects. */

import {
  type Endpoint,
  ErrorCode,
  formatEndpoint,
  type InetEndpoint,
  parseEndpoint,
  SocketError,
} from "@socket-lab/core";

/**
 * An endpoint a UDP socket can bind, connect or send to. Short forms (`host:port`, `:port`)
 * are read as `udp://`.
 * @throws {SocketError} `ERR_INVALID_ENDPOINT` for a malformed endpoint or a `tcp://`/`unix://` one.
 */
export function parseUdpEndpoint(input: string | Endpoint): InetEndpoint {
  const endpoint = typeof input === "string" ? parseEndpoint(input, { transport: "udp" }) : input;
  if (endpoint?.transport !== "udp") {
    const shown = typeof input === "string" ? input : formatEndpoint(endpoint);
    throw new SocketError(
      ErrorCode.ERR_INVALID_ENDPOINT,
      `invalid endpoint '${shown}': a UDP socket needs a udp:// endpoint`,
      { hint: "Write it as udp://127.0.0.1:7001, udp://[::1]:7001 or 127.0.0.1:7001." },
    );
  }
  return endpoint;
}
