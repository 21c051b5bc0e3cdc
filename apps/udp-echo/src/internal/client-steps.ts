/**
 * Private: the steps client.ts's story calls but need not show — which addresses a host name
 * stands for, where to bind for them, recvfrom on one or two sockets at once, and the error
 * for a message that got no reply.
 */

import { lookup } from "node:dns/promises";
import { counted } from "@socket-lab/cli";
import { ErrorCode, formatAddress, type InetEndpoint, SocketError } from "@socket-lab/core";
import type { Datagram, UdpSocket } from "@socket-lab/udp";

/**
 * The addresses to try for `host`. `localhost` is always both loopbacks, ::1 and 127.0.0.1,
 * whatever /etc/hosts says (many list only one), since a server may have bound either.
 */
export async function addressesOf(host: string, port: number): Promise<InetEndpoint[]> {
  const addresses =
    host.toLowerCase() === "localhost"
      ? ["::1", "127.0.0.1"]
      : (await lookup(host, { all: true })).map(({ address }) => address);
  return addresses.map((address) => ({ transport: "udp", host: address, port }));
}

export function familyOf(target: InetEndpoint): 4 | 6 {
  return target.host.includes(":") ? 6 : 4;
}

/**
 * Where the client's socket of `family` binds, on an ephemeral port: loopback when every
 * target of that family is loopback; otherwise the wildcard address, as sendto() on an unbound
 * socket would.
 */
export function localFor(targets: readonly InetEndpoint[], family: 4 | 6): string {
  const loopback = targets
    .filter((target) => familyOf(target) === family)
    .every(({ host }) => host === "::1" || host.startsWith("127."));
  if (family === 6) return loopback ? "udp://[::1]:0" : "udp://[::]:0";
  return loopback ? "udp://127.0.0.1:0" : "udp://0.0.0.0:0";
}

/** Most datagrams taken at once by {@link takeQueued}: the socket's receive queue. */
const MAX_QUEUED = 1_024;

/** The datagrams already queued on the sockets, taken without waiting. */
export async function takeQueued(sockets: Iterable<UdpSocket>): Promise<Datagram[]> {
  const taken: Datagram[] = [];
  for (const socket of sockets) {
    for (let i = 0; i < MAX_QUEUED; i++) {
      const datagram = await socket.receive({ timeoutMs: 0 }).catch(() => undefined);
      if (datagram === undefined) break;
      taken.push(datagram);
    }
  }
  return taken;
}

/**
 * recvfrom on every socket at once, with a time limit: the first datagram to arrive, or
 * `undefined` when none comes within `timeoutMs`. The other waits are called off.
 * @throws the signal's reason when it aborts.
 */
export async function receiveFirst(
  sockets: Iterable<UdpSocket>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<Datagram | undefined> {
  const done = new AbortController();
  const stop = signal === undefined ? done.signal : AbortSignal.any([done.signal, signal]);
  const wait = Math.max(0, timeoutMs);
  try {
    return await Promise.any([...sockets].map((s) => s.receive({ timeoutMs: wait, signal: stop })));
  } catch {
    signal?.throwIfAborted();
    return undefined;
  } finally {
    done.abort();
  }
}

/** `ERR_TIMEOUT` for message `seq`, after `tries` over `elapsedMs`, naming what was tried. */
export function noReply(
  server: { host: string; port: number },
  targets: readonly InetEndpoint[],
  tries: number,
  elapsedMs: number,
  seq: number,
): SocketError {
  const asked = formatAddress({ transport: "udp", ...server });
  const tried = targets.map((t) => formatAddress(t)).join(" and ");
  const where = targets.length === 1 && tried === asked ? asked : `${asked} (${tried})`;
  const which = seq === 1 ? "" : ` to message ${seq}`;
  return new SocketError(
    ErrorCode.ERR_TIMEOUT,
    `no reply${which} from ${where} after ${counted(tries, "try", "tries")} over ${(elapsedMs / 1000).toFixed(1)} s`,
    {
      hint: "Is a UDP echo server running there? Without a connection, a stopped server looks just like lost datagrams. A running server may also refuse, without a word, a reply larger than the message (udp-echo-server's --max-amplification).",
    },
  );
}
