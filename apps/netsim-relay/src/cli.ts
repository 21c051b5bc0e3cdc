#!/usr/bin/env node
/**
 * `pnpm netsim` (netsim-relay): flags in, a relay that misbehaves on purpose until Ctrl-C.
 * The story is in relay.ts.
 */

import { once } from "node:events";
import { isIPv4 } from "node:net";
import {
  parseIntegerFlag,
  parsePortFlag,
  parseRateFlag,
  runCommand,
  UsageError,
} from "@socket-lab/cli";
import { type Endpoint, formatAddress, formatEndpoint, parseEndpoint } from "@socket-lab/core";
import { type Chunking, DEFAULT_SEED } from "@socket-lab/netsim";
import pkg from "../package.json" with { type: "json" };
import {
  RELAY_CHUNK,
  RELAY_COALESCE_MS,
  RELAY_DELAY_MS,
  RELAY_LISTEN_PORT,
  RELAY_RATE,
} from "./defaults.js";
import { startRelay } from "./relay.js";

process.exitCode = await runCommand({
  name: "netsim-relay",
  version: pkg.version,
  description:
    "relay between a client and a server on this machine, losing, duplicating and reordering UDP datagrams or re-cutting a TCP stream",
  usage: "--udp|--tcp --target HOST:PORT [--listen PORT] [options]",
  flags: {
    udp: { type: "boolean", description: "relay UDP datagrams through a lossy link" },
    tcp: { type: "boolean", description: "relay TCP connections, re-cutting their byte streams" },
    target: {
      type: "string",
      valueName: "HOST:PORT",
      description: "the server: 127.0.0.1, ::1 (as [::1]:PORT) or localhost; nothing else",
    },
    listen: {
      type: "string",
      valueName: "PORT",
      description: "the port on 127.0.0.1 where clients send or connect; 0 lets the system choose",
      parse: parsePortFlag,
      default: RELAY_LISTEN_PORT,
    },
    loss: {
      type: "string",
      valueName: "RATE",
      description: "UDP: drop this share of datagrams, 0–1",
      // No `default` (as --duplicate, --reorder, --chunk): absent stays undefined, so that
      // giving it with the other protocol is an error; run applies the constant shown.
      defaultText: String(RELAY_RATE),
      parse: parseRateFlag,
    },
    duplicate: {
      type: "string",
      valueName: "RATE",
      description: "UDP: send this share of datagrams twice, 0–1",
      defaultText: String(RELAY_RATE),
      parse: parseRateFlag,
    },
    reorder: {
      type: "string",
      valueName: "RATE",
      description: "UDP: hold back this share of datagrams so a later one overtakes them, 0–1",
      defaultText: String(RELAY_RATE),
      parse: parseRateFlag,
    },
    chunk: {
      type: "string",
      valueName: "MODE",
      description:
        "TCP: bytes:N (pieces of N bytes), random:MIN-MAX, or coalesce:BYTES[:MS] (join reads)",
      defaultText: RELAY_CHUNK,
      parse: (_flag, value) => parseChunk(value),
    },
    delay: {
      type: "string",
      valueName: "MS",
      description: "add this many milliseconds to every datagram or piece",
      parse: (flag, value) => parseIntegerFlag(flag, value, { max: 60_000 }),
      default: RELAY_DELAY_MS,
    },
    seed: {
      type: "string",
      valueName: "N",
      description: "seed of every random choice, so a run repeats exactly",
      parse: (flag, value) => parseIntegerFlag(flag, value, { max: 2 ** 32 - 1 }),
      default: DEFAULT_SEED,
    },
  },
  examples: [
    "netsim-relay --udp --listen 7101 --target 127.0.0.1:7001 --loss 0.3 --seed 7",
    "netsim-relay --tcp --listen 7100 --target 127.0.0.1:7000 --chunk bytes:1",
    "netsim-relay --tcp --target [::1]:7000 --chunk coalesce:4096:20 --delay 50",
  ],
  async run({ values, signal, stdout }) {
    if (values.udp === values.tcp) throw new UsageError("give one of --udp or --tcp");
    const protocol = values.udp ? "udp" : "tcp";
    const only = (flags: string[], which: string) => {
      const given = flags.filter((flag) => values[flag as keyof typeof values] !== undefined);
      if (given.length > 0) throw new UsageError(`--${given[0]} is for ${which} only`);
    };
    if (protocol === "udp") only(["chunk"], "--tcp");
    else only(["loss", "duplicate", "reorder"], "--udp");
    if (values.target === undefined) throw new UsageError("--target HOST:PORT is required");
    const print = (line: string) => stdout.write(`${line}\n`);

    const relay = await startRelay(
      {
        protocol,
        listenPort: values.listen,
        target: formatEndpoint(loopbackTarget(values.target, protocol)),
        loss: values.loss ?? RELAY_RATE,
        duplicate: values.duplicate ?? RELAY_RATE,
        reorder: values.reorder ?? RELAY_RATE,
        delayMs: values.delay,
        seed: values.seed,
        chunking: values.chunk ?? parseChunk(RELAY_CHUNK),
      },
      print,
    );
    print(`relaying ${formatEndpoint(relay.endpoint)} → ${values.target} (Ctrl-C stops)`);
    // Relay until Ctrl-C (SIGINT) or SIGTERM, then say what was done in all.
    if (!signal.aborted) await once(signal, "abort");
    for (const line of await relay.close()) print(line);
  },
});

/**
 * `--target`: a loopback address and a port. Everything netsim does stays on this machine.
 * @throws {UsageError} for any other address.
 */
function loopbackTarget(value: string, transport: "udp" | "tcp"): Endpoint {
  let endpoint: Endpoint;
  try {
    endpoint = parseEndpoint(value, { transport });
  } catch (err) {
    throw new UsageError(`--target: ${(err as Error).message}`);
  }
  if (endpoint.transport !== transport) {
    throw new UsageError(`--target: give HOST:PORT, e.g. 127.0.0.1:7000`);
  }
  const { host } = endpoint;
  const loopback =
    host === "localhost" || host === "::1" || (isIPv4(host) && host.startsWith("127."));
  if (!loopback) {
    throw new UsageError(
      `--target: ${formatAddress(endpoint)} is not on this machine; netsim relays only to 127.0.0.1, ::1 or localhost`,
    );
  }
  return endpoint;
}

/**
 * `--chunk bytes:N | random:MIN-MAX | coalesce:BYTES[:MS]`.
 * @throws {UsageError} naming the flag.
 */
function parseChunk(value: string): Chunking {
  const [mode, a = "", b] = value.split(":");
  const size = (text: string) => parseIntegerFlag("chunk", text, { min: 1, max: 16 * 1024 * 1024 });
  if (mode === "bytes" && b === undefined) return { mode, size: size(a) };
  if (mode === "random" && b === undefined) {
    const [min = "", max = ""] = a.split("-");
    const chunking = { mode, min: size(min), max: size(max) } as const;
    if (chunking.min > chunking.max) throw new UsageError(`--chunk: ${a}: MIN is above MAX`);
    return chunking;
  }
  if (mode === "coalesce") {
    const maxDelayMs =
      b === undefined ? RELAY_COALESCE_MS : parseIntegerFlag("chunk", b, { max: 60_000 });
    return { mode, maxBytes: size(a), maxDelayMs };
  }
  throw new UsageError(
    `--chunk: '${value}' is not one of bytes:N, random:MIN-MAX, coalesce:BYTES[:MS]`,
  );
}
