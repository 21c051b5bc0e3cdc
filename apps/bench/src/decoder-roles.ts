/**
 * The decoders alone, in one process, no sockets: the same messages, cut into the 64 KiB chunks
 * a socket delivers, decoded by ours and by the npm packages people reach for. Each decoder
 * reads its own wire format (ours: 4-byte big-endian prefix; it-length-prefixed and
 * length-prefixed-stream: varint prefix), and is used the fastest way its API allows.
 *
 * Timed by tinybench (as undici times its micro-benchmarks): one task per decoder, one pass
 * over the input per iteration, its warm-up and time budget; tinybench reads a CPU-time clock
 * here, so that the moments the shared machine gives the CPU to others are not counted.
 */

import { once } from "node:events";
import type { Transform } from "node:stream";
import { lengthPrefixed, lines } from "@socket-lab/tcp";
import { decode as itLengthPrefixedDecode } from "it-length-prefixed";
import lengthPrefixedStream from "length-prefixed-stream";
import split2 from "split2";
import { Bench } from "tinybench";
import type { Role } from "./role.js";

/** The decoders measured. */
const DECODERS = [
  "ours-lines",
  "split2",
  "ours-length",
  "it-length-prefixed",
  "length-prefixed-stream",
] as const;
export type DecoderName = (typeof DECODERS)[number];

/** Bytes per chunk fed to a decoder: what one socket read returns at most. */
const CHUNK_BYTES = 64 * 1024;

/** Bytes of messages in one pass over the input. */
const INPUT_BYTES = 4 * 1024 * 1024;

/** One repetition: a tinybench run of one decoder, passes over the input as iterations. */
export interface DecodeRep {
  readonly decoder: DecoderName;
  /** tinybench's warm-up budget, CPU ms. */
  readonly warmupMs: number;
  /** tinybench's time budget, CPU ms (it runs at least {@link MIN_ITERATIONS} passes). */
  readonly timeMs: number;
}

/** What one repetition measured. */
export interface DecodeResult {
  /** Messages one pass decodes. */
  readonly messagesPerPass: number;
  /** Passes tinybench timed. */
  readonly passes: number;
  /** Mean CPU time of one pass (user + system, all threads), ms: tinybench's period. */
  readonly cpuMsPerPass: number;
  /** tinybench's relative margin of error of the mean, %. */
  readonly rme: number;
}

/** Least passes tinybench times per repetition, whatever the time budget. */
const MIN_ITERATIONS = 5;

/** CPU time of this process (user + system), ms: the clock tinybench reads. */
function cpuNow(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** About {@link INPUT_BYTES} of messages made by `encode`, cut into {@link CHUNK_BYTES} chunks. */
function chunked(encode: (payload: Buffer) => Buffer, payload: Buffer): Buffer[] {
  const one = encode(payload);
  const whole = Buffer.concat(
    Array.from({ length: Math.floor(INPUT_BYTES / one.length) }, () => one),
  );
  const chunks: Buffer[] = [];
  for (let at = 0; at < whole.length; at += CHUNK_BYTES) {
    // Copies, so that each chunk is its own buffer like a socket read.
    chunks.push(Buffer.from(whole.subarray(at, at + CHUNK_BYTES)));
  }
  return chunks;
}

/** varint, as protobuf, it-length-prefixed and length-prefixed-stream write it. */
function varintPrefixed(payload: Buffer): Buffer {
  const prefix: number[] = [];
  let n = payload.length;
  while (n >= 0x80) {
    prefix.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  prefix.push(n);
  return Buffer.concat([Buffer.from(prefix), payload]);
}

async function throughStream(stream: Transform, chunks: readonly Buffer[]): Promise<number> {
  let messages = 0;
  stream.on("data", () => {
    messages++;
  });
  const ended = once(stream, "end");
  // write() runs the transform at once while nothing is queued, so waiting for 'drain' would
  // only add ticks: the chunks are all written, then the stream is ended and drained.
  for (const chunk of chunks) stream.write(chunk);
  stream.end();
  await ended;
  return messages;
}

/** `decoders`: messages of `size` bytes (lines: `size` - 1 characters and a `\n`). */
export function decoders(options: { size: number }): Role {
  const { size } = options;
  const text = Buffer.from("abcdefghijklmnopqrstuvwxyz0123456789".repeat(Math.ceil(size / 36)));
  const linePayload = text.subarray(0, size - 1);
  const payload = text.subarray(0, size);
  const lineChunks = chunked((line) => Buffer.concat([line, Buffer.from("\n")]), linePayload);
  const framing = lengthPrefixed();
  const lengthChunks = chunked((frame) => framing.encode(frame), payload);
  const varintChunks = chunked(varintPrefixed, payload);

  const passes: Record<DecoderName, () => number | Promise<number>> = {
    "ours-lines": () => {
      const decoder = lines().createDecoder();
      let messages = 0;
      for (const chunk of lineChunks) messages += decoder.push(chunk).length;
      return messages + decoder.end().length;
    },
    split2: () => throughStream(split2(), lineChunks),
    "ours-length": () => {
      const decoder = framing.createDecoder();
      let messages = 0;
      for (const chunk of lengthChunks) messages += decoder.push(chunk).length;
      return messages + decoder.end().length;
    },
    // Given a synchronous iterable it decodes synchronously: its fastest path.
    "it-length-prefixed": () => {
      let messages = 0;
      for (const _message of itLengthPrefixedDecode(varintChunks)) messages++;
      return messages;
    },
    "length-prefixed-stream": () => throughStream(lengthPrefixedStream.decode(), varintChunks),
  };

  return {
    rep: async ({ decoder, warmupMs, timeMs }: DecodeRep): Promise<DecodeResult> => {
      const pass = passes[decoder];
      // One pass outside the timing: what it decodes (every pass decodes the same), and
      // whether it is asynchronous (the stream decoders): only those are timed with an await.
      const first = pass();
      const messagesPerPass = await first;
      const bench = new Bench({
        now: cpuNow,
        time: timeMs,
        iterations: MIN_ITERATIONS,
        warmupTime: warmupMs,
        warmupIterations: 1,
        throws: true,
      });
      bench.add(
        decoder,
        first instanceof Promise
          ? async () => {
              await pass();
            }
          : () => {
              pass();
            },
      );
      const [task] = await bench.run();
      const result = task?.result;
      if (result?.state !== "completed") {
        throw new Error(`${decoder}: tinybench ended ${result?.state ?? "without a task"}`);
      }
      return {
        messagesPerPass,
        passes: result.latency.samplesCount,
        cpuMsPerPass: result.period,
        rme: result.latency.rme,
      };
    },
  };
}
