import { describe, expect, test } from "vitest";
import { compactTrace } from "../src/compact-trace.js";

const peer = { transport: "udp", host: "127.0.0.1", port: 7001 } as const;

describe("compactTrace", () => {
  test("prints lifecycle calls as they come and folds sends and receives into counts", () => {
    const lines: string[] = [];
    const trace = compactTrace((line) => lines.push(line), 8)("sender");
    trace({ type: "bind", local: { ...peer, port: 40000 } });
    for (let i = 0; i < 1_000; i++) trace({ type: "send", bytes: 256, to: peer });
    trace({ type: "recv", bytes: 1, from: peer });
    trace({ type: "close" });

    expect(lines).toEqual([
      "sender   bind(127.0.0.1:40000)",
      "sender   sendto ×1,000 (256,000 bytes)",
      "sender   recvfrom ×1 (1 byte)",
      "sender   close()",
    ]);
  });

  test("names stream calls send and recv, and keeps each socket's counts apart", () => {
    const lines: string[] = [];
    const factory = compactTrace((line) => lines.push(line), 6);
    const a = factory("a");
    const b = factory("b");
    a({ type: "send", bytes: 10 });
    b({ type: "recv", bytes: 4 });
    a({ type: "shutdown", how: "SHUT_WR" });
    b({ type: "close" });
    expect(lines).toEqual([
      "a      send ×1 (10 bytes)",
      "a      shutdown(SHUT_WR)",
      "b      recv ×1 (4 bytes)",
      "b      close()",
    ]);
  });
});
