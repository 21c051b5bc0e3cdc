/**
 * netsim-relay: netsim between any two programs on this machine. Clients talk to the relay
 * instead of the server; over UDP it drops, duplicates, reorders and delays datagrams, over TCP
 * it re-cuts the byte stream into other pieces. It says what it does to each datagram or piece.
 *
 * Run it in three terminals:
 *   pnpm udp:server                                                         # terminal 1
 *   pnpm netsim --udp --listen 7101 --target 127.0.0.1:7001 --loss 0.3      # terminal 2
 *   pnpm udp:client --port 7101 --count 10     # terminal 3, or: nc -u 127.0.0.1 7101
 */

import { counted, createMessageLimiter } from "@socket-lab/cli";
import { type Endpoint, formatAddress } from "@socket-lab/core";
import {
  type Chunking,
  type LinkDecisionEvent,
  type LinkDirectionStats,
  type RelayDirectionStats,
  startChunkingRelay,
  startLossyLink,
} from "@socket-lab/netsim";

/** A running relay. */
export interface Relay {
  /** Where clients send or connect: 127.0.0.1 and the real port. */
  readonly endpoint: Endpoint;
  /** Stops relaying and returns the summary lines. */
  close(): Promise<string[]>;
}

/**
 * Starts the relay and prints, through `print`, a line per datagram or piece: a few per flow
 * per second, the rest counted in one line.
 */
export async function startRelay(options: RelayOptions, print: (line: string) => void) {
  const limiter = createMessageLimiter({}, ({ source, messages }) => {
    print(`… and ${counted(messages, "more line")} ${source ?? "in all"} not shown`);
  });
  const show = (source: string, line: string) => {
    if (limiter.allow(source)) print(line);
  };
  const relay =
    options.protocol === "udp" ? await startUdp(options, show) : await startTcp(options, show);
  return {
    endpoint: relay.endpoint,
    async close() {
      const lines = await relay.close();
      limiter.flush();
      return lines;
    },
  } satisfies Relay;
}

/** UDP: a lossy link; each datagram gets one seeded decision. */
async function startUdp(options: RelayOptions, show: (source: string, line: string) => void) {
  const { listenPort, target, loss, duplicate, reorder, delayMs, seed } = options;
  // socket + bind: the link's own datagram socket on 127.0.0.1; recvfrom, then sendto the server.
  const link = await startLossyLink({
    listen: `udp://127.0.0.1:${listenPort}`,
    target,
    loss,
    duplicate,
    reorder,
    delayMs,
    seed,
    onDecision: (event) => {
      const source = `${event.direction} ${formatAddress(event.client)}`;
      show(
        source,
        `${event.direction} #${event.index} ${formatAddress(event.client)} ${counted(event.bytes, "byte")}: ${fate(event)}`,
      );
    },
  });
  return {
    endpoint: link.endpoint,
    async close() {
      await link.close();
      const { toServer, toClient, clients } = link.stats;
      return [
        `stopped: ${counted(clients, "client")}`,
        `to-server: ${datagrams(toServer)}`,
        `to-client: ${datagrams(toClient)}`,
      ];
    },
  };
}

/** TCP: a re-chunking relay; each connection's bytes leave in pieces of other sizes. */
async function startTcp(options: RelayOptions, show: (source: string, line: string) => void) {
  const { listenPort, target, chunking, delayMs, seed } = options;
  // socket + bind + listen, then per accept: connect to the server and copy both ways, re-cut.
  const relay = await startChunkingRelay({
    listen: `tcp://127.0.0.1:${listenPort}`,
    target,
    chunking,
    delayMs,
    seed,
    onPiece: ({ direction, connection, bytes }) => {
      const source = `${direction} connection ${connection}`;
      show(source, `${source}: ${counted(bytes, "byte")}`);
    },
  });
  return {
    endpoint: relay.endpoint,
    async close() {
      const { accepted, toServer, toClient } = relay.stats;
      await relay.close();
      return [
        `stopped: ${counted(accepted, "connection")}`,
        `to-server: ${pieces(toServer)}`,
        `to-client: ${pieces(toClient)}`,
      ];
    },
  };
}

/** What happened to one datagram, in words. */
function fate({ decision }: LinkDecisionEvent): string {
  if (decision.drop) return "dropped";
  const what = [
    decision.duplicate ? "sent twice" : undefined,
    decision.reorder ? "held back for a later one to overtake" : undefined,
    decision.delayMs > 0 ? `delayed ${decision.delayMs} ms` : undefined,
  ].filter((part) => part !== undefined);
  return what.length === 0 ? "passed" : what.join(", ");
}

function datagrams(s: LinkDirectionStats): string {
  return `${s.received} received, ${s.forwarded} forwarded, ${s.dropped} dropped, ${s.duplicated} duplicated, ${s.reordered} reordered`;
}

function pieces(s: RelayDirectionStats): string {
  return `${counted(s.bytes, "byte")} read in ${counted(s.reads, "read")}, written in ${counted(s.chunks, "piece")}`;
}

/** What {@link startRelay} takes; the command line fills every field. */
export interface RelayOptions {
  readonly protocol: "udp" | "tcp";
  /** Port on 127.0.0.1 where clients send or connect; 0 lets the system choose. */
  readonly listenPort: number;
  /** The server: `udp://127.0.0.1:7001`, `tcp://[::1]:7000`; a loopback address. */
  readonly target: string;
  /** UDP: probability that a datagram is dropped, 0–1. */
  readonly loss: number;
  /** UDP: probability that a datagram is sent twice, 0–1. */
  readonly duplicate: number;
  /** UDP: probability that a datagram is held back so a later one overtakes it, 0–1. */
  readonly reorder: number;
  /** Delay added to every datagram or piece, in ms. */
  readonly delayMs: number;
  /** Seed of every random choice, so a run can be repeated. */
  readonly seed: number;
  /** TCP: how the stream is re-cut. */
  readonly chunking: Chunking;
}
