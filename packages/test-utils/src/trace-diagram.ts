/**
 * The root README's sequence diagrams, made from a real run: a server and a client each write
 * `--trace=mermaid`, and their messages are merged into one diagram in an order the run could
 * have had (each program's own order kept; a recv after the send it reads, an accept after
 * its connect, the end of a stream after the shutdown). Where both could go next, the server
 * goes first, so the same run always gives the same diagram. The apps' readme-diagram tests
 * regenerate them and fail when README.md differs.
 *
 * @example Fragment: a test file (it adds tests when imported)
 * // apps/tcp-echo/test/readme-diagram.test.ts
 * testReadmeDiagram(programs, { client: "tcp-echo-client", server: "tcp-echo-server" });
 */

import { readFileSync, writeFileSync } from "node:fs";
import { afterEach, expect, test } from "vitest";
import type { createPrograms } from "./programs.js";
import { normaliseOutput, renumberDescriptors } from "./readme-examples.js";

/** The names on the two lifelines. */
export interface DiagramNames {
  client: string;
  server: string;
}

interface Message {
  readonly line: string;
  readonly side: "C" | "S";
  readonly text: string;
}

/** The message lines (`    S->>S: listen(19, 5)`) of one program's `--trace=mermaid`. */
function messages(stderr: string, side: "C" | "S"): Message[] {
  return stderr
    .split("\n")
    .filter((line) => line.startsWith(`    ${side}->>`))
    .map((line) => ({ line, side, text: line.slice(line.indexOf(": ") + 2) }));
}

/** What one side has done so far, for the other side's readiness. */
class Progress {
  connects = 0;
  accepts = 0;
  streamBytesSent = 0;
  streamBytesRead = 0;
  datagramsSent = 0;
  datagramsRead = 0;
  shutdowns = 0;
  ends = 0;
  done = false;

  record(text: string): void {
    const sent = /^send\(\S+, (\d+) bytes?\)$/.exec(text);
    const read = /^recv\(\S+\) = (\d+)$/.exec(text);
    if (text.startsWith("connect(")) this.connects++;
    else if (text.startsWith("accept(")) this.accepts++;
    else if (sent) this.streamBytesSent += Number(sent[1]);
    else if (read) this.streamBytesRead += Number(read[1]);
    else if (text.startsWith("sendto(")) this.datagramsSent++;
    else if (text.startsWith("recvfrom(")) this.datagramsRead++;
    else if (text.startsWith("shutdown(")) this.shutdowns++;
    else if (text.endsWith("(end of stream)")) this.ends++;
  }
}

/** Can `text` happen yet, given what this side (`self`) and the other (`peer`) have done? */
function ready(text: string, self: Progress, peer: Progress): boolean {
  const read = /^recv\(\S+\) = (\d+)$/.exec(text);
  if (text.startsWith("accept(")) return peer.connects > self.accepts;
  if (read) return peer.streamBytesSent >= self.streamBytesRead + Number(read[1]);
  if (text.endsWith("(end of stream)")) return peer.shutdowns > self.ends;
  if (text.startsWith("recvfrom(")) return peer.datagramsSent > self.datagramsRead;
  return true;
}

/**
 * One diagram of a run from the server's and the client's `--trace=mermaid` output. The
 * client starts once the server listens (TCP) or is bound (UDP), and the server's listening
 * socket is closed (Ctrl-C) after the client has finished, as the tests run them.
 */
export function mergeDiagrams(
  serverStderr: string,
  clientStderr: string,
  names: DiagramNames,
): string {
  const server = messages(serverStderr, "S");
  const client = messages(clientStderr, "C");
  const listening = server.findIndex((m) => m.text.startsWith("listen("));
  const serving = listening >= 0 ? listening : server.findIndex((m) => m.text.startsWith("bind("));
  const first = /= (\d+)$/.exec(server[0]?.text ?? "")?.[1];
  const progress = { S: new Progress(), C: new Progress() };
  const lines = [
    "sequenceDiagram",
    `    participant C as ${names.client}`,
    `    participant S as ${names.server}`,
  ];
  let s = 0;
  let c = 0;
  const can = (m: Message, index: number): boolean => {
    const [self, peer] = m.side === "S" ? [progress.S, progress.C] : [progress.C, progress.S];
    if (m.side === "C" && index === 0 && s <= serving) return false;
    if (m.side === "S" && m.text === `close(${first})` && c < client.length) return false;
    return ready(m.text, self, peer);
  };
  const take = (m: Message) => {
    progress[m.side].record(m.text);
    lines.push(m.line);
  };
  // Bounded: each turn takes one message, or stops.
  for (let turn = 0; turn < server.length + client.length; turn++) {
    const nextServer = server[s];
    const nextClient = client[c];
    if (nextServer !== undefined && can(nextServer, s)) {
      take(nextServer);
      s++;
    } else if (nextClient !== undefined && can(nextClient, c)) {
      take(nextClient);
      c++;
    } else {
      break;
    }
  }
  if (s < server.length || c < client.length) {
    throw new Error(
      `the traces cannot be merged: the server waits at '${server[s]?.text}', the client at '${client[c]?.text}'`,
    );
  }
  return lines.join("\n");
}

/**
 * Checks the mermaid block of `readme` that shows `names` against `diagram` (ports and fds
 * normalised); with `UPDATE_README=1` in the environment, writes `diagram` into it instead.
 */
export function expectReadmeDiagram(readme: URL, names: DiagramNames, diagram: string): void {
  const text = readFileSync(readme, "utf8");
  const marker = `    participant C as ${names.client}\n`;
  const start = text.lastIndexOf("```mermaid\n", text.indexOf(marker));
  const end = text.indexOf("\n```", start + 1);
  if (text.indexOf(marker) < 0 || start < 0 || end < 0) {
    throw new Error(`${readme.pathname} has no mermaid diagram with '${marker.trim()}'`);
  }
  const shown = text.slice(start + "```mermaid\n".length, end);
  if (process.env.UPDATE_README === "1") {
    writeFileSync(readme, `${text.slice(0, start)}\`\`\`mermaid\n${diagram}${text.slice(end)}`);
    return;
  }
  expect(normalise(shown), "run with UPDATE_README=1 to write the new diagram").toBe(
    normalise(diagram),
  );
}

/** Ports and times as readme examples normalise them; fds numbered per program (C and S). */
function normalise(diagram: string): string {
  const lines = normaliseOutput(diagram).split("\n");
  for (const side of ["C", "S"]) {
    const mine = lines.flatMap((line, i) => (line.startsWith(`    ${side}->>`) ? [i] : []));
    const renumbered = renumberDescriptors(mine.map((i) => lines[i]).join("\n")).split("\n");
    mine.forEach((i, k) => {
      lines[i] = renumbered[k] ?? "";
    });
  }
  return lines.join("\n");
}

/**
 * A test that runs an app's built server and client with `--trace=mermaid` (the client sends
 * "Hello from client" once), merges their diagrams and checks them against the root README.
 */
export function testReadmeDiagram(
  programs: Pick<
    ReturnType<typeof createPrograms>,
    "interrupt" | "run" | "startServer" | "stopAll"
  >,
  names: DiagramNames,
): void {
  const { interrupt, run, startServer, stopAll } = programs;
  afterEach(stopAll);
  test(`the root README's ${names.client} diagram is what --trace=mermaid shows of a real run`, async () => {
    const { server, port } = await startServer(["--trace=mermaid"]);
    const message = ["--message", "Hello from client"];
    const client = await run("client-cli", ["--port", port, "--trace=mermaid", ...message]);
    expect(client.code).toBe(0);
    const stopped = await interrupt(server);
    expect(stopped.code).toBe(0);
    const header = (name: string) => `sequenceDiagram\n    participant C as ${name}\n`;
    expect(client.stderr.startsWith(header(names.client))).toBe(true);
    expect(stopped.stderr.startsWith(header("clients"))).toBe(true);
    const diagram = mergeDiagrams(stopped.stderr, client.stderr, names);
    // The root README, from packages/test-utils/src.
    expectReadmeDiagram(new URL("../../../README.md", import.meta.url), names, diagram);
  });
}
