/**
 * The latency workloads' two sides. One server process hosts an echo server per implementation
 * and one client process a ping client per variant, so that every variant of a repetition
 * runs on the same pair of processes, in turns (see `pingPong` in workloads.ts).
 */

import type { Role } from "./role.js";
import { percentile } from "./stats.js";
import { type TcpLatencyImpl, tcpEchoServer, tcpPinger } from "./tcp-roles.js";
import { type UdpImpl, udpEchoServer, udpPinger } from "./udp-roles.js";

/** Runs `count` round trips, fewer if `deadlineMs` passes first; returns each time, in ms. */
export type Pinger = (count: number, deadlineMs: number) => Promise<Float64Array>;

/** Which transport a latency role speaks. */
export type Transport = "tcp" | "udp";

/** An implementation of a latency role: of TCP's for "tcp", of UDP's for "udp". */
export type LatencyImpl = TcpLatencyImpl | UdpImpl;

/** Options of `echo-servers`: one echo server per implementation. */
export interface EchoOptions {
  readonly transport: Transport;
  readonly impls: readonly LatencyImpl[];
}

/** What `echo-servers` answers to `ports`: each implementation's port. */
export type EchoPorts = Readonly<Record<string, number>>;

/** Options of `pingers`: one ping client per variant, each to the echo server on its port. */
export interface PingOptions {
  readonly transport: Transport;
  readonly pingers: readonly {
    readonly key: string;
    readonly impl: LatencyImpl;
    readonly port: number;
  }[];
  /** Payload bytes per message. */
  readonly size: number;
}

/** A block of round trips by the pinger named `key`. */
export interface PingBlock {
  readonly key: string;
  readonly count: number;
  readonly deadlineMs: number;
}

/** Round-trip times of one pinger since its last `take`, in µs. */
export interface PingResult {
  readonly pings: number;
  readonly p50: number;
  readonly p99: number;
}

/** `echo-servers`: an echo server per implementation, in this process. */
export async function echoServers(options: EchoOptions): Promise<Role> {
  const ports: Record<string, number> = {};
  for (const impl of options.impls) {
    ports[impl] =
      options.transport === "tcp" ? await tcpEchoServer(impl) : await udpEchoServer(udpImpl(impl));
  }
  return { ports: (): EchoPorts => ports };
}

/**
 * `pingers`: a ping client per variant. `block` runs round trips on one of them and keeps
 * their times; `take` returns each one's p50 and p99 over every block since the last `take`.
 */
export async function pingers(options: PingOptions): Promise<Role> {
  const clients = new Map<string, Pinger>();
  const times = new Map<string, Float64Array[]>();
  for (const { key, impl, port } of options.pingers) {
    const ping =
      options.transport === "tcp"
        ? await tcpPinger(impl, port, options.size)
        : await udpPinger(udpImpl(impl), port, options.size);
    clients.set(key, ping);
    times.set(key, []);
  }
  return {
    block: async ({ key, count, deadlineMs }: PingBlock): Promise<number> => {
      const ping = clients.get(key);
      if (ping === undefined) throw new Error(`no pinger '${key}'`);
      const rtts = await ping(count, deadlineMs);
      times.get(key)?.push(rtts);
      return rtts.length;
    },
    take: (): Record<string, PingResult> => {
      const results: Record<string, PingResult> = {};
      for (const [key, blocks] of times) {
        if (blocks.length === 0) continue;
        const all = new Float64Array(blocks.reduce((n, block) => n + block.length, 0));
        let at = 0;
        for (const block of blocks) {
          all.set(block, at);
          at += block.length;
        }
        results[key] = pingResult(all);
        times.set(key, []);
      }
      return results;
    },
  };
}

function udpImpl(impl: LatencyImpl): UdpImpl {
  if (impl === "ours" || impl === "raw") return impl;
  throw new Error(`no UDP latency role '${impl}'`);
}

/** p50 and p99 of round-trip times given in ms, in µs. */
export function pingResult(rtts: Float64Array): PingResult {
  if (rtts.length === 0) throw new Error("no round trip completed before the deadline");
  return {
    pings: rtts.length,
    p50: percentile(rtts, 50) * 1000,
    p99: percentile(rtts, 99) * 1000,
  };
}
