/**
 * The socket options a node:net user expects — TCP_NODELAY and SO_KEEPALIVE — as options of
 * `listen()` and `connect()`, checked and applied the same way on both sides.
 */

import type { Socket } from "node:net";
import { checkBoolean, checkInteger, MAX_TIMER_MS } from "@socket-lab/core/internal";

/**
 * The socket options a node:net user expects, on `listen()` (for every accepted socket) and on
 * `connect()`.
 * @example
 * await using server = await listen(":0");
 * await using connection = await connect(server.endpoint, { keepAlive: true, keepAliveInitialDelayMs: 60_000 });
 */
export interface SocketControls {
  /**
   * TCP_NODELAY: send small writes at once instead of holding them for the peer's ACK
   * (Nagle's algorithm). On by default because a connection already gathers each tick's
   * messages into one write, so Nagle has nothing left to gather and would only delay a
   * request or a reply (up to 40 ms, with the peer's delayed ACK). Ignored for unix sockets.
   * @default true
   */
  noDelay?: boolean;
  /**
   * SO_KEEPALIVE: the kernel probes a connection that has been silent for
   * `keepAliveInitialDelayMs`, and reports a peer that has gone away (a dead host, a cable
   * pulled) as `ETIMEDOUT`. Ignored for unix sockets.
   * @default false
   */
  keepAlive?: boolean;
  /**
   * Silence before the first keep-alive probe (TCP_KEEPIDLE), in ms, rounded down to whole
   * seconds by the kernel; 0 keeps the system's (`net.ipv4.tcp_keepalive_time`, 2 hours on
   * Linux). Only with `keepAlive`.
   * @default 0
   */
  keepAliveInitialDelayMs?: number;
}

/** {@link SocketControls} with their defaults applied. */
export type SocketSettings = Required<SocketControls>;

/** The defaults of {@link SocketControls}. */
export const SOCKET_DEFAULTS: SocketSettings = {
  noDelay: true,
  keepAlive: false,
  keepAliveInitialDelayMs: 0,
};

/** Applies {@link SocketSettings} to a TCP (or TLS) socket, before or after it connects. */
export function applySocketSettings(socket: Socket, settings: SocketSettings): void {
  socket.setNoDelay(settings.noDelay);
  if (settings.keepAlive) socket.setKeepAlive(true, settings.keepAliveInitialDelayMs);
}

/** Checks {@link SocketControls} and applies their defaults. */
export function socketSettings(options: SocketControls): SocketSettings {
  const settings: SocketSettings = {
    noDelay: options.noDelay ?? SOCKET_DEFAULTS.noDelay,
    keepAlive: options.keepAlive ?? SOCKET_DEFAULTS.keepAlive,
    keepAliveInitialDelayMs:
      options.keepAliveInitialDelayMs ?? SOCKET_DEFAULTS.keepAliveInitialDelayMs,
  };
  checkBoolean("noDelay", settings.noDelay);
  checkBoolean("keepAlive", settings.keepAlive);
  checkInteger("keepAliveInitialDelayMs", settings.keepAliveInitialDelayMs, 0, MAX_TIMER_MS);
  return settings;
}
