import {
  Domain,
  type Endpoint,
  formatTraceEvent,
  SocketType,
  socketAttributes,
  type TraceEvent,
  type TraceEventType,
  traceTo,
} from "@socket-lab/core";
import { describe, expect, test } from "vitest";

const server: Endpoint = { transport: "tcp", host: "127.0.0.1", port: 7000 };
const client: Endpoint = { transport: "tcp", host: "127.0.0.1", port: 54_012 };
const peer6: Endpoint = { transport: "udp", host: "::1", port: 7001 };

// Every event type, with and without its optional fields, as the tutorial names the call.
const cases: [TraceEvent, string][] = [
  [
    {
      type: "socket",
      attributes: socketAttributes({ domain: Domain.AF_INET, type: SocketType.SOCK_STREAM }),
    },
    "socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)",
  ],
  [
    {
      type: "socket",
      attributes: socketAttributes({ domain: Domain.AF_INET6, type: SocketType.SOCK_DGRAM }),
    },
    "socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP)",
  ],
  [{ type: "bind", local: server }, "bind(127.0.0.1:7000)"],
  [{ type: "bind", local: { transport: "unix", path: "/tmp/x.sock" } }, "bind(/tmp/x.sock)"],
  [{ type: "listen", backlog: 5 }, "listen(backlog=5)"],
  [{ type: "accept", remote: client }, "accept() -> 127.0.0.1:54012"],
  [{ type: "connect", remote: server }, "connect(127.0.0.1:7000)"],
  [{ type: "connect", remote: peer6 }, "connect([::1]:7001)"],
  [
    { type: "handshake", remote: client, protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" },
    "tls handshake 127.0.0.1:54012 -> TLSv1.3 TLS_AES_256_GCM_SHA384",
  ],
  [{ type: "send", bytes: 17 }, "send 17 bytes"],
  [{ type: "send", bytes: 1 }, "send 1 byte"],
  [{ type: "send", bytes: 17, to: peer6 }, "sendto([::1]:7001) 17 bytes"],
  [{ type: "recv", bytes: 17 }, "recv 17 bytes"],
  [{ type: "recv", bytes: 0 }, "recv 0 bytes"],
  [{ type: "recv", bytes: 1, from: peer6 }, "recvfrom([::1]:7001) 1 byte"],
  [{ type: "shutdown", how: "SHUT_WR" }, "shutdown(SHUT_WR)"],
  [{ type: "close" }, "close()"],
  [{ type: "close", remote: client }, "close() 127.0.0.1:54012"],
];

describe("formatTraceEvent", () => {
  test.each(cases)("%j prints %s", (event, line) => {
    expect(formatTraceEvent(event)).toBe(line);
  });

  test("the cases cover every event type", () => {
    const all: Record<TraceEventType, true> = {
      socket: true,
      bind: true,
      listen: true,
      accept: true,
      connect: true,
      handshake: true,
      send: true,
      recv: true,
      shutdown: true,
      close: true,
    };
    expect(new Set(cases.map(([event]) => event.type))).toEqual(new Set(Object.keys(all)));
  });
});

describe("traceTo", () => {
  test("writes one formatted line per event, after the prefix", () => {
    const lines: string[] = [];
    const server = traceTo((line) => lines.push(line), "[server] ");
    const plain = traceTo((line) => lines.push(line));
    server({ type: "listen", backlog: 5 });
    server({ type: "accept", remote: client });
    plain({ type: "close" });
    expect(lines).toEqual([
      "[server] listen(backlog=5)",
      "[server] accept() -> 127.0.0.1:54012",
      "close()",
    ]);
  });
});
