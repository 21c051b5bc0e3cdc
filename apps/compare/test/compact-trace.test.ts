import { describe, expect, test } from "vitest";
import { compactTrace } from "../src/compact-trace.js";

const peer = { transport: "udp", host: "127.0.0.1", port: 7001 } as const;

describe("compactTrace", () => {
  test("prints lifecycle calls as they come and folds sends and receives into counts", () => {
    const lines: string[] = [];
    const trace = compactTrace((line) => lines.push(line), 8)("sender");
    trace({ type: "bind", local: { ...peer, port: 40000 }, fd: 5 });
    for (let i = 0; i < 1_000; i++) trace({ type: "send", bytes: 256, to: peer, fd: 5 });
    trace({ type: "recv", bytes: 1, from: peer, fd: 5 });
    trace({ type: "recv", bytes: 0, from: peer, fd: 5 }); // an empty datagram, not an end
    trace({ type: "close", fd: 5 });

    expect(lines).toEqual([
      "sender   bind(5, 127.0.0.1:40000)",
      "sender   sendto(5) ×1,000 (256,000 bytes)",
      "sender   recvfrom(5) ×2 (1 byte)",
      "sender   close(5)",
    ]);
  });

  test("names stream calls send and recv, and keeps each socket's counts apart", () => {
    const lines: string[] = [];
    const factory = compactTrace((line) => lines.push(line), 6);
    const a = factory("a");
    const b = factory("b");
    a({ type: "send", bytes: 10, fd: 3 });
    b({ type: "recv", bytes: 4, fd: 4 });
    a({ type: "shutdown", how: "SHUT_WR", fd: 3 });
    b({ type: "recv", bytes: 0, fd: 4 });
    b({ type: "close", fd: 4 });
    expect(lines).toEqual([
      "a      send(3) ×1 (10 bytes)",
      "a      shutdown(3, SHUT_WR)",
      "b      recv(4) ×1 (4 bytes)",
      "b      recv(4) = 0 (end of stream)",
      "b      close(4)",
    ]);
  });
});
