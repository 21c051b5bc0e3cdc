/**
 * `--trace` for a program that moves thousands of messages: each socket's lifecycle (socket,
 * bind, listen, accept, connect, shutdown, the end of a stream, close) as it happens, and its
 * sends and receives folded into one line of counts per call and fd, printed before the next
 * lifecycle event.
 */

import { formatTraceEvent, type TraceEvent, type TraceListener } from "@socket-lab/core";

/** Gives each socket of a run its own named {@link TraceListener}. */
export type TraceFactory = (socket: string) => TraceListener;

interface Tally {
  calls: number;
  bytes: number;
}

/**
 * A {@link TraceFactory} writing one line per lifecycle event, prefixed with the socket's name
 * padded to `width`. The send and recv calls between two lifecycle events are counted and
 * printed as one line before the next lifecycle event.
 *
 * @example
 * import { bind } from "@socket-lab/udp";
 * const trace = compactTrace(console.log); // the app: (line) => process.stderr.write(`${line}\n`)
 * const socket = await bind("udp://127.0.0.1:0", { trace: trace("udp receiver") });
 * //=> udp receiver     socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP) = 21
 * //=> udp receiver     bind(21, 127.0.0.1:40158)
 * // … then, after 1,019 datagrams, when it closes:
 * // udp receiver     recvfrom(21) ×1,019 (260,864 bytes)
 * await socket.close();
 * //=> udp receiver     close(21)
 */
export function compactTrace(write: (line: string) => void, width = 16): TraceFactory {
  return (socket) => {
    const prefix = `${socket.padEnd(width)} `;
    const tallies = new Map<string, Tally>();
    const flush = () => {
      for (const [call, { calls, bytes }] of tallies) {
        write(`${prefix}${call} ×${calls.toLocaleString("en-US")} (${bytesText(bytes)})`);
      }
      tallies.clear();
    };
    return (event: TraceEvent) => {
      const endOfStream = event.type === "recv" && event.bytes === 0 && event.from === undefined;
      if ((event.type === "send" || event.type === "recv") && !endOfStream) {
        // Datagram calls name their peer (sendto/recvfrom); stream calls do not.
        const call = callName(event);
        const tally = tallies.get(call) ?? { calls: 0, bytes: 0 };
        tally.calls++;
        tally.bytes += event.bytes;
        tallies.set(call, tally);
        return;
      }
      flush();
      write(`${prefix}${formatTraceEvent(event)}`);
    };
  };
}

function callName(event: TraceEvent & { type: "send" | "recv" }): string {
  const name =
    event.type === "send"
      ? event.to === undefined
        ? "send"
        : "sendto"
      : event.from === undefined
        ? "recv"
        : "recvfrom";
  return `${name}(${event.fd ?? "?"})`;
}

function bytesText(bytes: number): string {
  return `${bytes.toLocaleString("en-US")} ${bytes === 1 ? "byte" : "bytes"}`;
}
