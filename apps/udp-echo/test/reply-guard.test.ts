import type { InetEndpoint } from "@socket-lab/core";
import { describe, expect, test } from "vitest";
import { isOwnAddress, ReplyGuard } from "../src/internal/reply-guard.js";

const at = (host: string, port: number): InetEndpoint => ({ transport: "udp", host, port });
const LIMITS = { rate: 10, burst: 3, stormRepeats: 4 };

describe("ReplyGuard (no sockets, a clock of our own)", () => {
  test.each([
    [at("127.0.0.1", 7001), at("127.0.0.1", 7001), true],
    [at("127.0.0.1", 7001), at("127.0.0.1", 7002), false],
    [at("::ffff:127.0.0.1", 7001), at("127.0.0.1", 7001), true],
    [at("127.0.0.2", 7001), at("127.0.0.1", 7001), true],
    [at("::1", 7001), at("::1", 7001), true],
    [at("::1", 7001), at("0.0.0.0", 7001), true],
    [at("127.0.0.1", 7001), at("::", 7001), true],
    [at("192.0.2.7", 7001), at("127.0.0.1", 7001), false],
    [at("192.0.2.7", 7001), at("192.0.2.8", 7001), false],
    [at("192.0.2.7", 7001), at("192.0.2.7", 7001), true],
  ])("isOwnAddress(from $0.host:$0.port, bound to $1.host:$1.port) is $2", (from, local, own) => {
    expect(isOwnAddress(from, local)).toBe(own);
  });

  test("after stormRepeats identical datagrams in a row, each answered, the next is held once, then answered again", () => {
    const guard = new ReplyGuard(at("127.0.0.1", 7001), { ...LIMITS, burst: 100 }, () => 0);
    const peer = at("127.0.0.1", 5000);
    const ping = Buffer.from("ping");
    const verdicts = Array.from({ length: 7 }, () => guard.check(peer, ping));
    // 4 identical ones answered, the 5th held; the 6th cannot be a bounce of a reply: answered.
    expect(verdicts).toEqual([...Array(4).fill(undefined), "echo-storm", undefined, undefined]);
    // Anything different in between starts the count over.
    const other = new ReplyGuard(at("127.0.0.1", 7001), { ...LIMITS, burst: 100 }, () => 0);
    const mixed = ["a", "a", "a", "a", "b", "a", "a", "a", "a"].map((text) =>
      other.check(peer, Buffer.from(text)),
    );
    expect(mixed).not.toContain("echo-storm");
    expect(other.held).toEqual({ "own-address": 0, "echo-storm": 0, "rate-limit": 0 });
  });

  test("a token bucket per sender: burst at once, then rate per second", () => {
    let now = 0;
    const guard = new ReplyGuard(at("127.0.0.1", 7001), LIMITS, () => now);
    const one = at("127.0.0.1", 5000);
    const two = at("127.0.0.1", 5001);
    const send = (from: InetEndpoint, n: number) =>
      Array.from({ length: n }, (_, i) => guard.check(from, Buffer.from(`${now} ${i}`)));
    expect(send(one, 4)).toEqual([undefined, undefined, undefined, "rate-limit"]);
    expect(send(two, 1)).toEqual([undefined]);
    now = 100; // 10 per second: one token back
    expect(send(one, 2)).toEqual([undefined, "rate-limit"]);
    now = 10_000; // refilled up to the burst, no further
    expect(send(one, 4)).toEqual([undefined, undefined, undefined, "rate-limit"]);
    expect(guard.held["rate-limit"]).toBe(3);
  });

  test("reports the first hold at once, then at most one line a second with the count since", () => {
    let now = 0;
    const guard = new ReplyGuard(at("127.0.0.1", 7001), LIMITS, () => now);
    const self = at("127.0.0.1", 7001);
    const due: (number | undefined)[] = [];
    for (let i = 0; i < 5; i++) {
      expect(guard.check(self, Buffer.from("x"))).toBe("own-address");
      due.push(guard.reportDue("own-address"));
      now += 300;
    }
    // t=0: 1; t=300..900: held back; t=1200: the 4 since.
    expect(due).toEqual([1, undefined, undefined, undefined, 4]);
    expect(guard.held["own-address"]).toBe(5);
  });
});
