/**
 * The TCP row: numbered messages over a stream socket whose bytes netsim's relay re-splits.
 *
 *   client ──connect──▶ re-chunking relay ──connect──▶ server
 *
 * A stream has no message boundaries: the relay reads the bytes and writes them on in pieces
 * of its own choosing (random sizes, single bytes, or many messages glued together). Length
 * framing — a 4-byte length before each message — is what lets the server find the messages
 * again. TCP itself keeps the bytes complete and in order, so the server's tracker counts
 * nothing lost, duplicated or out of order, however the bytes were cut.
 */

import { ErrorCode, SocketError } from "@socket-lab/core";
import { startChunkingRelay } from "@socket-lab/netsim";
import { type Connection, connect, lengthPrefixed, listen } from "@socket-lab/tcp";
import { nowMicros } from "@socket-lab/udp";
import { _nextTurn, BURST, checkAborted, SEND_LIMIT_MS, settle } from "./internal/pace.js";
import {
  countCalls,
  numberedMessage,
  Receiver,
  type RowResult,
  type RowRun,
  traceOf,
} from "./internal/row.js";
import { CHUNKINGS, type Settings } from "./settings.js";

/** The length in front of each message. */
const LENGTH_PREFIX_BYTES = 4;

/** How long the server may go without a message before the row gives up on the rest, in ms. */
const STALL_MS = 5_000;
/** The same under kernel loss, in ms: retransmission timeouts double, from 200 ms (1 s for a SYN). */
const KERNEL_STALL_MS = 30_000;

/** How the byte stream was cut on its way: four different cuts, none of them the messages. */
export interface StreamCuts {
  /** Bytes from client to server: the messages and their 4-byte length prefixes. */
  readonly bytes: number;
  /** The client's write calls: sends of the same tick go out as one write. */
  readonly clientWrites: number;
  /** The relay's reads from the client's connection. */
  readonly relayReads: number;
  /** The pieces the relay wrote to the server's connection, each its own write. */
  readonly relayPieces: number;
  /** The server's read calls: each took whatever bytes had arrived. */
  readonly serverReads: number;
}

/** The TCP row's columns, and how the stream was cut. */
export interface TcpRowResult extends RowResult {
  readonly stream: StreamCuts;
}

/**
 * Sends `settings.count` length-framed messages from a client through netsim's re-chunking
 * relay to a server, which counts them.
 * @throws {SocketError} when a socket fails, or `run.signal`'s reason.
 */
export async function runTcpRow(settings: Settings, run: RowRun = {}): Promise<TcpRowResult> {
  const { count, size, chunking, delayMs, seed } = settings;
  const receiver = new Receiver();
  const framing = lengthPrefixed();

  const reads = countCalls(run, "tcp server", "recv");
  const writes = countCalls(run, "tcp client", "send");

  // socket + bind + listen: port 0, so the system picks a free port.
  const server = await listen("tcp://127.0.0.1:0", { framing, trace: reads.trace });
  // The relay listens too, and connects to the server for each client it accepts. With kernel
  // loss there is none: the client connects straight to the server, through the lossy kernel.
  const relay =
    settings.kernelLoss === null
      ? await startChunkingRelay({
          target: server.endpoint,
          chunking: CHUNKINGS[chunking](size),
          delayMs,
          seed,
          trace: traceOf(run, "tcp relay"),
        })
      : undefined;
  let client: Connection<Buffer> | undefined;
  try {
    // accept: the server's side of the one connection, read as messages until the client ends.
    const received = (async () => {
      for await (const connection of server) {
        for await (const message of connection) receiver.record(message);
        await connection.close();
        return;
      }
    })();
    // Its failure surfaces in receivedAll(); until then it must not count as unhandled.
    received.catch(() => {});

    // socket + connect: to the relay, which the client cannot tell from the server.
    client = await connect(relay?.endpoint ?? server.endpoint, { framing, trace: writes.trace });
    const started = nowMicros();
    const stopAt = performance.now() + SEND_LIMIT_MS;
    let sent = 0;
    while (sent < count && performance.now() < stopAt) {
      checkAborted(run.signal);
      // send: one message is one frame; TCP may deliver it in any number of pieces.
      await client.send(numberedMessage(sent, size));
      sent++;
      run.onProgress?.("tcp", sent, count);
      if (sent % BURST === 0) await _nextTurn();
    }
    // shutdown(SHUT_WR): no more messages; the server's loop ends after the last one.
    await client.end();
    const stallMs = settings.kernelLoss === null ? STALL_MS : KERNEL_STALL_MS;
    await receivedAll(received, receiver, sent, stallMs, run.signal);
    const stats = relay?.stats.toServer;
    return {
      ...receiver.result(sent, started, null, sent < count),
      stream: {
        // Without the relay, the bytes are the messages and their 4-byte lengths.
        bytes: stats?.bytes ?? sent * (size + LENGTH_PREFIX_BYTES),
        clientWrites: writes.calls,
        relayReads: stats?.reads ?? 0,
        relayPieces: stats?.chunks ?? 0,
        serverReads: reads.calls,
      },
    };
  } finally {
    await client?.close();
    await server.close();
    await relay?.close();
  }
}

/** Waits for the server's loop to end; fails when messages stop coming for `stallMs`. */
async function receivedAll(
  received: Promise<void>,
  receiver: Receiver,
  sent: number,
  stallMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  let ended = false;
  const end = () => {
    ended = true;
  };
  received.then(end, end);
  const finished = await settle(
    () => ended,
    () => receiver.received,
    stallMs,
    signal,
  );
  if (!finished) {
    throw new SocketError(
      ErrorCode.ERR_TIMEOUT,
      `the TCP server got ${receiver.received} of ${sent} messages, then nothing for ${stallMs / 1000} s`,
      { hint: "Is the machine very busy? Try a smaller --count." },
    );
  }
  await received;
}
