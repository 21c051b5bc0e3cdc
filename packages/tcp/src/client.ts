/**
 * A stream client: socket → connect, with a timeout per attempt, retries with capped
 * exponential backoff, and an AbortSignal.
 */

import { lookup } from "node:dns/promises";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import tls from "node:tls";
import {
  type BackoffOptions,
  DEFAULT_CONNECT_TIMEOUT_MS,
  descriptorOf,
  type Endpoint,
  ErrorCode,
  explain,
  formatAddress,
  SocketError,
  type TraceListener,
} from "@socket-lab/core";
import {
  abortReason,
  backoffDelay,
  checkFunction,
  checkInteger,
  checkNumber,
  checkSignal,
  invalidArgValue,
  MAX_TIMER_MS,
  onAbort,
  raceAbort,
  setTimeoutAfterInput,
  throwIfAborted,
  withDefaults,
} from "@socket-lab/core/internal";
import {
  type Connection,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_MAX_MESSAGES_PER_TURN,
  TcpConnection,
} from "./connection.js";
import type { Framing } from "./framing.js";
import { socketEndpoints, streamAttributes, streamEndpoint } from "./internal/endpoints.js";
import { checkFraming } from "./internal/options.js";
import { noop } from "./internal/promises.js";
import { lines } from "./line-framing.js";
import {
  applySocketSettings,
  type SocketControls,
  type SocketSettings,
  socketSettings,
} from "./socket-controls.js";
import {
  checkTlsConnectOptions,
  type TlsConnectOptions,
  tlsConnectOptions,
  traceHandshake,
} from "./tls.js";

/**
 * The waits between connect attempts when `ConnectOptions.backoff` leaves a field out: 100 ms,
 * 200 ms, … 2 s. The shape is core's {@link BackoffOptions}.
 * @example
 * DEFAULT_CONNECT_BACKOFF //=> { initialMs: 100, maxMs: 2000, factor: 2 }
 */
export const DEFAULT_CONNECT_BACKOFF: Readonly<Required<BackoffOptions>> = Object.freeze({
  initialMs: 100,
  maxMs: 2_000,
  factor: 2,
});

/** @deprecated Renamed {@link DEFAULT_CONNECT_BACKOFF}. */
export const DEFAULT_BACKOFF = DEFAULT_CONNECT_BACKOFF;

/** Default resends of a failed connect: 0, since the kernel already retransmits the SYN. */
export const DEFAULT_CONNECT_RETRIES = 0;

/**
 * How {@link connect} connects, and how the connection behaves.
 * @example
 * const options: ConnectOptions<Buffer> = {
 *   framing: lengthPrefixed(),
 *   connectTimeoutMs: 2_000,
 *   retries: 3,
 *   signal: AbortSignal.timeout(10_000),
 * };
 */
export interface ConnectOptions<M = string> extends SocketControls {
  /** How messages are written to and read from the byte stream. @default lines() */
  framing?: Framing<M>;
  /**
   * Time one attempt may take before it fails with `ERR_TIMEOUT`, in ms; 0 leaves it to the
   * system. For `localhost` the attempt covers both ::1 and 127.0.0.1.
   * @default DEFAULT_CONNECT_TIMEOUT_MS (10000)
   */
  connectTimeoutMs?: number;
  /**
   * Attempts made after the first one fails, in attempts. 0 by default: the kernel already
   * resends the SYN within one attempt (`net.ipv4.tcp_syn_retries`).
   * @default DEFAULT_CONNECT_RETRIES (0)
   */
  retries?: number;
  /**
   * Waits between attempts: wait n is `min(initialMs × factor^n, maxMs)`, in ms.
   * @default DEFAULT_CONNECT_BACKOFF ({ initialMs: 100, maxMs: 2000, factor: 2 })
   * @example
   * await using server = await listen(":0");
   * await using connection = await connect(server.endpoint, { retries: 5, backoff: { initialMs: 50, maxMs: 400 } });
   * // with no server there: waits 50, 100, 200, 400, 400 ms between the six attempts
   */
  backoff?: BackoffOptions;
  /**
   * Cancels connecting (an attempt or a wait between attempts): the promise rejects with
   * `signal.reason` (a DOMException `AbortError` for `controller.abort()`) and the socket is
   * destroyed. Once connected, the signal is not used any more.
   * @default none
   */
  signal?: AbortSignal;
  /** Receives socket and connect for every attempt, then send, recv, shutdown, close. */
  trace?: TraceListener;
  /**
   * Time the connection may go without reading or writing before it fails with `ERR_TIMEOUT`
   * and is closed, in ms; 0 disables.
   * @default 0
   */
  idleTimeoutMs?: number;
  /**
   * Bytes the connection buffers before `send()` waits for 'drain', in bytes.
   * @default DEFAULT_HIGH_WATER_MARK (65536, 64 KiB)
   */
  highWaterMark?: number;
  /**
   * Whom to trust for a `tls://` endpoint: `{ ca, servername, insecure }`; refused for others.
   * The handshake is part of each attempt, so `connectTimeoutMs` covers it.
   * @default undefined (the system's CAs; the endpoint's host name is checked)
   */
  tls?: TlsConnectOptions;
}

interface ClientSettings {
  connectTimeoutMs?: number;
  retries?: number;
  idleTimeoutMs?: number;
  highWaterMark?: number;
}

const DEFAULTS: Required<ClientSettings> = {
  connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
  retries: DEFAULT_CONNECT_RETRIES,
  idleTimeoutMs: 0,
  highWaterMark: DEFAULT_HIGH_WATER_MARK,
};

/** `localhost` is loopback by definition (RFC 6761); both families are tried, IPv6 first. */
const LOCALHOST = ["::1", "127.0.0.1"];

/**
 * Connects to a stream server: `tcp://host:port`, `tcp://[v6]:port` or `unix:///path`.
 * `localhost` tries ::1, then 127.0.0.1; another host name tries each address it resolves to.
 * A failed attempt is retried `retries` times with backoff.
 *
 * @throws {SocketError} (as a rejection) with the endpoint in the message and a hint:
 *   `ECONNREFUSED` when nothing listens there, `ENOENT` for a missing unix socket,
 *   `ERR_TIMEOUT` when an attempt takes longer than `connectTimeoutMs`, `ENOTFOUND` for an unknown host, `ERR_INVALID_ENDPOINT`; over `tls://`, the
 *   certificate problems (`DEPTH_ZERO_SELF_SIGNED_CERT`, `ERR_TLS_CERT_ALTNAME_INVALID`,
 *   `CERT_HAS_EXPIRED`, …) and `ERR_SSL_WRONG_VERSION_NUMBER` for a server that does not speak
 *   TLS, each explained with a hint. A certificate problem is not retried.
 * @throws `signal.reason` (as a rejection) when `signal` fires first.
 * @throws {TypeError|RangeError} for a bad option, naming it and its value.
 * @example
 * await using server = await listen(":0", { handler: (peer) => peer.each(() => peer.write("Hello from server")) });
 * const connection = await connect(server.endpoint); // or "tcp://127.0.0.1:7000"
 * await connection.send("Hello from client");
 * for await (const reply of connection) { console.log(reply); break; }
 * //=> Hello from server
 * await connection.close();
 */
export async function connect<M = string>(
  endpoint: string | Endpoint,
  options: ConnectOptions<M> = {},
): Promise<Connection<M>> {
  const target = streamEndpoint(endpoint);
  const settings = withDefaults(DEFAULTS, options);
  checkInteger("connectTimeoutMs", settings.connectTimeoutMs, 0, MAX_TIMER_MS);
  checkInteger("retries", settings.retries, 0);
  checkInteger("idleTimeoutMs", settings.idleTimeoutMs, 0, MAX_TIMER_MS);
  checkInteger("highWaterMark", settings.highWaterMark, 0);
  const backoff = withDefaults(DEFAULT_CONNECT_BACKOFF, options.backoff);
  checkNumber("backoff.initialMs", backoff.initialMs, 0, Number.MAX_VALUE);
  checkNumber("backoff.maxMs", backoff.maxMs, 0, Number.MAX_VALUE);
  checkNumber("backoff.factor", backoff.factor, 1, Number.MAX_VALUE);
  const { signal, trace } = options;
  checkSignal(signal);
  const controls = socketSettings(options);
  if (trace !== undefined) checkFunction("trace", trace);
  const framing = options.framing ?? (lines() as unknown as Framing<M>);
  checkFraming(framing);
  if (target.transport === "tls") checkTlsConnectOptions(options.tls);
  else if (options.tls !== undefined) {
    throw invalidArgValue(
      "endpoint argument",
      formatAddress(target),
      'must be a tls:// endpoint when the "tls" option is given',
    );
  }

  for (let attempt = 0; ; attempt++) {
    try {
      const socket = await attemptConnect(
        target,
        settings.connectTimeoutMs,
        controls,
        signal,
        trace,
        options.tls,
      );
      return new TcpConnection<M>({
        socket,
        framing,
        ...socketEndpoints(socket, target.transport === "unix" ? target.path : undefined),
        idleTimeoutMs: settings.idleTimeoutMs,
        frameTimeoutMs: 0,
        minDataRate: 0,
        minDataRateGraceMs: 0,
        maxMessagesPerTurn: DEFAULT_MAX_MESSAGES_PER_TURN,
        highWaterMark: settings.highWaterMark,
        trace,
      });
    } catch (err) {
      // Fired during the attempt (even from a trace listener, before we listened): its reason.
      throwIfAborted(signal);
      if (attempt >= settings.retries || isCertificateError(err)) throw err;
    }
    const wait = backoffDelay(backoff as Required<BackoffOptions>, attempt);
    try {
      await sleep(wait, undefined, { signal });
    } catch {
      throw abortReason(signal as AbortSignal); // only an abort stops the sleep early
    }
  }
}

/** One attempt: every address of the host in turn, within one `connectTimeoutMs`. */
async function attemptConnect(
  target: Endpoint,
  timeoutMs: number,
  controls: SocketSettings,
  signal: AbortSignal | undefined,
  trace: TraceListener | undefined,
  tlsOptions: TlsConnectOptions | undefined,
): Promise<net.Socket> {
  throwIfAborted(signal);
  if (target.transport === "unix") return connectOnce(target, timeoutMs, controls, signal, trace);
  const deadline = timeoutMs > 0 ? performance.now() + timeoutMs : Infinity;
  let lastError: unknown;
  for (const host of await raceAbort(addressesOf(target.host), signal)) {
    const remaining = Math.max(1, Math.ceil(deadline - performance.now()));
    const remote: Endpoint = { transport: target.transport, host, port: target.port };
    const secure =
      target.transport === "tls" ? tlsConnectOptions(tlsOptions, target.host) : undefined;
    try {
      const timeout = deadline === Infinity ? 0 : remaining;
      return await connectOnce(remote, timeout, controls, signal, trace, secure);
    } catch (err) {
      lastError = err;
      throwIfAborted(signal);
      if ((err as SocketError).code === ErrorCode.ERR_TIMEOUT) break;
      if (isCertificateError(err)) break; // another address has the same certificate
    }
  }
  throw lastError;
}

/** The addresses to try for a host, in order. */
async function addressesOf(host: string): Promise<string[]> {
  if (net.isIP(host) !== 0) return [host];
  if (/^localhost\.?$/i.test(host)) return LOCALHOST;
  try {
    return (await lookup(host, { all: true })).map((entry) => entry.address);
  } catch (err) {
    throw explain(err);
  }
}

/** socket + connect to one address (+ the TLS handshake), or fail with a SocketError. */
function connectOnce(
  remote: Endpoint,
  timeoutMs: number,
  controls: SocketSettings,
  signal: AbortSignal | undefined,
  trace: TraceListener | undefined,
  secure?: tls.ConnectionOptions,
): Promise<net.Socket> {
  const family = remote.transport === "unix" ? "unix" : net.isIPv6(remote.host) ? "IPv6" : "IPv4";
  // allowHalfOpen: the server's end only ends its messages; we may still send, then end ours.
  let socket: net.Socket;
  if (remote.transport === "unix") {
    socket = net.connect({ path: remote.path, allowHalfOpen: true });
  } else if (secure === undefined) {
    socket = net.connect({ host: remote.host, port: remote.port, allowHalfOpen: true });
  } else {
    // tls.connect() passes allowHalfOpen on to its socket; @types/node does not list it.
    const options = { ...secure, host: remote.host, port: remote.port, allowHalfOpen: true };
    socket = tls.connect(options as tls.ConnectionOptions);
  }
  // setsockopt(TCP_NODELAY, SO_KEEPALIVE): Node applies them as soon as the socket exists.
  if (remote.transport !== "unix") applySocketSettings(socket, controls);
  // A TLS socket is ready once its handshake is done, a plain one once it is connected.
  const ready = secure === undefined ? "connect" : "secureConnect";
  let fd: number | undefined;
  if (trace) {
    // Node makes the socket and calls connect() on the next tick (at once for a unix path).
    process.nextTick(() => {
      fd = descriptorOf(socket);
      trace({ type: "socket", attributes: streamAttributes(family), fd });
      trace({ type: "connect", remote, fd });
    });
  }
  return new Promise((resolve, reject) => {
    let stopAbort = noop;
    let settled = false;
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stopAbort();
      socket.off(ready, onConnect);
      socket.off("error", onError);
      if (error === undefined) {
        if (secure !== undefined) traceHandshake(socket, remote, fd, trace);
        resolve(socket);
        return;
      }
      socket.on("error", noop);
      // destroy() closes the descriptor at once (the 'close' event comes later).
      trace?.({ type: "close", remote, fd });
      socket.destroy();
      reject(error);
    };
    const onConnect = () => settle();
    const onError = (err: Error) => settle(explain(err, { endpoint: formatAddress(remote) }));
    // After the waiting input: the connect may have completed while the process did not run.
    const timer =
      timeoutMs > 0
        ? setTimeoutAfterInput(() => settle(timeoutError(remote, timeoutMs)), timeoutMs)
        : undefined;
    socket.once(ready, onConnect);
    socket.on("error", onError);
    stopAbort = onAbort(signal, () => settle(abortReason(signal as AbortSignal)));
  });
}

/** True for an error about the server's certificate: trying again cannot help. */
function isCertificateError(err: unknown): boolean {
  const { code } = err as SocketError;
  return (
    typeof code === "string" && (code.startsWith("ERR_TLS_CERT") || /CERT|SIGNATURE/.test(code))
  );
}

function timeoutError(remote: Endpoint, timeoutMs: number): SocketError {
  const where = formatAddress(remote);
  return new SocketError(
    ErrorCode.ERR_TIMEOUT,
    `connect to ${where} timed out after ${timeoutMs} ms`,
    {
      hint: "Check that the server is running and accepting connections, or allow a longer connectTimeoutMs.",
      syscall: "connect",
      ...(remote.transport === "unix"
        ? { address: remote.path }
        : { address: remote.host, port: remote.port }),
    },
  );
}
