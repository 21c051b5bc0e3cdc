import dgram from "node:dgram";
import { once } from "node:events";
import net from "node:net";
import {
  Domain,
  descriptorOf,
  type Endpoint,
  formatTraceEvent,
  mermaidTraceTo,
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

// Every event type, with and without its optional fields, in strace's words; `?` where the
// descriptor is not known.
const cases: [TraceEvent, string][] = [
  [
    {
      type: "socket",
      attributes: socketAttributes({ domain: Domain.AF_INET, type: SocketType.SOCK_STREAM }),
      fd: 3,
    },
    "socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3",
  ],
  [
    {
      type: "socket",
      attributes: socketAttributes({ domain: Domain.AF_INET6, type: SocketType.SOCK_DGRAM }),
    },
    "socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP) = ?",
  ],
  [{ type: "bind", local: server, fd: 3 }, "bind(3, 127.0.0.1:7000)"],
  [{ type: "bind", local: { transport: "unix", path: "/tmp/x.sock" } }, "bind(?, /tmp/x.sock)"],
  [{ type: "listen", backlog: 5, fd: 3 }, "listen(3, 5)"],
  [{ type: "accept", remote: client, fd: 3, newFd: 4 }, "accept(3) = 4 (127.0.0.1:54012)"],
  [{ type: "accept", remote: client }, "accept(?) = ? (127.0.0.1:54012)"],
  [{ type: "connect", remote: server, fd: 3 }, "connect(3, 127.0.0.1:7000)"],
  [{ type: "connect", remote: peer6 }, "connect(?, [::1]:7001)"],
  [
    { type: "handshake", remote: client, protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" },
    "tls handshake 127.0.0.1:54012 -> TLSv1.3 TLS_AES_256_GCM_SHA384",
  ],
  [{ type: "send", bytes: 17, fd: 4 }, "send(4, 17 bytes)"],
  [{ type: "send", bytes: 1, fd: 4 }, "send(4, 1 byte)"],
  [{ type: "send", bytes: 17, to: peer6, fd: 5 }, "sendto(5, 17 bytes, [::1]:7001)"],
  [{ type: "recv", bytes: 17, fd: 4 }, "recv(4) = 17"],
  [{ type: "recv", bytes: 0, fd: 4 }, "recv(4) = 0 (end of stream)"],
  [{ type: "recv", bytes: 1, from: peer6, fd: 5 }, "recvfrom(5) = 1 ([::1]:7001)"],
  [{ type: "recv", bytes: 0, from: peer6, fd: 5 }, "recvfrom(5) = 0 ([::1]:7001)"],
  [{ type: "shutdown", how: "SHUT_WR", fd: 4 }, "shutdown(4, SHUT_WR)"],
  [{ type: "close", fd: 3 }, "close(3)"],
  [{ type: "close", remote: client, fd: 4 }, "close(4)"],
  [{ type: "close" }, "close(?)"],
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
    server({ type: "listen", backlog: 5, fd: 3 });
    server({ type: "accept", remote: client, fd: 3, newFd: 4 });
    plain({ type: "close", fd: 3 });
    expect(lines).toEqual([
      "[server] listen(3, 5)",
      "[server] accept(3) = 4 (127.0.0.1:54012)",
      "close(3)",
    ]);
  });
});

describe("mermaidTraceTo", () => {
  test("writes the header at once, then one message per event: to the peer when it goes on the wire", () => {
    const lines: string[] = [];
    const trace = mermaidTraceTo((line) => lines.push(line), { role: "client", name: "echo" });
    expect(lines).toEqual([
      "sequenceDiagram",
      "    participant C as echo",
      "    participant S as server",
    ]);
    trace({ type: "connect", remote: server, fd: 3 });
    trace({ type: "send", bytes: 18, fd: 3 });
    trace({ type: "recv", bytes: 0, fd: 3 });
    trace({ type: "shutdown", how: "SHUT_WR", fd: 3 });
    trace({ type: "bind", local: { transport: "unix", path: "/tmp/a#b;c" }, fd: 3 });
    expect(lines.slice(3)).toEqual([
      "    C->>S: connect(3, 127.0.0.1:7000)",
      "    C->>S: send(3, 18 bytes)",
      "    C->>C: recv(3) = 0 (end of stream)",
      "    C->>S: shutdown(3, SHUT_WR)",
      "    C->>C: bind(3, /tmp/a_b_c)",
    ]);
  });

  test("a server is S, on the right, and names its peers", () => {
    const lines: string[] = [];
    const trace = mermaidTraceTo((line) => lines.push(line), { role: "server", name: "srv" });
    trace({ type: "listen", backlog: 5, fd: 3 });
    trace({ type: "send", bytes: 2, to: peer6, fd: 3 });
    expect(lines).toEqual([
      "sequenceDiagram",
      "    participant C as clients",
      "    participant S as srv",
      "    S->>S: listen(3, 5)",
      "    S->>C: sendto(3, 2 bytes, [::1]:7001)",
    ]);
  });
});

describe("descriptorOf", () => {
  test("reads the fd of a net server, its sockets and a dgram socket; undefined before the kernel has one", async () => {
    const tcp = net.createServer();
    const udp = dgram.createSocket("udp4");
    expect(descriptorOf(tcp)).toBeUndefined();
    expect(descriptorOf(udp)).toBeUndefined();
    expect(descriptorOf({})).toBeUndefined();
    await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
    await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));
    const fds = [descriptorOf(tcp), descriptorOf(udp)];
    const client = net.connect((tcp.address() as net.AddressInfo).port, "127.0.0.1");
    const [accepted] = (await once(tcp, "connection")) as [net.Socket];
    fds.push(descriptorOf(accepted), descriptorOf(client));
    for (const fd of fds) expect(fd).toBeGreaterThan(2);
    // Four sockets, four descriptors: accept() made a new one.
    expect(new Set(fds).size).toBe(4);
    client.destroy();
    accepted.destroy();
    await once(accepted, "close");
    expect(descriptorOf(accepted)).toBeUndefined();
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
  });
});
