#!/usr/bin/env node
/**
 * What one flooding client does to an echo server through its log: the server runs with stdout
 * on a pipe nobody reads (`unread-pipe`) or on a file (`file`); one client sends empty lines as
 * fast as the server takes them for 20 s while a second client sends "ping" every 100 ms. Prints
 * the server's RSS before and after, the flood's rate, the ping round trips, and the log's size.
 * Only 127.0.0.1.
 *
 *   pnpm build && node scripts/log-flood.mjs apps/tcp-echo/dist/server-cli.js unread-pipe
 *   node scripts/log-flood.mjs apps/tcp-echo/dist/server-cli.js file
 */

import { spawn } from "node:child_process";
import { once } from "node:events";
import { openSync, readFileSync, statSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SECONDS = 20;
const [server, mode = "unread-pipe"] = process.argv.slice(2);
if (server === undefined || !["unread-pipe", "file"].includes(mode)) {
  console.error("usage: node scripts/log-flood.mjs SERVER_CLI_JS [unread-pipe|file]");
  process.exit(2);
}
const logFile = join(tmpdir(), `log-flood-${process.pid}.txt`);
const stdout = mode === "file" ? openSync(logFile, "w") : "pipe";
const child = spawn(process.execPath, [server, "--port", "0"], {
  stdio: ["ignore", stdout, "inherit"],
});

let port;
if (mode === "file") {
  for (let i = 0; i < 200 && port === undefined; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    port = /:(\d+)\n/.exec(readFileSync(logFile, "utf8"))?.[1];
  }
} else {
  let first = "";
  child.stdout.setEncoding("utf8");
  port = await new Promise((resolve) => {
    child.stdout.on("data", function read(chunk) {
      first += chunk;
      const match = /:(\d+)\n/.exec(first);
      if (match === null) return;
      child.stdout.off("data", read);
      child.stdout.pause(); // from now on nobody reads the pipe
      resolve(match[1]);
    });
  });
}
if (port === undefined) throw new Error("the server printed no port");
const rssMiB = () =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1]) / 1024;
const rssBefore = rssMiB();

const flood = connect(Number(port), "127.0.0.1");
await once(flood, "connect");
flood.on("error", () => {}); // reset when the server is killed at the end
flood.resume(); // the echoes, thrown away
let sent = 0;
let flooding = true;
const chunk = "\n".repeat(64 * 1024);
const floodDone = (async () => {
  while (flooding) {
    if (!flood.write(chunk)) await once(flood, "drain");
    sent += chunk.length;
  }
})().catch(() => {}); // the reset at the end

const probe = connect(Number(port), "127.0.0.1");
await once(probe, "connect");
probe.on("error", () => {});
const roundTrips = [];
const start = Date.now();
while (Date.now() - start < SECONDS * 1000) {
  const t = performance.now();
  probe.write("ping\n");
  await once(probe, "data");
  roundTrips.push(performance.now() - t);
  await new Promise((resolve) => setTimeout(resolve, 100));
}
flooding = false;
const rssAfter = rssMiB();
child.kill("SIGKILL");
await Promise.race([floodDone, new Promise((resolve) => setTimeout(resolve, 1000))]);
roundTrips.sort((a, b) => a - b);
const log = mode === "file" ? `, log ${(statSync(logFile).size / 1e6).toFixed(1)} MB` : "";
console.log(
  `${mode}: flood ${(sent / 1024 / SECONDS).toFixed(0)} KiB/s of empty lines, RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MiB, ` +
    `ping p50 ${roundTrips[roundTrips.length >> 1]?.toFixed(0)} ms, max ${roundTrips.at(-1)?.toFixed(0)} ms (${roundTrips.length} pings)${log}`,
);
process.exit(0);
