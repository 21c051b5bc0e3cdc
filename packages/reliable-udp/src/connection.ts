/**
 * One reliable connection, the same on both sides: the state machine, the timers, and the
 * glue between the windows, the RTO estimator, congestion control and one UDP socket. The
 * client (`connect()`) and the server (`listen()`) hand it a way to send datagrams and the
 * segments addressed to it; everything about ordering and loss happens here.
 */

import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  ErrorCode,
  formatAddress,
  type InetEndpoint,
  SocketError,
  UDP_SAFE_PAYLOAD_IPV4,
} from "@socket-lab/core";
import {
  AsyncQueue,
  checkFunction,
  checkInteger,
  type Deferred,
  deferred,
  invalidArgType,
  MAX_TIMER_MS,
  setTimeoutAfterInput,
  withDefaults,
} from "@socket-lab/core/internal";
import { CongestionControl, DEFAULT_INITIAL_CWND, DEFAULT_MIN_CWND } from "./congestion.js";
import {
  encodeSegments,
  HEADER_BYTES,
  headerBytes,
  MAX_ADVERTISED_WINDOW,
  MAX_HEADER_BYTES,
  type OutgoingSegment,
  PACKED_LENGTH_BYTES,
  type Segment,
  type SegmentHeader,
  SegmentType,
  unwrapSeq,
  wrapSeq,
} from "./header.js";
import { isLoopback } from "./internal/loopback.js";
import { ReceiveWindow } from "./receive-window.js";
import {
  DEFAULT_INITIAL_RTO_MS,
  DEFAULT_MAX_RTO_MS,
  DEFAULT_MIN_RTO_MS,
  RtoEstimator,
  type RtoOptions,
} from "./rto.js";
import { type AckOutcome, type OutstandingSegment, SendWindow } from "./send-window.js";

/**
 * Default receive window, segments: messages held out of order plus messages waiting for the
 * reader. It bounds a connection's receive memory to this many messages.
 * @example
 * DEFAULT_RECEIVE_WINDOW //=> 256
 */
export const DEFAULT_RECEIVE_WINDOW = 256;
/** Default most segments outstanding at once, segments; a larger advertised window is clamped. */
export const DEFAULT_SEND_WINDOW = 1_024;
/**
 * Default messages queued and not yet sent before `send()` waits, messages (tcp's
 * `DEFAULT_HIGH_WATER_MARK` counts bytes).
 */
export const DEFAULT_HIGH_WATER_MARK_MESSAGES = 256;
/**
 * Default largest message, bytes: 1,412, so that a segment (header and 4 SACK ranges
 * included) fits the 1,472-byte IPv4 safe payload and is never fragmented.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = UDP_SAFE_PAYLOAD_IPV4 - MAX_HEADER_BYTES;
/**
 * Default time a connection waits for any sign of life from a peer that owes it an
 * acknowledgement before it fails with `ERR_TIMEOUT`, ms.
 */
export const DEFAULT_PEER_TIMEOUT_MS = 15_000;
/**
 * Default largest datagram data segments are packed into to a loopback peer, bytes. Loopback's
 * MTU is 65,536, so nothing is fragmented (Linux TCP's MSS there is 65,483); 32 KiB datagrams
 * carry a 256-segment window of 1 KiB messages in 8 datagrams, not 256, and every datagram
 * saved is a sendto(), a recvfrom() and an ACK less. Elsewhere the default stays the 1,472-byte
 * IPv4 safe payload.
 * @example
 * DEFAULT_LOOPBACK_DATAGRAM_BYTES //=> 32768
 */
export const DEFAULT_LOOPBACK_DATAGRAM_BYTES = 32_768;
/**
 * TIME_WAIT, ms: the side that closed first lingers 3 × RTO, within these bounds, to
 * acknowledge the peer's FIN again if its ACK was lost (TCP lingers 2 × MSL, a minute).
 */
const MIN_TIME_WAIT_MS = 200;
/** Least wait before a tail-loss probe, ms: one timer tick past a loopback RTT. */
const MIN_PROBE_MS = 2;
/**
 * Datagrams a tail-loss probe sends. RFC 9002 (6.2.4) lets a QUIC probe send two, "to avoid
 * an expensive consecutive PTO expiration due to a single lost datagram"; the second also
 * pushes out a first one a path holds back (netsim's reordering holds a datagram until the
 * next one passes).
 */
const PROBE_DATAGRAMS = 2;
const MAX_TIME_WAIT_MS = 2_000;
/**
 * Least reordering allowance of RACK loss detection, ms. Checked on each ACK with
 * `performance.now()`, not by a timer, so it need not be a timer tick: at 1 ms every loss on
 * loopback (RTT well under 1 ms) waited over a millisecond to be found.
 */
const MIN_REORDER_MS = 0.25;

/**
 * Where a connection is in its life. TCP's names, for the same ideas (see the README's
 * diagram).
 */
export type ConnectionState =
  | "SYN_SENT"
  | "SYN_RECEIVED"
  | "ESTABLISHED"
  | "FIN_WAIT_1"
  | "FIN_WAIT_2"
  | "CLOSING"
  | "TIME_WAIT"
  | "CLOSE_WAIT"
  | "LAST_ACK"
  | "CLOSED";

/** One segment as it left or arrived, for a trace. */
export interface SegmentEvent {
  readonly direction: "send" | "recv";
  readonly segment: Segment;
  /** A segment sent again (after a timeout or a fast retransmit). */
  readonly retransmit: boolean;
}

/** How a connection behaves; `connect()` and `listen()` take these. */
export interface ConnectionOptions extends RtoOptions {
  /** Receive window, segments; bounds the messages held per connection. @default DEFAULT_RECEIVE_WINDOW (256) */
  receiveWindow?: number;
  /** Most segments outstanding; a larger window advertised by the peer is clamped to it. @default DEFAULT_SEND_WINDOW (1024) */
  sendWindow?: number;
  /** Messages queued, not yet sent, before `send()` waits and `write()` returns false. @default DEFAULT_HIGH_WATER_MARK_MESSAGES (256) */
  highWaterMark?: number;
  /** Largest message, bytes; a larger `send()` rejects with ERR_DATAGRAM_TOO_LARGE. @default DEFAULT_MAX_MESSAGE_BYTES (1412) */
  maxMessageBytes?: number;
  /**
   * Largest datagram data segments written together are packed into, bytes (a single segment
   * may exceed it up to `maxMessageBytes` plus its header). @default UDP_SAFE_PAYLOAD_IPV4
   * (1472), or DEFAULT_LOOPBACK_DATAGRAM_BYTES (32768) when the peer is a loopback address
   */
  maxDatagramBytes?: number;
  /** First congestion window, segments. @default DEFAULT_INITIAL_CWND (10) */
  initialCwnd?: number;
  /**
   * Least congestion window a fast-retransmit loss leaves (and least ssthresh), segments; a
   * timeout still goes to 1. Above 2, random loss costs less throughput and the window
   * yields less to a congested path. @default DEFAULT_MIN_CWND (2)
   */
  minCwnd?: number;
  /**
   * Time the peer may stay silent while it owes an acknowledgement (data, FIN, a window
   * probe, the handshake on the server) before the connection fails with ERR_TIMEOUT, ms.
   * @default DEFAULT_PEER_TIMEOUT_MS (15000)
   */
  peerTimeoutMs?: number;
  /** Receives every segment sent and received: SEQ, ACK, SACK, retransmissions. @default none */
  onSegment?: (event: SegmentEvent) => void;
}

/** Options with their defaults, checked. */
export type ConnectionSettings = Required<
  Omit<ConnectionOptions, "onSegment" | "maxDatagramBytes">
> &
  Pick<ConnectionOptions, "onSegment" | "maxDatagramBytes">;

const DEFAULTS = {
  receiveWindow: DEFAULT_RECEIVE_WINDOW,
  sendWindow: DEFAULT_SEND_WINDOW,
  highWaterMark: DEFAULT_HIGH_WATER_MARK_MESSAGES,
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  initialCwnd: DEFAULT_INITIAL_CWND,
  minCwnd: DEFAULT_MIN_CWND,
  peerTimeoutMs: DEFAULT_PEER_TIMEOUT_MS,
  initialRtoMs: DEFAULT_INITIAL_RTO_MS,
  minRtoMs: DEFAULT_MIN_RTO_MS,
  maxRtoMs: DEFAULT_MAX_RTO_MS,
};

/**
 * Applies defaults and checks every connection option.
 * @throws {TypeError|RangeError} naming the option and the value.
 */
export function resolveConnectionOptions(
  options: ConnectionOptions,
  maxPayloadBytes: number,
): ConnectionSettings {
  const s = withDefaults(DEFAULTS, options);
  checkInteger("receiveWindow", s.receiveWindow, 1, MAX_ADVERTISED_WINDOW);
  checkInteger("sendWindow", s.sendWindow, 1, 2 ** 20);
  checkInteger("highWaterMark", s.highWaterMark, 1, 2 ** 31 - 1);
  checkInteger("maxMessageBytes", s.maxMessageBytes, 0, maxPayloadBytes - MAX_HEADER_BYTES);
  if (s.maxDatagramBytes !== undefined) {
    checkInteger("maxDatagramBytes", s.maxDatagramBytes, HEADER_BYTES, maxPayloadBytes);
  }
  checkInteger("initialCwnd", s.initialCwnd, 1, 2 ** 20);
  checkInteger("minCwnd", s.minCwnd, 1, 2 ** 20);
  checkInteger("peerTimeoutMs", s.peerTimeoutMs, 1, MAX_TIMER_MS);
  checkInteger("initialRtoMs", s.initialRtoMs, 1, MAX_TIMER_MS);
  checkInteger("minRtoMs", s.minRtoMs, 1, MAX_TIMER_MS);
  checkInteger("maxRtoMs", s.maxRtoMs, s.minRtoMs, MAX_TIMER_MS);
  if (s.onSegment !== undefined) checkFunction("onSegment", s.onSegment);
  return s;
}

/**
 * Counters and the sender's current estimates, as a snapshot.
 * @example
 * await using server = await listen("udp://127.0.0.1:0");
 * void (async () => {
 *   for await (const peer of server) for await (const message of peer) peer.write(message); // echo
 * })();
 * await using connection = await connect(server.endpoint);
 * await connection.send("Hello from client");
 * for await (const reply of connection) break;
 * connection.stats.messagesSent //=> 1
 * connection.stats.retransmissions // 0 on an idle loopback; 52 in one run over a lossy link
 */
export interface ReliableConnectionStats {
  /** Messages accepted by `send()`/`write()`. */
  readonly messagesSent: number;
  /** Messages delivered in order to this side. */
  readonly messagesReceived: number;
  /** Payload bytes accepted by `send()`/`write()`. */
  readonly bytesSent: number;
  /** Payload bytes delivered to this side. */
  readonly bytesReceived: number;
  /** Segments sent: handshake, data, FIN, ACKs, retransmissions. */
  readonly segmentsSent: number;
  /** Datagrams sent: data segments written together leave packed in fewer datagrams. */
  readonly datagramsSent: number;
  /** Datagrams received for this connection. */
  readonly segmentsReceived: number;
  /** Segments sent again (handshake included). */
  readonly retransmissions: number;
  /** Of those, sent again because later segments were acknowledged (fast retransmit). */
  readonly fastRetransmits: number;
  /** Retransmission timer expiries with data outstanding. */
  readonly timeouts: number;
  /** Losses the sender reacted to: one per fast-retransmit episode or timeout. */
  readonly lossEvents: number;
  /** Retransmissions found needless: the peer's timestamp echo shows the first copy arrived. */
  readonly spuriousRetransmissions: number;
  /** ACKs that acknowledged nothing new while data was outstanding. */
  readonly duplicateAcks: number;
  /** Data segments received more than once (dropped). */
  readonly duplicatesReceived: number;
  /** Data segments received ahead of a gap (held). */
  readonly outOfOrder: number;
  /** Data segments beyond the receive window (dropped). */
  readonly outOfWindow: number;
  /** Segments dropped because they acknowledge numbers never sent. */
  readonly invalidAcks: number;
  /** SACK ranges refused: empty, reversed, or past what was sent. */
  readonly invalidSacks: number;
  /** Advertised windows larger than `sendWindow`, clamped. */
  readonly clampedWindows: number;
  /** Handshake segments for a connection past its handshake (dropped). */
  readonly replayedHandshakes: number;
  /** Zero-window probes sent. */
  readonly windowProbes: number;
  /** Tail-loss probes sent: no ACK for 2 × SRTT, so two datagrams went (new data or the last segment). */
  readonly tailLossProbes: number;
  /** Datagrams dropped before reaching a connection: not a valid header (truncated, …). Client side. */
  readonly invalidSegments: number;
  /** Datagrams dropped for carrying another connection's id. Client side. */
  readonly foreignSegments: number;
  /** Smoothed RTT, ms (undefined before a sample). */
  readonly srttMs: number | undefined;
  /** RTT variation, ms. */
  readonly rttvarMs: number;
  /** Current retransmission timeout, ms. */
  readonly rtoMs: number;
  /** Congestion window, segments. */
  readonly cwnd: number;
  /** Slow-start threshold, segments. */
  readonly ssthresh: number;
  /** The window the peer last advertised (clamped), segments. */
  readonly peerWindow: number;
  /** Segments sent and not yet acknowledged. */
  readonly inFlight: number;
}

type Counters = {
  -readonly [K in keyof ReliableConnectionStats as ReliableConnectionStats[K] extends number
    ? K
    : never]: number;
};

/**
 * A reliable, ordered message connection over UDP. Iterate it to receive; the loop ends when
 * the peer closes and throws a {@link SocketError} when the connection fails (reset, dead
 * peer). A connection never emits an unhandled error.
 * @example Fragment: `connection` from connect() or a server's loop
 * for await (const message of connection) await connection.send(message);
 * await connection.close();
 */
export interface ReliableConnection extends AsyncIterable<Buffer>, AsyncDisposable {
  /** The connection id both sides put in every segment. */
  readonly id: number;
  readonly local: InetEndpoint;
  readonly remote: InetEndpoint;
  readonly state: ConnectionState;
  readonly stats: ReliableConnectionStats;
  /** Messages queued and not yet sent. */
  readonly bufferedMessages: number;
  /**
   * Sends one message (copied). Resolves at once while fewer than `highWaterMark` messages
   * wait to be sent, otherwise once they have drained to half of it. Delivery is confirmed
   * only by `close()` resolving after the peer acknowledged everything.
   * @throws {SocketError} (as a rejection) `ERR_DATAGRAM_TOO_LARGE` over `maxMessageBytes`,
   *   `ERR_SOCKET_CLOSED` after `close()`, or the connection's failure.
   */
  send(message: Uint8Array | string): Promise<void>;
  /**
   * `send()` without a promise: `false` once `highWaterMark` messages wait; then `await drain()`.
   * @throws {SocketError} what `send()` rejects with.
   */
  write(message: Uint8Array | string): boolean;
  /** Resolves once at most half of `highWaterMark` messages wait to be sent. */
  drain(): Promise<void>;
  /**
   * Sends what is queued, then the FIN, and waits for the peer's FIN (the close handshake);
   * stops receiving (unread messages are dropped, the loop ends). After `timeoutMs` it resets
   * the connection instead. Idempotent; never rejects.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
  /** Closes at once: sends RST; the loop and pending sends fail with `error` if given. */
  destroy(error?: Error): void;
  /** Resolves once the connection is CLOSED (after TIME_WAIT). Never rejects. */
  readonly closed: Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** What the client or the server gives a new connection. */
export interface ConnectionSetup {
  readonly connId: number;
  readonly role: "client" | "server";
  readonly local: InetEndpoint;
  readonly remote: InetEndpoint;
  readonly settings: ConnectionSettings;
  /** Sends one datagram to the peer; `false` asks to wait for `writable()`. */
  transmit(datagram: Buffer): boolean;
  /** Resolves when the socket takes datagrams again. */
  writable(): Promise<void>;
  /** The handshake completed. */
  onEstablished(): void;
  /** The connection reached CLOSED. */
  onClosed(): void;
  /** The server side: the client's SYN. */
  syn?: Segment;
}

const EMPTY = Buffer.alloc(0);
const noop = () => {};

/** The clock timestamps are taken on: µs modulo 2³², as on the wire. */
function nowTs(): number {
  return Math.floor(performance.now() * 1000) >>> 0;
}

function randomU32(nonZero: boolean): number {
  const value = (Math.random() * 2 ** 32) >>> 0;
  return nonZero && value === 0 ? 1 : value;
}

/** A random connection id: never 0. */
export function randomConnId(): number {
  return randomU32(true);
}

interface Outgoing {
  readonly payload: Buffer;
  readonly fin: boolean;
}

/** The connection. Created by `connect()` and `listen()`, not by users. */
export class Connection implements ReliableConnection {
  readonly id: number;
  readonly local: InetEndpoint;
  readonly remote: InetEndpoint;
  readonly closed: Promise<void>;
  readonly #setup: ConnectionSetup;
  readonly #s: ConnectionSettings;
  readonly #isn = randomU32(false);
  #peerIsn = 0;
  #state: ConnectionState;
  readonly #sw = new SendWindow();
  readonly #rw: ReceiveWindow;
  readonly #rto: RtoEstimator;
  readonly #cc: CongestionControl;
  readonly #inbox: AsyncQueue<Buffer>;
  #outbox: Outgoing[] = [];
  #outHead = 0;
  /** Right edge of the peer's window: numbers below it may be sent. */
  #peerEdge = 0;
  #peerWindow = 0;
  /** Highest acknowledgement seen, so an old, reordered ACK cannot shrink the window. */
  #peerAck = 0;
  #echo = 0;
  #lastAdvertised = 0;
  #ackScheduled = false;
  /** Data segments waiting to leave in one datagram, and that datagram's size so far. */
  #batch: OutgoingSegment[] = [];
  #batchBytes = 0;
  /** Largest datagram segments are packed into, bytes. */
  readonly #datagramCap: number;
  /** Average payload of the data segments sent lately, bytes (a moving average, 1/8 gain). */
  #segmentBytes = 0;
  /** A pump is due at the end of this turn: what `write()` queues leaves together. */
  #pumpScheduled = false;
  /** Segments of one datagram are being taken: ACKs wait until all of them are. */
  #receiving = false;
  #ackPending = false;
  #timer: NodeJS.Timeout | undefined;
  /** The armed timer is a tail-loss probe's, not the RTO's. */
  #probeTimer = false;
  /** A tail-loss probe went out since the last new acknowledgement. */
  #probed = false;
  /** Fires when a segment overtaken by the ACKs has waited long enough to count as lost. */
  #lossTimer: NodeJS.Timeout | undefined;
  #lossTimerAt = Number.POSITIVE_INFINITY;
  #closeTimer: NodeJS.Timeout | undefined;
  /** When the peer last showed life, or we started waiting for it (performance.now(), ms). */
  #lastProgress = performance.now();
  #recoveryPoint = 0;
  /** The recovery under way began with a timeout: the window slow-starts through it. */
  #timeoutRecovery = false;
  #blocked = false;
  #synTransmissions = 0;
  #finSeq: number | undefined;
  #receiveClosed = false;
  #error: SocketError | undefined;
  #drain: Deferred<void> | undefined;
  #closing: Promise<void> | undefined;
  readonly #settled: Promise<void>;
  #settle: () => void = noop;
  #resolveClosed: () => void = noop;
  #established: { resolve(): void; reject(e: unknown): void } | undefined;
  readonly established: Promise<void>;
  readonly #counters: Counters = {
    messagesSent: 0,
    messagesReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    segmentsSent: 0,
    datagramsSent: 0,
    segmentsReceived: 0,
    retransmissions: 0,
    fastRetransmits: 0,
    timeouts: 0,
    lossEvents: 0,
    spuriousRetransmissions: 0,
    duplicateAcks: 0,
    duplicatesReceived: 0,
    outOfOrder: 0,
    outOfWindow: 0,
    invalidAcks: 0,
    invalidSacks: 0,
    clampedWindows: 0,
    replayedHandshakes: 0,
    windowProbes: 0,
    tailLossProbes: 0,
    invalidSegments: 0,
    foreignSegments: 0,
    rttvarMs: 0,
    rtoMs: 0,
    cwnd: 0,
    ssthresh: 0,
    peerWindow: 0,
    inFlight: 0,
  };

  constructor(setup: ConnectionSetup) {
    this.#setup = setup;
    this.#s = setup.settings;
    this.id = setup.connId;
    this.local = setup.local;
    this.remote = setup.remote;
    this.#rw = new ReceiveWindow(this.#s.receiveWindow);
    const datagramBytes =
      this.#s.maxDatagramBytes ??
      (isLoopback(this.remote.host) ? DEFAULT_LOOPBACK_DATAGRAM_BYTES : UDP_SAFE_PAYLOAD_IPV4);
    this.#datagramCap = Math.max(datagramBytes, MAX_HEADER_BYTES + this.#s.maxMessageBytes);
    this.#rto = new RtoEstimator(this.#s);
    this.#cc = new CongestionControl(this.#s.initialCwnd, this.#s.sendWindow, this.#s.minCwnd);
    this.#inbox = new AsyncQueue({ onRead: () => this.#onRead() });
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#settled = new Promise((resolve) => {
      this.#settle = resolve;
    });
    this.established = new Promise((resolve, reject) => {
      this.#established = { resolve, reject };
    });
    this.established.catch(noop);
    const syn = setup.syn;
    if (syn === undefined) {
      this.#state = "SYN_SENT";
      this.#sendSyn();
    } else {
      // accept(): a SYN made this connection; answer it with our own initial number.
      this.#state = "SYN_RECEIVED";
      this.#peerIsn = syn.seq;
      this.#echo = syn.timestamp;
      this.#setPeerWindow(0, syn.window);
      this.#sendSyn();
    }
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get bufferedMessages(): number {
    return this.#outbox.length - this.#outHead;
  }

  get stats(): ReliableConnectionStats {
    const c = this.#counters;
    c.rttvarMs = this.#rto.rttvarMs;
    c.rtoMs = this.#rto.rtoMs;
    c.cwnd = this.#cc.cwnd;
    c.ssthresh = this.#cc.ssthresh;
    c.peerWindow = this.#peerWindow;
    c.inFlight = this.#sw.size;
    return { ...c, srttMs: this.#rto.srttMs };
  }

  // ---- sending -------------------------------------------------------------------------

  send(message: Uint8Array | string): Promise<void> {
    try {
      return this.write(message) ? Promise.resolve() : this.drain();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  write(message: Uint8Array | string): boolean {
    if (this.#error !== undefined) throw this.#error;
    if (this.#finSeq !== undefined || this.#closing !== undefined || this.#state === "CLOSED") {
      throw closedError("send");
    }
    const payload =
      typeof message === "string"
        ? Buffer.from(message)
        : message instanceof Uint8Array
          ? Buffer.from(message)
          : undefined;
    if (payload === undefined) {
      throw invalidArgType(
        "message argument",
        "of type string or an instance of Uint8Array",
        message,
      );
    }
    if (payload.length > this.#s.maxMessageBytes) {
      throw new SocketError(
        ErrorCode.ERR_DATAGRAM_TOO_LARGE,
        `message of ${payload.length.toLocaleString("en-US")} bytes is larger than maxMessageBytes ${this.#s.maxMessageBytes.toLocaleString("en-US")}`,
        {
          hint: "One message is one segment: split it, or raise maxMessageBytes (up to the UDP payload limit minus 60 bytes of header).",
        },
      );
    }
    this.#counters.messagesSent++;
    this.#counters.bytesSent += payload.length;
    this.#outbox.push({ payload, fin: false });
    this.#schedulePump();
    return this.bufferedMessages < this.#s.highWaterMark;
  }

  drain(): Promise<void> {
    if (this.#error !== undefined) return rejected(this.#error);
    if (this.bufferedMessages <= this.#s.highWaterMark >> 1) return Promise.resolve();
    if (this.#state === "CLOSED") return rejected(closedError("wait to send"));
    if (this.#drain === undefined) {
      this.#drain = deferred<void>();
      this.#drain.promise.catch(noop);
    }
    return this.#drain.promise;
  }

  /**
   * Pumps once the caller's synchronous writes are done (a microtask), so that messages
   * written in one go leave packed into as few datagrams as fit: the autocorking of Linux
   * TCP, the per-flush packing of KCP.
   */
  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  /** Sends what the windows allow: lost segments first, then new ones. */
  #pump(): void {
    if (this.#blocked || !this.#isOpen()) {
      this.#flush();
      return;
    }
    const sw = this.#sw;
    const firstNew = sw.next;
    // Each turn sends one segment; the congestion window bounds the turns.
    while (sw.pipe < this.#cc.cwnd) {
      const lost = sw.nextLost();
      if (lost !== undefined) {
        this.#counters.retransmissions++;
        if (lost.lost === "ack") this.#counters.fastRetransmits++;
        this.#sendData(lost, true);
        if (this.#blocked) break;
        continue;
      }
      const next = this.#outbox[this.#outHead];
      if (next === undefined) break;
      if (!next.fin && sw.next >= this.#peerEdge) break;
      this.#shiftOutbox();
      this.#sendNew(next);
      if (this.#blocked) break;
    }
    this.#flush();
    const drain = this.#drain;
    if (drain !== undefined && this.bufferedMessages <= this.#s.highWaterMark >> 1) {
      this.#drain = undefined;
      drain.resolve();
    }
    // Data now in flight that had none to probe for: the tail-loss probe goes first. New data
    // restarts a pending probe's timer (RFC 8985 7.2): the probe is for the tail, and the
    // tail just moved; else it fired right after new data left and sent that again.
    const restart = this.#probeTimer ? sw.next > firstNew : this.#probeDue();
    if (this.#timer !== undefined && restart) this.#stopTimer();
    this.#armTimer();
  }

  /** Whether the next timer should be a tail-loss probe rather than the RTO. */
  #probeDue(): boolean {
    return !this.#probed && this.#rto.srttMs !== undefined && this.#sw.size > 0 && this.#isOpen();
  }

  #shiftOutbox(): void {
    this.#outbox[this.#outHead++] = undefined as unknown as Outgoing;
    if (this.#outHead === this.#outbox.length) {
      this.#outbox = [];
      this.#outHead = 0;
    } else if (this.#outHead > 1024 && this.#outHead * 2 > this.#outbox.length) {
      this.#outbox = this.#outbox.slice(this.#outHead);
      this.#outHead = 0;
    }
  }

  #sendNew(item: Outgoing): void {
    this.#segmentBytes += (item.payload.length - this.#segmentBytes) / 8;
    if (this.#sw.size === 0) this.#lastProgress = Math.max(this.#lastProgress, performance.now());
    const segment = this.#sw.add(item.payload, item.fin);
    if (item.fin) this.#finSeq = segment.seq;
    this.#sendData(segment, false);
  }

  #sendData(segment: OutstandingSegment, retransmit: boolean): void {
    const samePacket = this.#batch.length > 0 && this.#fits(segment.payload.length);
    const ts = this.#transmit(
      segment.fin ? SegmentType.FIN : SegmentType.DATA,
      wrapSeq(segment.seq, this.#isn),
      segment.payload,
      retransmit,
    );
    this.#sw.transmitted(segment, ts, performance.now(), samePacket);
  }

  /** Whether a data segment of `payloadBytes` still fits the datagram being packed. */
  #fits(payloadBytes: number): boolean {
    const added = headerBytes(this.#rw.sack().length) + payloadBytes + PACKED_LENGTH_BYTES;
    return this.#batchBytes + added <= this.#datagramCap;
  }

  /** Sends the packed data segments as one datagram. */
  #flush(): void {
    const batch = this.#batch;
    if (batch.length === 0) return;
    this.#batch = [];
    this.#batchBytes = 0;
    this.#send(encodeSegments(batch));
  }

  /** sendto(): one datagram; a full socket buffer blocks sending until it drains. */
  #send(datagram: Buffer): void {
    this.#counters.datagramsSent++;
    if (!this.#setup.transmit(datagram) && !this.#blocked) {
      this.#blocked = true;
      this.#setup.writable().then(() => {
        this.#blocked = false;
        this.#pump();
      }, noop);
    }
  }

  #sendSyn(): void {
    this.#synTransmissions++;
    if (this.#synTransmissions > 1) this.#counters.retransmissions++;
    const type = this.#setup.role === "client" ? SegmentType.SYN : SegmentType.SYN_ACK;
    this.#transmit(type, this.#isn, EMPTY, this.#synTransmissions > 1);
    this.#armTimer();
  }

  #sendAck(): void {
    if (this.#receiving) {
      // One ACK for the whole datagram, once all of its segments are taken.
      this.#ackPending = true;
      return;
    }
    this.#transmit(SegmentType.ACK, wrapSeq(this.#sw.next, this.#isn), EMPTY, false);
  }

  #scheduleAck(): void {
    if (this.#ackScheduled) return;
    this.#ackScheduled = true;
    // Delayed ACK: every segment read in this turn of the event loop gets one ACK.
    setImmediate(() => {
      if (this.#ackScheduled && this.#state !== "CLOSED") this.#sendAck();
    });
  }

  /** Encodes and sends one segment with the current ACK, window, SACK; returns its timestamp. */
  #transmit(type: SegmentType, seq: number, payload: Buffer, retransmit: boolean): number {
    const timestamp = nowTs();
    const window = this.#room();
    const peerIsn = this.#peerIsn;
    const pages = type === SegmentType.SYN || type === SegmentType.RST ? [] : this.#rw.sackPages();
    const wrapped = (page: readonly { start: number; end: number }[]) =>
      page.map((r) => ({ start: wrapSeq(r.start, peerIsn), end: wrapSeq(r.end, peerIsn) }));
    const header: SegmentHeader = {
      type,
      connId: this.id,
      seq,
      ack: type === SegmentType.SYN ? 0 : wrapSeq(this.#rw.next, peerIsn),
      window,
      timestamp,
      echo: this.#echo,
      sack: wrapped(pages[0] ?? []),
    };
    // Ranges changed since the last segment and beyond what one header holds: ACKs of their own.
    for (const page of pages.slice(1)) {
      const ack: SegmentHeader = {
        ...header,
        type: SegmentType.ACK,
        seq: wrapSeq(this.#sw.next, this.#isn),
        sack: wrapped(page),
      };
      this.#counters.segmentsSent++;
      this.#s.onSegment?.({
        direction: "send",
        segment: { ...ack, payload: EMPTY },
        retransmit: false,
      });
      this.#send(encodeSegments([{ header: ack, payload: EMPTY }]));
    }
    this.#lastAdvertised = window;
    this.#ackScheduled = false;
    this.#ackPending = false;
    this.#counters.segmentsSent++;
    this.#s.onSegment?.({ direction: "send", segment: { ...header, payload }, retransmit });
    if (type === SegmentType.DATA || type === SegmentType.FIN) {
      // Packed with the other data segments of this pump; sent when it ends or fills up.
      const bytes = headerBytes(header.sack.length) + payload.length;
      if (
        this.#batch.length > 0 &&
        this.#batchBytes + bytes + PACKED_LENGTH_BYTES > this.#datagramCap
      ) {
        this.#flush();
      }
      this.#batchBytes += bytes + (this.#batch.length > 0 ? PACKED_LENGTH_BYTES : 0);
      this.#batch.push({ header, payload });
    } else {
      this.#flush();
      this.#send(encodeSegments([{ header, payload }]));
    }
    return timestamp;
  }

  /** Receive window left beyond the cumulative ACK, segments. */
  #room(): number {
    return this.#receiveClosed ? this.#rw.capacity : this.#rw.capacity - this.#inbox.length;
  }

  #onRead(): void {
    const room = this.#room();
    // Window update: tell a sender that stopped on a (nearly) closed window that it opened.
    if (this.#lastAdvertised < this.#rw.capacity >> 2 && room >= this.#rw.capacity >> 1) {
      this.#scheduleAck();
    }
  }

  // ---- receiving -----------------------------------------------------------------------

  /** Counts a datagram its socket dropped before it reached a connection (client side). */
  countDropped(kind: "invalidSegments" | "foreignSegments"): void {
    this.#counters[kind]++;
  }

  /**
   * Takes the segments of one datagram (all with this connection's id, from its peer's
   * address): they are acknowledged together, and what they let us send leaves together.
   */
  receiveAll(segments: readonly Segment[]): void {
    this.#receiving = true;
    try {
      for (const segment of segments) this.#receive(segment);
    } finally {
      this.#receiving = false;
    }
    if (this.#ackPending && this.#state !== "CLOSED") this.#sendAck();
    this.#pump();
  }

  /** Takes one segment with this connection's id, from its peer's address. */
  #receive(segment: Segment): void {
    if (this.#state === "CLOSED") return;
    this.#counters.segmentsReceived++;
    this.#s.onSegment?.({ direction: "recv", segment, retransmit: false });
    switch (segment.type) {
      case SegmentType.RST:
        this.destroy(
          new SocketError("ECONNRESET", `connection reset by ${formatAddress(this.remote)}`, {
            hint: "The peer aborted the connection (or refused it: a server at maxConnections does).",
          }),
          false,
        );
        return;
      case SegmentType.SYN:
        // A SYN we already answered and whose SYN_ACK may be lost: answer again. Anything
        // else is a replay.
        if (this.#state === "SYN_RECEIVED" && segment.seq === this.#peerIsn) this.#sendSyn();
        else this.#counters.replayedHandshakes++;
        return;
      case SegmentType.SYN_ACK:
        this.#onSynAck(segment);
        return;
    }
    if (this.#state === "SYN_SENT") {
      this.#counters.invalidAcks++;
      return;
    }
    const sw = this.#sw;
    const una = sw.una;
    const ack = unwrapSeq(segment.ack, this.#isn, una);
    if (ack > sw.next) {
      // An ACK for numbers never sent: a forged or corrupt segment. Drop it whole.
      this.#counters.invalidAcks++;
      return;
    }
    this.#lastProgress = performance.now();
    if (this.#state === "SYN_RECEIVED") {
      this.#state = "ESTABLISHED";
      this.#stopTimer();
      this.#established?.resolve();
      this.#setup.onEstablished();
    }
    const ranges = segment.sack.map((r) => ({
      start: unwrapSeq(r.start, this.#isn, una),
      end: unwrapSeq(r.end, this.#isn, una),
    }));
    const now = performance.now();
    const outcome = sw.acknowledge(ack, ranges, now, this.#reorderMs(), this.#rto.minRttMs);
    if (ack >= this.#peerAck) {
      this.#peerAck = ack;
      this.#setPeerWindow(ack, segment.window);
    }
    this.#onAcknowledged(outcome, una, segment);
    if (segment.type !== SegmentType.ACK) this.#onData(segment);
  }

  #setPeerWindow(ack: number, window: number): void {
    if (window > this.#s.sendWindow) this.#counters.clampedWindows++;
    this.#peerWindow = Math.min(window, this.#s.sendWindow);
    this.#peerEdge = ack + this.#peerWindow;
  }

  #onSynAck(segment: Segment): void {
    if (this.#setup.role !== "client") {
      this.#counters.replayedHandshakes++;
      return;
    }
    if (this.#state !== "SYN_SENT") {
      // Our ACK of it was lost and the server sent it again: acknowledge it again.
      if (segment.seq === this.#peerIsn && segment.ack === this.#isn) this.#sendAck();
      else this.#counters.replayedHandshakes++;
      return;
    }
    if (segment.ack !== this.#isn) {
      this.#counters.invalidAcks++;
      return;
    }
    // connect() done: both initial numbers are known, and acknowledged.
    this.#peerIsn = segment.seq;
    this.#state = "ESTABLISHED";
    this.#lastProgress = performance.now();
    if (this.#synTransmissions === 1 && segment.echo !== 0) {
      this.#rto.sample(((nowTs() - segment.echo) >>> 0) / 1000);
    }
    this.#setPeerWindow(0, segment.window);
    this.#stopTimer();
    this.#sendAck();
    this.#established?.resolve();
    this.#setup.onEstablished();
    this.#pump();
  }

  #onAcknowledged(outcome: AckOutcome, una: number, segment: Segment): void {
    const c = this.#counters;
    c.invalidSacks += outcome.invalidRanges;
    const sw = this.#sw;
    const newly = outcome.acked + outcome.sacked;
    // Fast recovery holds the window at its cut until the losses are repaired; after a
    // timeout the window starts from 1 and slow start grows it on each ACK (RFC 5681 3.1),
    // else every segment the timeout marked lost would wait a round trip of its own.
    const inRecovery = una < this.#recoveryPoint && !this.#timeoutRecovery;
    if (newly > 0 && !inRecovery) this.#cc.onAck(newly, this.#perDatagram());
    const first = outcome.first;
    if (first !== undefined && segment.echo !== 0) {
      if (first.transmissions === 1) {
        // Karn's rule: only a segment sent once gives an RTT sample.
        const rttMs = ((nowTs() - segment.echo) >>> 0) / 1000;
        if (rttMs < this.#s.maxRtoMs) this.#rto.sample(rttMs);
      } else if (((first.sentTs - segment.echo) | 0) > 0) {
        // The ACK echoes a timestamp older than the retransmission: the first copy arrived.
        c.spuriousRetransmissions++;
        this.#cc.undo();
        sw.markReordered();
      }
    }
    if (newly === 0 && segment.type === SegmentType.ACK && sw.size > 0 && segment.sack.length > 0) {
      c.duplicateAcks++;
    }
    this.#onLost(outcome.lost);
    this.#armLossTimer(outcome.recheckAt);
    if (this.#finSeq !== undefined && sw.una > this.#finSeq) this.#onFinAcked();
    if (sw.una > una || (outcome.sacked > 0 && this.#probeTimer)) {
      // RFC 6298 5.3: new data acknowledged restarts the timer (or stops it: nothing left).
      // Data newly SACKed restarts a tail-loss probe's timer too (RFC 9002 6.2.1: any packet
      // newly acknowledged): the path delivers, and RACK repairs the holes below.
      if (sw.una > una) this.#probed = false;
      this.#stopTimer();
      this.#armTimer();
    }
  }

  /** Segments of the average size lately sent that one full datagram holds (at least 1). */
  #perDatagram(): number {
    const segment = HEADER_BYTES + PACKED_LENGTH_BYTES + this.#segmentBytes;
    return Math.max(1, Math.floor((this.#datagramCap + PACKED_LENGTH_BYTES) / segment));
  }

  /** Segments just marked lost: a new loss episode halves the window, once per window. */
  #onLost(lost: number): void {
    const sw = this.#sw;
    if (lost > 0 && sw.una >= this.#recoveryPoint) {
      this.#cc.onLoss();
      this.#recoveryPoint = sw.next;
      this.#timeoutRecovery = false;
      this.#counters.lossEvents++;
    }
  }

  /**
   * How long a segment may stay unacknowledged after a later one was acknowledged before it
   * counts as lost: none while the path has never reordered (RACK's reordering window starts
   * at 0, RFC 8985 6.2), so a loss is repaired on the first ACK that shows it; once it has,
   * SRTT plus a quarter of it (at least MIN_REORDER_MS).
   */
  #reorderMs(): number {
    const srtt = this.#rto.srttMs;
    if (srtt === undefined) return Number.POSITIVE_INFINITY;
    return this.#sw.reordered ? srtt + Math.max(srtt / 4, MIN_REORDER_MS) : 0;
  }

  #armLossTimer(at: number): void {
    if (!Number.isFinite(at) || at >= this.#lossTimerAt) return;
    clearTimeout(this.#lossTimer);
    this.#lossTimerAt = at;
    // After the waiting input: an ACK there may show the segments arrived after all.
    const timer = setTimeoutAfterInput(
      () => {
        if (this.#lossTimer !== timer) return;
        this.#lossTimer = undefined;
        this.#lossTimerAt = Number.POSITIVE_INFINITY;
        if (!this.#isOpen()) return;
        const { lost, recheckAt } = this.#sw.detectLost(performance.now(), this.#reorderMs());
        this.#onLost(lost);
        this.#armLossTimer(recheckAt);
        this.#pump();
      },
      Math.max(1, Math.ceil(at - performance.now())),
    );
    timer.unref();
    this.#lossTimer = timer;
  }

  #onData(segment: Segment): void {
    const seq = unwrapSeq(segment.seq, this.#peerIsn, this.#rw.next);
    const fin = segment.type === SegmentType.FIN;
    const { arrival, delivered } = this.#rw.accept(seq, segment.payload, fin, this.#room());
    const c = this.#counters;
    if (arrival === "in-order") {
      this.#echo = segment.timestamp;
      let finished = false;
      for (const item of delivered) {
        if (item.fin) {
          finished = true;
          continue;
        }
        if (this.#receiveClosed) continue;
        c.messagesReceived++;
        c.bytesReceived += item.payload.length;
        this.#inbox.push(item.payload);
      }
      if (finished) {
        this.#sendAck();
        this.#onPeerFin();
      } else this.#scheduleAck();
      return;
    }
    if (arrival === "out-of-order") c.outOfOrder++;
    else if (arrival === "duplicate") c.duplicatesReceived++;
    else c.outOfWindow++;
    // Out of order, duplicate, out of window: ACK in this turn still, so the sender learns of
    // the gap at once; one ACK (with SACK ranges) covers every datagram read in the turn.
    this.#scheduleAck();
  }

  // ---- closing -------------------------------------------------------------------------

  #onPeerFin(): void {
    this.#inbox.end();
    switch (this.#state) {
      case "ESTABLISHED":
        this.#state = "CLOSE_WAIT";
        break;
      case "FIN_WAIT_1":
        this.#state = "CLOSING";
        break;
      case "FIN_WAIT_2":
        this.#timeWait();
        break;
    }
  }

  #onFinAcked(): void {
    switch (this.#state) {
      case "FIN_WAIT_1":
        this.#state = "FIN_WAIT_2";
        break;
      case "CLOSING":
        this.#timeWait();
        break;
      case "LAST_ACK":
        this.#finish();
        break;
    }
  }

  /** Both FINs are acknowledged; linger to acknowledge the peer's FIN again if our ACK is lost. */
  #timeWait(): void {
    this.#state = "TIME_WAIT";
    this.#stopTimer();
    this.#settle();
    const linger = Math.min(Math.max(3 * this.#rto.rtoMs, MIN_TIME_WAIT_MS), MAX_TIME_WAIT_MS);
    this.#closeTimer = setTimeout(() => this.#finish(), linger);
    this.#closeTimer.unref();
  }

  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(
      checkInteger("timeoutMs", options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS, 0, MAX_TIMER_MS),
    );
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    if (this.#state === "CLOSED") return;
    if (this.#state === "SYN_SENT" || this.#state === "SYN_RECEIVED") {
      this.destroy();
      return;
    }
    // close(): no more reading; what arrives from now on is acknowledged and dropped.
    this.#receiveClosed = true;
    this.#inbox.clear();
    if (this.#finSeq === undefined) {
      this.#state = this.#state === "CLOSE_WAIT" ? "LAST_ACK" : "FIN_WAIT_1";
      this.#outbox.push({ payload: EMPTY, fin: true });
      this.#pump();
    }
    const deadline = setTimeout(() => this.destroy(), timeoutMs);
    deadline.unref();
    await this.#settled;
    clearTimeout(deadline);
  }

  destroy(error?: Error, reset = true): void {
    if (this.#state === "CLOSED") return;
    const wasOpen = this.#state !== "TIME_WAIT";
    if (reset && wasOpen)
      this.#transmit(SegmentType.RST, wrapSeq(this.#sw.next, this.#isn), EMPTY, false);
    this.#state = "CLOSED";
    const failure = error === undefined ? undefined : asSocketError(error);
    this.#error = failure;
    if (failure === undefined) this.#inbox.end();
    else this.#inbox.fail(failure);
    this.#finish();
  }

  #finish(): void {
    this.#state = "CLOSED";
    this.#stopTimer();
    clearTimeout(this.#lossTimer);
    clearTimeout(this.#closeTimer);
    this.#ackScheduled = false;
    this.#batch = [];
    this.#batchBytes = 0;
    this.#outbox = [];
    this.#outHead = 0;
    this.#inbox.end();
    const error = this.#error ?? closedError("send");
    this.#drain?.reject(error);
    this.#drain = undefined;
    this.#established?.reject(error);
    this.#established = undefined;
    this.#settle();
    this.#resolveClosed();
    this.#setup.onClosed();
  }

  #isOpen(): boolean {
    const state = this.#state;
    return (
      state !== "SYN_SENT" &&
      state !== "SYN_RECEIVED" &&
      state !== "CLOSED" &&
      state !== "TIME_WAIT"
    );
  }

  // ---- the retransmission timer ------------------------------------------------------------

  /** Whether something waits on the peer: the handshake, unacknowledged data, a closed window. */
  #waiting(): boolean {
    const state = this.#state;
    if (state === "SYN_SENT" || state === "SYN_RECEIVED") return true;
    if (!this.#isOpen()) return false;
    return this.#sw.size > 0 || this.bufferedMessages > 0;
  }

  #armTimer(): void {
    if (this.#timer !== undefined || !this.#waiting()) return;
    let delay = this.#rto.rtoMs;
    // Tail-loss probe (RFC 8985): after 2 × SRTT without an ACK, before the RTO.
    const srtt = this.#rto.srttMs;
    this.#probeTimer = false;
    if (srtt !== undefined && this.#probeDue()) {
      const pto = Math.max(2 * srtt, MIN_PROBE_MS);
      if (pto < delay) {
        delay = pto;
        this.#probeTimer = true;
      }
    }
    if (this.#state !== "SYN_SENT") {
      const left = this.#lastProgress + this.#s.peerTimeoutMs - performance.now();
      delay = Math.min(delay, Math.max(1, Math.ceil(left)));
    }
    // After the waiting input: an ACK there stops a needless retransmission.
    const timer = setTimeoutAfterInput(() => {
      if (this.#timer === timer) this.#onTimer();
    }, delay);
    timer.unref();
    this.#timer = timer;
  }

  #stopTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#probeTimer = false;
  }

  #onTimer(): void {
    this.#timer = undefined;
    if (!this.#waiting()) return;
    const state = this.#state;
    if (this.#probeTimer) {
      this.#probeTimer = false;
      this.#probed = true;
      this.#tailLossProbe();
      this.#flush();
      this.#armTimer();
      return;
    }
    const silentMs = performance.now() - this.#lastProgress;
    if (state !== "SYN_SENT" && silentMs >= this.#s.peerTimeoutMs) {
      this.destroy(
        new SocketError(
          ErrorCode.ERR_TIMEOUT,
          `peer ${formatAddress(this.remote)} stopped answering: nothing heard for ${Math.round(silentMs)} ms while it owed an acknowledgement`,
          {
            hint: "The peer is gone or the path drops everything; raise peerTimeoutMs for slow links.",
          },
        ),
      );
      return;
    }
    if (state === "SYN_SENT" || state === "SYN_RECEIVED") {
      this.#rto.backoff();
      this.#sendSyn();
      return;
    }
    const sw = this.#sw;
    if (sw.size > 0) {
      // RFC 6298 5.4–5.6: send the oldest again, back off, start over from one segment.
      this.#rto.backoff();
      this.#counters.timeouts++;
      this.#counters.lossEvents++;
      this.#cc.onTimeout(sw.size);
      sw.timeout();
      this.#recoveryPoint = sw.next;
      this.#timeoutRecovery = true;
      // Two datagrams, as a probe timeout sends (RFC 9002 6.2.4), not the one segment a
      // window of 1 allows: a lone retransmission that the path drops or holds back (netsim
      // holds a reordered datagram until the next one passes) costs another, doubled, RTO.
      for (let i = 0; i < PROBE_DATAGRAMS && !this.#blocked; i++) {
        const lost = sw.nextLost();
        if (lost === undefined) this.#probeSegment();
        else {
          this.#counters.retransmissions++;
          this.#sendData(lost, true);
        }
        this.#flush();
      }
    } else if (this.bufferedMessages > 0 && !this.#blocked) {
      // Zero window: one segment past it asks the peer for its window again.
      this.#rto.backoff();
      this.#counters.windowProbes++;
      const next = this.#outbox[this.#outHead] as Outgoing;
      this.#shiftOutbox();
      this.#sendNew(next);
    }
    this.#pump();
  }

  /**
   * Draws an ACK (with SACK ranges) out of the peer: {@link PROBE_DATAGRAMS} datagrams, each
   * with one segment — new data if the windows allow it, else the last segment again.
   */
  #tailLossProbe(): void {
    this.#counters.tailLossProbes++;
    for (let i = 0; i < PROBE_DATAGRAMS && !this.#blocked; i++) {
      this.#probeSegment();
      this.#flush();
    }
  }

  #probeSegment(): void {
    const sw = this.#sw;
    const next = this.#outbox[this.#outHead];
    if (next !== undefined && (next.fin || sw.next < this.#peerEdge)) {
      this.#shiftOutbox();
      this.#sendNew(next);
      return;
    }
    const last = sw.last();
    if (last === undefined) return;
    this.#counters.retransmissions++;
    this.#sendData(last, true);
  }

  // ---- iteration -----------------------------------------------------------------------

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this.#inbox.iterate();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function closedError(what: string): SocketError {
  return new SocketError(ErrorCode.ERR_SOCKET_CLOSED, `cannot ${what}: the connection is closed`, {
    hint: "Open a new connection; a closed one cannot be reused.",
  });
}

function asSocketError(error: Error): SocketError {
  if (error instanceof SocketError) return error;
  return new SocketError(ErrorCode.ERR_UNKNOWN, error.message, { cause: error });
}

function rejected(error: unknown): Promise<never> {
  const promise = Promise.reject(error);
  promise.catch(noop);
  return promise;
}
