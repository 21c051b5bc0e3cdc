#!/usr/bin/env node
/**
 * `pnpm demo` (socket-lab-compare): flags in, the comparison out. The story is in compare.ts.
 *
 *   pnpm demo                                    # 1,000 messages, 5% loss, 2% dup, 5% reorder
 *   pnpm demo --loss 0.2 --chunking bytes        # a worse link, a stream cut into single bytes
 *   pnpm demo --json | jq .rows.udp              # the numbers, for machines
 *   pnpm demo --kernel-loss 0.05 --html r.html   # real loss in the kernel; pictures in a page
 *
 * Everything runs in this one process — servers, netsim and clients — so one terminal is enough.
 */

import { writeFile } from "node:fs/promises";
import type { Writable } from "node:stream";
import {
  EXIT_USAGE,
  type FlagSpecs,
  JSON_FLAG,
  parseChoiceFlag,
  parseIntegerFlag,
  parseRateFlag,
  runCommand,
  TRACE_FLAG,
  UsageError,
} from "@socket-lab/cli";
import { isSocketError, UDP_SAFE_PAYLOAD_IPV4 } from "@socket-lab/core";
import { ERR_NETNS_UNAVAILABLE, type KernelLoss, withKernelLoss } from "@socket-lab/netsim";
import { REQUEST_HEADER_BYTES } from "@socket-lab/udp";
import pkg from "../package.json" with { type: "json" };
import { compactTrace } from "./compact-trace.js";
import { type Comparison, runComparison } from "./compare.js";
import { renderHtml } from "./html-report.js";
import { createProgress } from "./progress.js";
import { formatReport, toJson } from "./report.js";
import {
  CHUNKING_NAMES,
  COMPARE_CHUNKING,
  COMPARE_COUNT,
  COMPARE_DELAY_MS,
  COMPARE_DUPLICATE,
  COMPARE_JITTER_MS,
  COMPARE_LOSS,
  COMPARE_REORDER,
  COMPARE_SEED,
  COMPARE_SIZE,
  MAX_COUNT,
  MAX_DELAY_MS,
  MAX_SIZE,
  MIN_SIZE,
  ROW_LABELS,
} from "./settings.js";
import { sparklinesWanted } from "./sparkline.js";

/**
 * A rate of netsim's link. Like --delay, --jitter and --chunking it has no `default`: absent, it
 * stays `undefined` (runComparison applies the constant shown), so --kernel-loss can refuse it.
 */
const rate = (what: string, defaultValue: number) =>
  ({
    type: "string",
    valueName: "RATE",
    description: `probability that the UDP link ${what}, 0–1`,
    defaultText: String(defaultValue),
    parse: parseRateFlag,
  }) as const;

const flags = {
  count: {
    type: "string",
    short: "n",
    valueName: "N",
    description: `messages each transport sends, 1–${MAX_COUNT.toLocaleString("en-US")}`,
    parse: (flag, value) => parseIntegerFlag(flag, value, { min: 1, max: MAX_COUNT }),
    default: COMPARE_COUNT,
  },
  size: {
    type: "string",
    short: "s",
    valueName: "BYTES",
    description: `bytes per message, the 16-byte header included, ${MIN_SIZE}–${MAX_SIZE.toLocaleString("en-US")}`,
    parse: (_flag, value) => parseSize(value),
    default: COMPARE_SIZE,
  },
  loss: rate("drops a datagram", COMPARE_LOSS),
  duplicate: rate("sends a datagram twice", COMPARE_DUPLICATE),
  reorder: rate("holds a datagram back behind the next", COMPARE_REORDER),
  delay: {
    type: "string",
    valueName: "MS",
    description: `delay of every datagram and TCP piece, whole ms, 0–${MAX_DELAY_MS}`,
    defaultText: String(COMPARE_DELAY_MS),
    parse: (flag, value) => parseIntegerFlag(flag, value, { max: MAX_DELAY_MS }),
  },
  jitter: {
    type: "string",
    valueName: "MS",
    description: "extra random delay per datagram, 0 to MS whole ms; it reorders too",
    defaultText: String(COMPARE_JITTER_MS),
    parse: (flag, value) => parseIntegerFlag(flag, value, { max: MAX_DELAY_MS }),
  },
  seed: {
    type: "string",
    valueName: "N",
    description: "seed of every netsim decision: the same seed, the same counts",
    parse: (flag, value) => parseIntegerFlag(flag, value, { max: 0xffff_ffff }),
    default: COMPARE_SEED,
  },
  chunking: {
    type: "string",
    valueName: "MODE",
    description: `how the TCP relay re-cuts the stream: ${CHUNKING_NAMES.join(", ")}`,
    defaultText: COMPARE_CHUNKING,
    parse: (flag, value) => parseChoiceFlag(flag, value, CHUNKING_NAMES),
  },
  trace: {
    ...TRACE_FLAG,
    description: "print each socket's calls to stderr, sends and receives summed up",
  },
  json: {
    ...JSON_FLAG,
    description: "print the results as one JSON object (schema in the README)",
  },
  "kernel-loss": {
    type: "string",
    valueName: "RATE",
    description:
      "Linux: run again in a network namespace of its own where the kernel drops RATE of the TCP and UDP packets, instead of netsim (needs root, or unshare -rn)",
    parse: parseRateFlag,
  },
  html: {
    type: "string",
    valueName: "FILE",
    description: "also write a page with pictures of where each message went (inline SVG)",
  },
} as const satisfies FlagSpecs;

/** The flags that set netsim's link and relay, which `--kernel-loss` leaves out. */
const NETSIM_FLAGS = ["loss", "duplicate", "reorder", "delay", "jitter", "chunking"] as const;

/** `--size`, with the reason for each limit in the message. */
function parseSize(value: string): number {
  const size = parseIntegerFlag("size", value, { min: Number.MIN_SAFE_INTEGER });
  if (size < MIN_SIZE) {
    throw new UsageError(
      `--size: ${size} bytes cannot hold the ${MIN_SIZE}-byte sequenced header (sequence number + send time); use ${MIN_SIZE} or more`,
    );
  }
  if (size > MAX_SIZE) {
    throw new UsageError(
      `--size: ${size} is over ${MAX_SIZE.toLocaleString("en-US")} bytes: with the ${REQUEST_HEADER_BYTES}-byte request header a datagram would exceed the ${UDP_SAFE_PAYLOAD_IPV4.toLocaleString("en-US")}-byte safe UDP payload (IPv4)`,
    );
  }
  return size;
}

process.exitCode = await runCommand({
  name: "socket-lab-compare",
  version: pkg.version,
  description:
    "the same numbered messages over TCP and UDP through a simulated network, side by side",
  usage: "[options]",
  flags,
  examples: [
    "socket-lab-compare",
    "socket-lab-compare --loss 0.2 --duplicate 0 --reorder 0.1 --seed 7",
    "socket-lab-compare --chunking bytes --count 200 --trace",
    "socket-lab-compare --delay 2 --jitter 3 --json",
    "socket-lab-compare --kernel-loss 0.05 --html report.html",
  ],
  async run({ values, signal, stdout, stderr }) {
    const options = {
      count: values.count,
      size: values.size,
      loss: values.loss,
      duplicate: values.duplicate,
      reorder: values.reorder,
      delayMs: values.delay,
      jitterMs: values.jitter,
      seed: values.seed,
      chunking: values.chunking,
    };
    // The bar and the trace share stderr; with --trace the trace wins.
    const progress = values.trace
      ? undefined
      : createProgress(stderr as Writable & { isTTY?: boolean });
    const kernelLoss = values["kernel-loss"];
    if (kernelLoss !== undefined) {
      const netsimFlag = NETSIM_FLAGS.find((flag) => values[flag] !== undefined);
      if (netsimFlag !== undefined) {
        throw new UsageError(
          `--${netsimFlag} sets netsim's link, which --kernel-loss leaves out (the kernel drops the packets instead): use one or the other`,
        );
      }
    }
    const compare = async (kernel?: KernelLoss) => {
      try {
        return await runComparison({
          ...options,
          kernel,
          trace: values.trace ? compactTrace((line) => stderr.write(`${line}\n`)) : undefined,
          onProgress: (row, sent, count) => progress?.update(ROW_LABELS[row], sent, count),
          signal,
        });
      } finally {
        // Here, not after: in the namespace's process, withKernelLoss never returns.
        progress?.clear();
      }
    };
    let result: Comparison;
    try {
      // With --kernel-loss this process starts itself again in a new network namespace and the
      // comparison runs in there (the progress bar too); its result comes back here.
      result =
        kernelLoss === undefined
          ? await compare()
          : await withKernelLoss({ loss: kernelLoss }, compare);
    } catch (error) {
      if (!isSocketError(error, ERR_NETNS_UNAVAILABLE)) throw error;
      stderr.write(
        `socket-lab-compare: --kernel-loss needs a network namespace of its own, and cannot make one here: ${error.message.replace(/^[^:]*: /, "")}.\nRun it as root (sudo pnpm demo --kernel-loss ${kernelLoss}) or in a user namespace of its own (unshare -rn pnpm demo --kernel-loss ${kernelLoss}).\n`,
      );
      return EXIT_USAGE;
    }
    if (values.html !== undefined) await writeFile(values.html, renderHtml(result));
    const sparklines = !values.json && sparklinesWanted(stdout as Writable & { isTTY?: boolean });
    stdout.write(
      values.json ? `${JSON.stringify(toJson(result))}\n` : formatReport(result, { sparklines }),
    );
    // The demo's claim is that netsim alone lost the datagrams; when it did not hold, say so.
    return result.crossCheck.ok ? 0 : 1;
  },
});
