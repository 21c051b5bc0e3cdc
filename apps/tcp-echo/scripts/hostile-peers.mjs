#!/usr/bin/env node
/**
 * Measures what hostile peers cost the built tcp-echo-server, and prints the figures that
 * RELIABILITY.md quotes. Build first (`pnpm build`), then from apps/tcp-echo:
 *
 *   node scripts/hostile-peers.mjs rss [CONNECTIONS]       # stalled 8 MiB frames: peak server RSS
 *   node scripts/hostile-peers.mjs nonreaders [CONNECTIONS] [-- BUDGET]  # two 8 MiB frames echoed, never read
 *   node scripts/hostile-peers.mjs flood [FLOODERS] [-- PER_TURN]      # empty-line flooders: a client's worst round trip
 *   node scripts/hostile-peers.mjs close                   # Ctrl-C with an idle and a non-reading client
 *
 * Extra arguments after `--` go to the server, e.g. `-- --max-buffered 1073741824`; for `flood`,
 * the server is a quiet echo on @socket-lab/tcp and `-- N` sets its maxMessagesPerTurn.
 * Everything runs on 127.0.0.1. Figures vary with the machine; each run prints its own.
 */

import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import net from "node:net";
import { fileURLToPath } from "node:url";

const SERVER = fileURLToPath(new URL("../dist/server-cli.js", import.meta.url));
const MiB = 1024 * 1024;
const [mode = "rss", count, ...rest] = process.argv.slice(2);
const serverArgs = rest[0] === "--" ? rest.slice(1) : rest;

/** Starts tcp-echo-server on a free port; resolves with the child and the port. */
async function startServer(args) {
  const child = spawn(process.execPath, [SERVER, "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.setEncoding("utf8");
  const port = await new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = /listening on tcp:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", () => reject(new Error(`server exited:\n${out}`)));
  });
  return { child, port, output: () => out };
}

/** The resident set size of a process, in bytes (VmRSS of /proc/PID/status). */
function rssOf(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) * 1024 : 0;
}

function connectRaw(port) {
  const socket = net.connect({ host: "127.0.0.1", port });
  socket.on("error", () => {});
  return once(socket, "connect").then(() => socket);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes) => `${(bytes / 1e6).toFixed(0)} MB`;

/** Round trips of one length frame at a time; resolves with the count and the worst, in ms. */
async function lengthPings(port, ms) {
  const socket = await connectRaw(port);
  let worst = 0;
  let done = 0;
  const deadline = performance.now() + ms;
  let pending = Buffer.alloc(0);
  while (performance.now() < deadline) {
    const started = performance.now();
    socket.write(Buffer.from([0, 0, 0, 4, 112, 105, 110, 103])); // "ping"
    while (pending.length < 8) {
      const [chunk] = await once(socket, "data");
      pending = Buffer.concat([pending, chunk]);
    }
    pending = pending.subarray(8);
    worst = Math.max(worst, performance.now() - started);
    done++;
    await sleep(20);
  }
  socket.destroy();
  return { done, worst };
}

/** Peers that announce a frame of 8 MiB − 1, send 4 MiB of it and stall. */
async function rss(connections) {
  const { child, port, output } = await startServer(["--framing", "length", ...serverArgs]);
  const base = rssOf(child.pid);
  let peak = base;
  const watch = setInterval(() => {
    peak = Math.max(peak, rssOf(child.pid));
  }, 10);
  const payload = Buffer.alloc(4 * MiB, 0x61);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(8 * MiB - 1);
  const peers = [];
  const served = lengthPings(port, 4_000);
  for (let i = 0; i < connections; i++) {
    const peer = await connectRaw(port);
    peer.write(header);
    peer.write(payload);
    peers.push(peer);
  }
  const { done, worst } = await served;
  await sleep(1_000);
  clearInterval(watch);
  const dropped = output()
    .split("\n")
    .filter((line) => /budget/.test(line)).length;
  console.log(
    `${connections} connections × (header 8 MiB − 1, 4 MiB payload, stall): server RSS ${mb(base)} at start, peak ${mb(peak)}; ${dropped} dropped for the budget; a normal client: ${done} round trips, worst ${worst.toFixed(1)} ms`,
  );
  for (const peer of peers) peer.destroy();
  child.kill("SIGINT");
  await once(child, "exit");
}

/**
 * Peers that send two whole 8 MiB frames, have them echoed, and never read; against the quiet
 * echo server (tcp-echo-server prints each 8 MiB message, and its stdout would hold more than
 * the connections do). `-- BYTES` sets its maxBufferedBytes.
 */
async function nonReaders(connections) {
  const budget = serverArgs[0];
  const { child, port, output } = await startQuietServer({
    length: true,
    ...(budget === undefined ? {} : { maxBufferedBytes: Number(budget) }),
  });
  let peak = rssOf(child.pid);
  const watch = setInterval(() => {
    peak = Math.max(peak, rssOf(child.pid));
  }, 10);
  const frame = Buffer.alloc(4 + 8 * MiB, 0x62);
  frame.writeUInt32BE(8 * MiB);
  const peers = [];
  for (let i = 0; i < connections; i++) {
    const peer = await connectRaw(port);
    peer.pause();
    peer.write(frame);
    peer.write(frame);
    peers.push(peer);
  }
  await sleep(10_000);
  clearInterval(watch);
  const dropped = output()
    .split("\n")
    .filter((line) => line === "drop").length;
  console.log(
    `${connections} connections × two 8 MiB frames echoed and never read: server RSS peak ${mb(peak)}; ${dropped} dropped for the budget (maxBufferedBytes ${budget ?? "default"})`,
  );
  for (const peer of peers) peer.destroy();
  child.kill("SIGINT");
  await once(child, "exit");
}

/**
 * An echo server on @socket-lab/tcp that logs nothing, in a child process (tcp-echo-server
 * prints every message, which would be most of what is measured): `listen()` with
 * `maxMessagesPerTurn` (omitted: the default).
 */
const QUIET_ECHO = `
  import { lengthPrefixed, listen } from "@socket-lab/tcp";
  const { length, ...options } = JSON.parse(process.argv[1]);
  const server = await listen("tcp://127.0.0.1:0", {
    ...options,
    framing: length ? lengthPrefixed() : undefined,
    handler: async (connection) => {
      try {
        for await (const message of connection) await connection.send(message);
      } catch {}
    },
  });
  server.on("drop", () => console.log("drop"));
  console.log("listening on tcp://127.0.0.1:" + server.endpoint.port);
  process.on("SIGINT", () => server.close({ timeoutMs: 100 }));
`;

/** Starts the quiet echo server with `listen()` options; resolves like `startServer()`. */
async function startQuietServer(options) {
  const child = spawn(
    process.execPath,
    ["--input-type=module", "-e", QUIET_ECHO, JSON.stringify(options)],
    { stdio: ["ignore", "pipe", "inherit"], cwd: fileURLToPath(new URL("..", import.meta.url)) },
  );
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk) => {
    out += chunk;
  });
  const [first] = await once(child.stdout, "data");
  return { child, port: Number(/:(\d+)/.exec(first)[1]), output: () => out };
}

/** Flooders of empty lines (reading their echoes) while a client pings once every 20 ms. */
async function flood(flooders) {
  const perTurn = serverArgs[0];
  const { child, port } = await startQuietServer(
    perTurn === undefined ? {} : { maxMessagesPerTurn: Number(perTurn) },
  );
  const burst = Buffer.alloc(64 * 1024, "\n");
  let flooding = true;
  const sockets = [];
  for (let i = 0; i < flooders; i++) {
    const socket = await connectRaw(port);
    socket.resume();
    const pump = () => {
      while (flooding && socket.write(burst));
      if (flooding) socket.once("drain", pump);
    };
    pump();
    sockets.push(socket);
  }
  await sleep(500);
  const client = await connectRaw(port);
  client.setEncoding("utf8");
  let worst = 0;
  const times = [];
  for (let n = 0; n < 200; n++) {
    const started = performance.now();
    client.write(`ping ${n}\n`);
    let reply = "";
    while (!reply.includes("\n")) reply += (await once(client, "data"))[0];
    const took = performance.now() - started;
    times.push(took);
    worst = Math.max(worst, took);
    await sleep(20);
  }
  flooding = false;
  times.sort((a, b) => a - b);
  console.log(
    `${flooders} empty-line flooder(s), maxMessagesPerTurn ${perTurn ?? "default (1024)"}: a client's round trip over 200 pings: median ${times[100].toFixed(1)} ms, worst ${worst.toFixed(1)} ms`,
  );
  for (const socket of [...sockets, client]) socket.destroy();
  child.kill("SIGINT");
  await once(child, "exit");
}

/** Ctrl-C with an idle client (like nc) and one that never reads its echoes. */
async function close() {
  const { child, port, output } = await startServer(serverArgs);
  const idle = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
  idle.on("error", () => {});
  await once(idle, "connect");
  const nonReader = await connectRaw(port);
  nonReader.pause();
  const line = Buffer.from(`${"x".repeat(999)}\n`);
  for (let i = 0; i < 20_000; i++) nonReader.write(line);
  await sleep(1_000);
  const started = performance.now();
  child.kill("SIGINT");
  const [code] = await once(child, "exit");
  const took = performance.now() - started;
  const stopped = output()
    .split("\n")
    .find((text) => text.startsWith("stopped:"));
  console.log(
    `SIGINT with an idle and a non-reading client: exit ${code} after ${took.toFixed(0)} ms; summary: ${stopped ?? "(none)"}`,
  );
  idle.destroy();
  nonReader.destroy();
}

if (mode === "rss") await rss(Number(count ?? 200));
else if (mode === "nonreaders") await nonReaders(Number(count ?? 50));
else if (mode === "flood") await flood(Number(count ?? 1));
else if (mode === "close") await close();
else throw new Error(`unknown mode ${mode}: rss, nonreaders, flood or close`);
