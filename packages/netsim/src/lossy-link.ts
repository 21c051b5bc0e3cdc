/**
 * The lossy UDP link: a relay between datagram clients and one server that drops, duplicates,
 * reorders and delays datagrams, in either or both directions, as a seeded plan decides.
 */

import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import {
  Domain,
  descriptorOf,
  type Endpoint,
  endpointOf,
  explain,
  type InetEndpoint,
  type SocketError,
  SocketType,
  socketAttributes,
  type TraceListener,
} from "@socket-lab/core";
import {
  abortReason,
  checkMs,
  checkOnError,
  checkOneOf,
  checkSignal,
  invalidArgType,
  onAbort,
  reportError,
  throwIfAborted,
} from "@socket-lab/core/internal";
import {
  createImpairment,
  type Direction,
  type Impairment,
  type ImpairmentDecision,
  type ImpairmentOptions,
  resolveImpairmentOptions,
} from "./impairment.js";
import { resolveHost, udpEndpoint } from "./internal/endpoint.js";

/** Which directions a lossy link impairs; the others pass datagrams through untouched. */
export type LinkDirections = "both" | Direction;

/** The longest a reordered datagram waits for a later one to overtake it, in ms, by default. */
export const DEFAULT_REORDER_HOLD_MS = 20;

/** What `startLossyLink()` takes. Rates are probabilities from 0 to 1, drawn per datagram. */
export interface LossyLinkOptions extends Omit<ImpairmentOptions, "direction"> {
  /** The server datagrams are relayed to: `udp://127.0.0.1:7001`, `[::1]:7001`, or an endpoint. */
  target: string | Endpoint;
  /** Where the link binds; clients send here. Port 0 lets the system choose. @default "udp://127.0.0.1:0" */
  listen?: string | Endpoint;
  /** Which directions are impaired: requests ("to-server"), replies ("to-client"), or both. @default "both" */
  directions?: LinkDirections;
  /**
   * The longest a datagram chosen for reordering is held, in milliseconds: it is released right
   * after the next datagram of its flow is sent, or when this time runs out, whichever is first.
   * @default 20
   */
  reorderHoldMs?: number;
  /** Called with every decision the link applies, in the order it draws them. @default none */
  onDecision?: (event: LinkDecisionEvent) => void;
  /** Receives the link's own socket calls: bind, recvfrom, sendto, close. @default none */
  trace?: TraceListener;
  /**
   * Receives the errors that belong to no caller: a socket of the link failing after it
   * started (its listening socket, or a socket to the server while nothing waits to be sent).
   * @default none: a process warning (one line on stderr), never a crash
   */
  onError?: (error: SocketError) => void;
  /**
   * Closes the link when it fires, as `close()` does. Fired before the link is bound,
   * `startLossyLink()` rejects with `signal.reason` and nothing stays bound.
   * @default none
   */
  signal?: AbortSignal;
}

/** One decision as the link applied it, for cross-checks against `createImpairment()`. */
export interface LinkDecisionEvent {
  readonly direction: Direction;
  /** 0 for the first datagram that crossed the link in this direction, then 1, 2, … */
  readonly index: number;
  /** The client whose flow the datagram belongs to (its sender, or the one a reply is for). */
  readonly client: InetEndpoint;
  /** The datagram's payload size in bytes. */
  readonly bytes: number;
  readonly decision: ImpairmentDecision;
}

/** What a link did to the datagrams of one direction. */
export interface LinkDirectionStats {
  /** Datagrams that entered the link in this direction. */
  readonly received: number;
  /** Datagrams the link handed to the system to send on, duplicate copies included. */
  readonly forwarded: number;
  /** Datagrams discarded on purpose. */
  readonly dropped: number;
  /** Datagrams sent twice: each added one extra copy to `forwarded`. */
  readonly duplicated: number;
  /** Datagrams held back so that a later one could overtake them. */
  readonly reordered: number;
  /** Datagrams that waited a delay of more than 0 ms. */
  readonly delayed: number;
  /** Datagrams (copies included) the system refused to send, or that could not be sent. */
  readonly failed: number;
  /** Datagrams (copies included) still delayed, held, or being sent; 0 once `close()` resolves. */
  readonly pending: number;
}

/**
 * A snapshot of a link's counters. Once nothing is pending, in each direction:
 * `forwarded + failed = received − dropped + duplicated`.
 */
export interface LossyLinkStats {
  readonly toServer: LinkDirectionStats;
  readonly toClient: LinkDirectionStats;
  /** Distinct client addresses seen so far; each has its own socket to the server. */
  readonly clients: number;
}

/** A running lossy link. */
export interface LossyLink extends AsyncDisposable {
  /** Where clients send: the bound address with the real port. */
  readonly endpoint: InetEndpoint;
  /** The server, with its host resolved to the address the link sends to. */
  readonly target: InetEndpoint;
  /** The counters: a snapshot, taken when read. */
  readonly stats: LossyLinkStats;
  /**
   * Stops taking datagrams, sends every delayed and held one at once (in the order they were
   * due), waits until the system has taken them, and closes every socket. Datagrams still
   * queued in the kernel, not yet read by the link, are not read. Safe to call twice.
   */
  close(): Promise<void>;
}

const DEFAULTS = {
  listen: "udp://127.0.0.1:0",
  directions: "both",
  reorderHoldMs: DEFAULT_REORDER_HOLD_MS,
} as const satisfies Partial<LossyLinkOptions>;

type Counters = { -readonly [K in keyof LinkDirectionStats]: number };

/** One way through the link for one client: where it sends and what it holds back. */
interface Lane {
  readonly direction: Direction;
  readonly client: InetEndpoint;
  readonly counters: Counters;
  readonly send: (data: Buffer, done: (err: Error | null) => void) => void;
  /** The socket that sends, for the trace's fd. */
  readonly socket: Socket;
  readonly to: InetEndpoint;
  held: Buffer[];
  holdTimer: NodeJS.Timeout | undefined;
}

/** A client and the socket the link opened to the server for it, so replies find their way back. */
interface Session {
  readonly upstream: Socket;
  readonly toServer: Lane;
  readonly toClient: Lane;
  /** Datagrams to the server waiting for the upstream socket's bind. */
  waiting: Array<[Buffer, (err: Error | null) => void]> | undefined;
  failure: Error | undefined;
}

interface Delayed {
  readonly due: number;
  readonly timer: NodeJS.Timeout;
  readonly fire: () => void;
}

const zero = (): Counters => ({
  received: 0,
  forwarded: 0,
  dropped: 0,
  duplicated: 0,
  reordered: 0,
  delayed: 0,
  failed: 0,
  pending: 0,
});

const LOOPBACK = { udp4: "127.0.0.1", udp6: "::1" } as const;

function dgramAttributes(type: "udp4" | "udp6") {
  const domain = type === "udp6" ? Domain.AF_INET6 : Domain.AF_INET;
  return socketAttributes({ domain, type: SocketType.SOCK_DGRAM });
}

function bindSocket(socket: Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      socket.close();
      reject(explain(err));
    };
    socket.once("error", fail);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off("error", fail);
      resolve();
    });
  });
}

/**
 * Starts a lossy link: binds `listen`, and relays every datagram a client sends there to
 * `target`, and every reply back to that client, applying the seeded impairment plan.
 *
 * Per direction, each datagram gets one decision from `createImpairment()` (the "to-server"
 * stream for requests, "to-client" for replies), drawn in arrival order. Dropped: discarded.
 * Duplicated: sent twice, back to back. Delayed: both copies wait `delayMs` plus jitter.
 * Reordered: once its delay is over, it is held until the next datagram of the same client and
 * direction is sent, then sent right after it (so the two swap places), or sent when
 * `reorderHoldMs` runs out if nothing follows.
 *
 * @throws {RangeError} naming the option and value for a rate outside 0..1, a negative or
 *   fractional delay, an unknown `directions`; {TypeError} for a missing `target`.
 * @throws {SocketError} `ERR_INVALID_ENDPOINT` for a bad or non-UDP endpoint,
 *   `ERR_UNSUPPORTED_SOCKET` for a unix one, or a system code (EADDRINUSE, …) from bind.
 * @example
 * import { createSocket } from "node:dgram";
 * import { once } from "node:events";
 * const server = createSocket("udp4").bind(0, "127.0.0.1"); // say udp://127.0.0.1:7001
 * await once(server, "listening");
 * const link = await startLossyLink({
 *   target: `udp://127.0.0.1:${server.address().port}`, loss: 0.1, duplicate: 0.02, reorder: 0.05, seed: 42,
 * });
 * const client = createSocket("udp4");
 * client.connect(link.endpoint.port, "127.0.0.1");
 * await once(client, "connect");
 * for (let n = 1; n <= 1_000; n++) {
 *   client.send(`${n}`); // to link.endpoint instead of the server
 *   while (link.stats.toServer.received < n) await new Promise((resolve) => setTimeout(resolve, 1));
 * }
 * await link.close();
 * link.stats.toServer
 * //=> { received: 1000, forwarded: 907, dropped: 104, duplicated: 11, reordered: 40, delayed: 0, failed: 0, pending: 0 }
 * client.close();
 * server.close();
 */
export async function startLossyLink(options: LossyLinkOptions): Promise<LossyLink> {
  const {
    target,
    listen,
    directions,
    reorderHoldMs,
    onDecision,
    trace,
    signal,
    onError,
    ...rates
  } = {
    ...DEFAULTS,
    ...options,
  };
  if (target === undefined) {
    throw invalidArgType("target", "the server's endpoint", target);
  }
  checkSignal(signal);
  checkOnError(onError);
  const impairment = resolveImpairmentOptions(rates);
  checkOneOf("directions", directions, ["both", "to-server", "to-client"]);
  checkMs("reorderHoldMs", reorderHoldMs);
  const targetEndpoint = udpEndpoint("target", target);
  const listenEndpoint = udpEndpoint("listen", listen);
  const server = await resolveHost(targetEndpoint.host);
  const local = await resolveHost(listenEndpoint.host);

  const plans: Record<Direction, Impairment | undefined> = {
    "to-server":
      directions === "to-client"
        ? undefined
        : createImpairment({ ...impairment, direction: "to-server" }),
    "to-client":
      directions === "to-server"
        ? undefined
        : createImpairment({ ...impairment, direction: "to-client" }),
  };
  const counters: Record<Direction, Counters> = { "to-server": zero(), "to-client": zero() };
  const sessions = new Map<string, Session>();
  const delayed = new Set<Delayed>();
  let stopped = false;
  let onIdle: (() => void) | undefined;
  let closing: Promise<void> | undefined;

  throwIfAborted(signal);
  const listener = createSocket({ type: local.type });
  await bindSocket(listener, local.address, listenEndpoint.port);
  const listenerFd = descriptorOf(listener); // libuv makes the socket at bind
  trace?.({ type: "socket", attributes: dgramAttributes(local.type), fd: listenerFd });
  const endpoint = endpointOf("udp", listener.address()) as InetEndpoint;
  const targetInet: InetEndpoint = {
    transport: "udp",
    host: server.address,
    port: targetEndpoint.port,
  };
  trace?.({ type: "bind", local: endpoint, fd: listenerFd });
  // After bind, an unconnected UDP socket reports send failures through the send callback;
  // anything else belongs to no caller.
  listener.on("error", (err) => reportError(onError, explain(err)));

  const totalPending = () => counters["to-server"].pending + counters["to-client"].pending;

  function transmit(lane: Lane, data: Buffer): void {
    lane.send(data, (err) => {
      lane.counters.pending--;
      if (err) lane.counters.failed++;
      else {
        lane.counters.forwarded++;
        trace?.({ type: "send", bytes: data.length, to: lane.to, fd: descriptorOf(lane.socket) });
      }
      if (onIdle && totalPending() === 0) onIdle();
    });
  }

  function releaseHeld(lane: Lane): void {
    clearTimeout(lane.holdTimer);
    lane.holdTimer = undefined;
    const held = lane.held;
    lane.held = [];
    for (const data of held) transmit(lane, data);
  }

  function release(lane: Lane, data: Buffer, copies: number, hold: boolean): void {
    if (hold) {
      for (let i = 0; i < copies; i++) lane.held.push(data);
      lane.holdTimer ??= setTimeout(() => releaseHeld(lane), reorderHoldMs);
      return;
    }
    for (let i = 0; i < copies; i++) transmit(lane, data);
    releaseHeld(lane);
  }

  function admit(lane: Lane, data: Buffer): void {
    const count = lane.counters;
    count.received++;
    const plan = plans[lane.direction];
    if (plan === undefined) {
      count.pending++;
      transmit(lane, data);
      return;
    }
    const index = plan.decisions;
    const decision = plan.decide();
    onDecision?.({
      direction: lane.direction,
      index,
      client: lane.client,
      bytes: data.length,
      decision,
    });
    if (decision.drop) {
      count.dropped++;
      return;
    }
    const copies = decision.duplicate ? 2 : 1;
    count.pending += copies;
    if (decision.duplicate) count.duplicated++;
    if (decision.reorder) count.reordered++;
    if (decision.delayMs === 0) {
      release(lane, data, copies, decision.reorder);
      return;
    }
    count.delayed++;
    const entry: Delayed = {
      due: performance.now() + decision.delayMs,
      timer: setTimeout(() => entry.fire(), decision.delayMs),
      fire: () => {
        delayed.delete(entry);
        release(lane, data, copies, decision.reorder);
      },
    };
    delayed.add(entry);
  }

  function openSession(rinfo: RemoteInfo): Session {
    const client = endpointOf("udp", rinfo) as InetEndpoint;
    const upstream = createSocket({ type: server.type });
    const session: Session = {
      upstream,
      waiting: [],
      failure: undefined,
      toServer: {
        direction: "to-server",
        client,
        counters: counters["to-server"],
        to: targetInet,
        socket: upstream,
        held: [],
        holdTimer: undefined,
        send: (data, done) => {
          if (session.waiting) session.waiting.push([data, done]);
          else if (session.failure) done(session.failure);
          else upstream.send(data, targetInet.port, targetInet.host, done);
        },
      },
      toClient: {
        direction: "to-client",
        client,
        counters: counters["to-client"],
        to: client,
        socket: listener,
        held: [],
        holdTimer: undefined,
        send: (data, done) => listener.send(data, rinfo.port, rinfo.address, done),
      },
    };
    // Datagrams wait for the bind, so that a failed bind fails them instead of losing them.
    const flushWaiting = (failure?: Error) => {
      const waiting = session.waiting ?? [];
      session.waiting = undefined;
      session.failure = failure;
      for (const [data, done] of waiting) {
        if (failure) done(failure);
        else upstream.send(data, targetInet.port, targetInet.host, done);
      }
    };
    upstream.on("error", (err) => {
      if (session.waiting) flushWaiting(explain(err));
      else reportError(onError, explain(err));
    });
    upstream.bind({ address: LOOPBACK[server.type], port: 0, exclusive: true }, () => {
      const fd = descriptorOf(upstream);
      trace?.({ type: "socket", attributes: dgramAttributes(server.type), fd });
      trace?.({ type: "bind", local: endpointOf("udp", upstream.address()), fd });
      flushWaiting();
    });
    upstream.on("message", (data, from) => {
      if (stopped) return;
      const fd = descriptorOf(upstream);
      trace?.({ type: "recv", bytes: data.length, from: endpointOf("udp", from), fd });
      admit(session.toClient, data);
    });
    return session;
  }

  listener.on("message", (data, rinfo) => {
    if (stopped) return;
    const from = endpointOf("udp", rinfo);
    trace?.({ type: "recv", bytes: data.length, from, fd: listenerFd });
    const key = `${rinfo.address}|${rinfo.port}`;
    let session = sessions.get(key);
    if (session === undefined) {
      session = openSession(rinfo);
      sessions.set(key, session);
    }
    admit(session.toServer, data);
  });

  async function shutdown(): Promise<void> {
    stopAbort();
    stopped = true;
    const due = [...delayed].sort((a, b) => a.due - b.due);
    for (const entry of due) {
      clearTimeout(entry.timer);
      entry.fire();
    }
    for (const session of sessions.values()) {
      releaseHeld(session.toServer);
      releaseHeld(session.toClient);
    }
    if (totalPending() > 0) {
      await new Promise<void>((resolve) => {
        onIdle = resolve;
      });
    }
    const sockets = [listener, ...[...sessions.values()].map((s) => s.upstream)];
    const fds = sockets.map((socket) => descriptorOf(socket));
    await Promise.all(
      sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))),
    );
    for (const fd of fds) trace?.({ type: "close", fd });
  }

  const snapshot = (c: Counters): LinkDirectionStats => ({ ...c });
  let stopAbort = (): void => {};
  const close = (): Promise<void> => {
    closing ??= shutdown();
    return closing;
  };
  // Fired while binding: binding is quick and cannot be cancelled half-way, so undo it.
  if (signal?.aborted === true) {
    await close();
    throw abortReason(signal);
  }
  stopAbort = onAbort(signal, () => void close());
  return {
    endpoint,
    target: targetInet,
    get stats(): LossyLinkStats {
      return {
        toServer: snapshot(counters["to-server"]),
        toClient: snapshot(counters["to-client"]),
        clients: sessions.size,
      };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
