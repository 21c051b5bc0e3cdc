import { createSocket } from "node:dgram";
import { isSocketError, type TraceEvent } from "@socket-lab/core";
import { afterEach, describe, expect, it } from "vitest";
import {
  createImpairment,
  type ImpairmentOptions,
  type LinkDecisionEvent,
  type LossyLink,
  startLossyLink,
} from "../src/index.js";
import { datagram, seqOf, tagOf, type UdpPeer, udpPeer, until } from "./_sockets.js";

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function setup(options: Omit<Parameters<typeof startLossyLink>[0], "target">, echo = false) {
  const server = await udpPeer("127.0.0.1", echo);
  cleanup.push(server.close);
  const link = await startLossyLink({ target: server.url, ...options });
  cleanup.push(link.close);
  return { server, link };
}

async function client(host = "127.0.0.1"): Promise<UdpPeer> {
  const peer = await udpPeer(host);
  cleanup.push(peer.close);
  return peer;
}

/** Everything sent so far has crossed the link and reached its receiver (held ones excepted). */
function settled(link: LossyLink, server: UdpPeer, peers: UdpPeer[], sent: number): boolean {
  const { toServer, toClient } = link.stats;
  const back = peers.reduce((sum, peer) => sum + peer.received.length, 0);
  return (
    toServer.received === sent &&
    server.received.length === toServer.forwarded &&
    toClient.received === server.replies() &&
    back === toClient.forwarded
  );
}

/**
 * Sends `count` datagrams from each peer, in rounds of `batch` per peer, one at a time, waiting
 * after each round until the link and the receivers have caught up: the kernel's receive
 * buffers never overflow, so the only losses are the ones the link injects.
 */
async function send(link: LossyLink, server: UdpPeer, peers: UdpPeer[], count: number, batch = 50) {
  let sent = 0;
  for (let start = 0; start < count; start += batch) {
    for (const [tag, peer] of peers.entries()) {
      for (let seq = start; seq < Math.min(start + batch, count); seq++) {
        await peer.send(datagram(tag, seq), link.endpoint);
        sent++;
      }
    }
    await until(() => settled(link, server, peers, sent), `round at ${start} to settle`);
  }
}

/** What the plan says the link does to `n` datagrams of one flow: counts and delivery order. */
function model(n: number, options: ImpairmentOptions) {
  const plan = createImpairment(options);
  const counts = { received: n, dropped: 0, duplicated: 0, reordered: 0, delayed: 0 };
  const order: number[] = [];
  let held: number[] = [];
  for (let seq = 0; seq < n; seq++) {
    const d = plan.decide();
    if (d.drop) {
      counts.dropped++;
      continue;
    }
    const copies = d.duplicate ? [seq, seq] : [seq];
    if (d.duplicate) counts.duplicated++;
    if (d.delayMs > 0) counts.delayed++;
    if (d.reorder) {
      counts.reordered++;
      held.push(...copies);
    } else {
      order.push(...copies, ...held);
      held = [];
    }
  }
  return { counts, order: [...order, ...held] };
}

describe("startLossyLink", () => {
  it("gives identical counts and an identical received sequence for the same seed", async () => {
    // A long hold makes "held until the next datagram" the only release, so order is exact.
    const options = { loss: 0.1, duplicate: 0.05, reorder: 0.1, reorderHoldMs: 60_000 };
    const run = async (seed: number) => {
      const { server, link } = await setup({ ...options, seed });
      const peer = await client();
      await send(link, server, [peer], 2000);
      await link.close();
      await until(() => server.received.length === link.stats.toServer.forwarded, "flush");
      return { stats: link.stats, order: server.received.map(seqOf) };
    };
    const a = await run(11);
    const b = await run(11);
    const c = await run(12);
    expect(b).toEqual(a);

    const expected = model(2000, { ...options, seed: 11 });
    expect(a.order).toEqual(expected.order);
    expect(a.stats.toServer).toEqual({
      ...expected.counts,
      forwarded: 2000 - expected.counts.dropped + expected.counts.duplicated,
      failed: 0,
      pending: 0,
    });
    expect(a.order).not.toEqual(c.order);
    expect(c.order).toEqual(model(2000, { ...options, seed: 12 }).order);
    // The reordering is real: some datagram arrives after a later one.
    expect(a.order.some((seq, i) => i > 0 && seq < (a.order[i - 1] ?? 0))).toBe(true);
  });

  it("injects each impairment at its rate over 10,000 datagrams, exactly as the plan says", async () => {
    const n = 10_000;
    const options = { loss: 0.05, duplicate: 0.03, reorder: 0.04, jitterMs: 2, seed: 2024 };
    const decisions: LinkDecisionEvent[] = [];
    const { server, link } = await setup({
      ...options,
      directions: "to-server",
      onDecision: (event) => decisions.push(event),
    });
    const peer = await client();
    await send(link, server, [peer], n, 100);
    await link.close();
    const { toServer, toClient } = link.stats;
    await until(() => server.received.length === toServer.forwarded, "flush");

    // The link applied the plan's decisions, one per datagram, in order.
    const plan = createImpairment(options);
    expect(decisions.map((e) => e.index)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(decisions.map((e) => e.decision)).toEqual(decisions.map(() => plan.decide()));
    expect(decisions.every((e) => e.direction === "to-server" && e.bytes === 8)).toBe(true);

    // What it reports is what happened: delivered = sent − dropped + duplicated …
    expect(toServer.received).toBe(n);
    expect(toServer.pending).toBe(0);
    expect(toServer.failed).toBe(0);
    expect(server.received.length).toBe(n - toServer.dropped + toServer.duplicated);
    expect(toServer.forwarded).toBe(server.received.length);
    // … datagram by datagram: dropped ones never arrive, duplicated ones arrive twice.
    const copies = new Array<number>(n).fill(0);
    for (const data of server.received) copies[seqOf(data)] = (copies[seqOf(data)] ?? 0) + 1;
    expect(copies).toEqual(
      decisions.map((e) => (e.decision.drop ? 0 : e.decision.duplicate ? 2 : 1)),
    );
    const { counts } = model(n, options);
    expect(toServer).toMatchObject(counts);

    // … and the rates are within 5 standard deviations of what was asked.
    const within = (observed: number, p: number) =>
      expect(Math.abs(observed - n * p)).toBeLessThanOrEqual(5 * Math.sqrt(n * p * (1 - p)));
    within(toServer.dropped, 0.05);
    within(toServer.duplicated, 0.95 * 0.03);
    within(toServer.reordered, 0.95 * 0.04);
    within(toServer.delayed, (0.95 * 2) / 3);
    // Replies were not impaired: none were sent, and nothing was decided for them.
    expect(toClient).toEqual(zeroes);
  });

  it("impairs replies too and routes them to the right one of several clients", async () => {
    const options = { loss: 0.1, duplicate: 0.1, reorder: 0.1, seed: 5 };
    const { server, link } = await setup(options, true);
    const peers = await Promise.all([client(), client(), client()]);
    await send(link, server, peers, 200, 25);
    await link.close();
    const { toServer, toClient, clients: seen } = link.stats;
    expect(seen).toBe(3);
    const back = () => peers.reduce((sum, peer) => sum + peer.received.length, 0);
    await until(() => back() === toClient.forwarded, "replies");

    for (const [tag, peer] of peers.entries()) {
      expect(peer.received.length).toBeGreaterThan(0);
      expect(peer.received.every((data) => tagOf(data) === tag)).toBe(true);
    }
    expect(toServer.received).toBe(600);
    expect(server.received.length).toBe(600 - toServer.dropped + toServer.duplicated);
    expect(toClient.received).toBe(server.replies());
    expect(back()).toBe(toClient.received - toClient.dropped + toClient.duplicated);
    expect(toClient.dropped).toBeGreaterThan(0);
    expect(toClient.duplicated).toBeGreaterThan(0);
    // Each direction followed its own plan; clients sent one at a time, so arrival order is fixed.
    expect(toServer).toMatchObject(model(600, options).counts);
    expect(toClient).toMatchObject(
      model(toClient.received, { ...options, direction: "to-client" }).counts,
    );
  });

  it("leaves the other direction alone when told to impair one", async () => {
    const { server, link } = await setup({ loss: 0.3, seed: 8, directions: "to-client" }, true);
    const peer = await client();
    await send(link, server, [peer], 300);
    const { toServer, toClient } = link.stats;
    expect(server.received.map(seqOf)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(toServer).toMatchObject({ received: 300, forwarded: 300, dropped: 0 });
    expect(toClient.dropped).toBe(
      model(300, { loss: 0.3, seed: 8, direction: "to-client" }).counts.dropped,
    );
    expect(peer.received.length).toBe(300 - toClient.dropped);
  });

  it("sends every delayed and held datagram when closed, then closes cleanly", async () => {
    const { server, link } = await setup({
      delayMs: 60_000,
      duplicate: 0.5,
      reorder: 0.5,
      seed: 3,
    });
    const peer = await client();
    for (let seq = 0; seq < 20; seq++) await peer.send(datagram(0, seq), link.endpoint);
    await until(() => link.stats.toServer.received === 20, "the link to take all 20");
    const before = link.stats.toServer;
    expect(server.received.length).toBe(0);
    expect(before).toMatchObject({ delayed: 20, forwarded: 0, pending: 20 + before.duplicated });

    await link.close();
    await link.close(); // twice is fine
    const after = link.stats.toServer;
    expect(after).toMatchObject({ pending: 0, forwarded: 20 + before.duplicated, failed: 0 });
    await until(() => server.received.length === after.forwarded, "the flushed datagrams");
    expect(new Set(server.received.map(seqOf)).size).toBe(20);
  });

  it("works over IPv6 and traces its socket calls", async () => {
    const server = await udpPeer("::1", true);
    cleanup.push(server.close);
    const events: TraceEvent[] = [];
    const link = await startLossyLink({
      target: server.url,
      listen: "udp://[::1]:0",
      trace: (event) => events.push(event),
    });
    cleanup.push(link.close);
    expect(link.endpoint).toMatchObject({ transport: "udp", host: "::1" });
    expect(link.target).toEqual({
      transport: "udp",
      host: "::1",
      port: server.socket.address().port,
    });
    const peer = await client("::1");
    await send(link, server, [peer], 10);
    expect(peer.received.map(seqOf)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    await link.close();
    const types = events.map((e) => e.type);
    expect(events[1]).toEqual({ type: "bind", local: link.endpoint, fd: expect.any(Number) });
    expect(events.every((event) => typeof event.fd === "number")).toBe(true);
    expect(types.filter((t) => t === "recv")).toHaveLength(20);
    expect(types.filter((t) => t === "send")).toHaveLength(20);
    expect(types.filter((t) => t === "close")).toHaveLength(2);
  });

  it("rejects bad options naming the option and the value", async () => {
    const target = "udp://127.0.0.1:9";
    await expect(startLossyLink({ target, loss: 2 })).rejects.toThrow(
      expect.objectContaining({
        name: "RangeError",
        code: "ERR_OUT_OF_RANGE",
        message:
          'The value of "loss" is out of range. It must be a number >= 0 && <= 1. Received 2',
      }),
    );
    await expect(startLossyLink({ target, jitterMs: -5 })).rejects.toThrow(
      /^The value of "jitterMs" is out of range\..* Received -5$/,
    );
    await expect(startLossyLink({ target, reorderHoldMs: 1.5 })).rejects.toThrow(
      /^The value of "reorderHoldMs" is out of range\..* Received 1\.5$/,
    );
    await expect(
      startLossyLink({ target, directions: "sideways" as "both" }),
    ).rejects.toMatchObject({
      name: "TypeError",
      code: "ERR_INVALID_ARG_VALUE",
      message: `The "directions" option must be one of: 'both', 'to-server', 'to-client'. Received 'sideways'`,
    });
    await expect(startLossyLink({} as { target: string })).rejects.toThrow(TypeError);
    // @ts-expect-error: onError is a function
    await expect(startLossyLink({ target, onError: "log" })).rejects.toMatchObject({
      code: "ERR_INVALID_ARG_TYPE",
      message: `The "onError" option must be of type function. Received type string ('log')`,
    });
    const unix = await startLossyLink({ target: "unix:///tmp/x.sock" }).catch((e: unknown) => e);
    expect(isSocketError(unix, "ERR_UNSUPPORTED_SOCKET")).toBe(true);
    const tcp = await startLossyLink({ target: "tcp://127.0.0.1:9" }).catch((e: unknown) => e);
    expect(isSocketError(tcp, "ERR_INVALID_ENDPOINT")).toBe(true);
  });

  it("reports a port already in use with its system code and a hint", async () => {
    const taken = createSocket("udp4");
    await new Promise<void>((resolve) => taken.bind(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise((resolve) => taken.close(() => resolve())));
    const err = await startLossyLink({
      target: "udp://127.0.0.1:9",
      listen: { transport: "udp", host: "127.0.0.1", port: taken.address().port },
    }).catch((e: unknown) => e);
    expect(isSocketError(err, "EADDRINUSE")).toBe(true);
    expect((err as { hint?: string }).hint).toMatch(/port 0/);
  });
});

const zeroes = {
  received: 0,
  forwarded: 0,
  dropped: 0,
  duplicated: 0,
  reordered: 0,
  delayed: 0,
  failed: 0,
  pending: 0,
};

describe("stats", () => {
  it("is a read-only property: a snapshot of the counters, taken when read", async () => {
    const { server, link } = await setup({ seed: 1 });
    const peer = await client();
    const before = link.stats;
    await send(link, server, [peer], 3);
    expect(typeof link.stats).toBe("object");
    expect(before.toServer.received).toBe(0);
    expect(link.stats.toServer.received).toBe(3);
    expect(Object.getOwnPropertyDescriptor(link, "stats")?.get).toBeTypeOf("function");
  });
});
