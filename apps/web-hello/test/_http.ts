/** Test helpers: curl and a raw socket against the server, as a user would talk to it. */

import { execFile } from "node:child_process";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { WAIT_MS } from "./_spawn.js";

export interface CurlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs curl (installed on the machine) with `args`, bounded by --max-time. */
export function curl(args: readonly string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile(
      "curl",
      ["--silent", "--show-error", "--max-time", String(WAIT_MS / 1000), ...args],
      { encoding: "utf8" },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A raw TCP connection to 127.0.0.1:`port`. */
export async function rawSocket(port: number | string): Promise<Socket> {
  const socket = connect(Number(port), "127.0.0.1");
  socket.on("error", () => {}); // a reset is something the tests look at, not a crash
  await once(socket, "connect");
  return socket;
}

/** Everything the server sends until it closes the connection (bounded by WAIT_MS). */
export async function readToEnd(socket: Socket): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  const closed = once(socket, "close");
  const timer = setTimeout(() => socket.destroy(new Error("no close within WAIT_MS")), WAIT_MS);
  await closed;
  clearTimeout(timer);
  return Buffer.concat(chunks).toString("latin1");
}

/** Sends `wire` on a new connection and returns all the server answered before it closed. */
export async function exchange(port: number | string, wire: string): Promise<string> {
  const socket = await rawSocket(port);
  const reply = readToEnd(socket);
  socket.end(wire, "latin1");
  return reply;
}

/** The status codes of the responses in `text`, in order. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((m) => Number(m[1]));
}

/** The text of the page element with id `id`. */
export function field(html: string, id: string): string | undefined {
  return new RegExp(`<dd id="${id}">([^<]*)</dd>`).exec(html)?.[1];
}
