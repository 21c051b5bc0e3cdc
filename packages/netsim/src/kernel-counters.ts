/**
 * Private to kernel-loss: the nftables rules that drop packets inside the namespace, and the
 * kernel's own counters read from in there — the rules' counters, /proc/net/snmp and tcp_info.
 */

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";

const run = promisify(execFile);

/** nftables table the rules live in. */
const TABLE = "socketlab";
/** The random draw is out of this many, so the loss is exact to a millionth. */
const RESOLUTION = 1_000_000;

/** Packets the rules saw and dropped, of one protocol. */
export interface KernelLossCount {
  /** Packets of the protocol that reached the rules (each is counted once, on input). */
  readonly packets: number;
  /** Packets of them dropped. */
  readonly dropped: number;
}

/** What the rules counted so far. */
export interface KernelLossCounters {
  readonly tcp: KernelLossCount;
  readonly udp: KernelLossCount;
}

/** The counters of `/proc/net/snmp`, by section and name: `snmp.Tcp.RetransSegs`. */
export type Snmp = Readonly<Record<string, Readonly<Record<string, number>>>>;

/** What `ss -ti` reads from the kernel's `tcp_info` for one TCP socket. */
export interface TcpInfo {
  /** `address:port` of this end. */
  readonly local: string;
  /** `address:port` of the other end. */
  readonly peer: string;
  /** Segments this socket retransmitted in all (`tcpi_total_retrans`). */
  readonly retransmits: number;
}

/** One table: on input (each loopback packet passes once), count, then drop a random share. */
export function rules(loss: number): string {
  const below = Math.round(loss * RESOLUTION);
  const lines = ["tcp", "udp"].flatMap((proto) => [
    `    meta l4proto ${proto} counter comment "${proto} packets"`,
    `    meta l4proto ${proto} numgen random mod ${RESOLUTION} < ${below} counter drop comment "${proto} dropped"`,
  ]);
  return [
    `table inet ${TABLE} {`,
    "  chain input {",
    "    type filter hook input priority filter; policy accept;",
    ...lines,
    "  }",
    "}",
    "",
  ].join("\n");
}

export function nft(args: string[], input?: string): Promise<{ stdout: string }> {
  if (input === undefined) return run("nft", args);
  return new Promise((resolve, reject) => {
    const child = execFile("nft", args, (error, stdout) =>
      error === null ? resolve({ stdout }) : reject(error),
    );
    child.stdin?.end(input);
  });
}

export async function counters(): Promise<KernelLossCounters> {
  const { stdout } = await nft(["-j", "list", "table", "inet", TABLE]);
  const byComment = new Map<string, number>();
  for (const item of (JSON.parse(stdout) as { nftables: NftItem[] }).nftables) {
    const rule = item.rule;
    if (rule?.comment === undefined) continue;
    const counter = rule.expr.find((e) => e.counter !== undefined)?.counter;
    byComment.set(rule.comment, counter?.packets ?? 0);
  }
  const count = (proto: string) => ({
    packets: byComment.get(`${proto} packets`) ?? 0,
    dropped: byComment.get(`${proto} dropped`) ?? 0,
  });
  return { tcp: count("tcp"), udp: count("udp") };
}

interface NftItem {
  rule?: { comment?: string; expr: Array<{ counter?: { packets: number } }> };
}

export function snmp(): Snmp {
  const lines = readFileSync("/proc/self/net/snmp", "utf8").trim().split("\n");
  const sections: Record<string, Record<string, number>> = {};
  // Lines come in pairs: "Tcp: RtoAlgorithm RtoMin …" then "Tcp: 1 200 …".
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const [section = "", ...names] = (lines[i] as string).split(/\s+/);
    const values = (lines[i + 1] as string).split(/\s+/).slice(1).map(Number);
    sections[section.replace(/:$/, "")] = Object.fromEntries(
      names.map((name, k) => [name, values[k] ?? 0]),
    );
  }
  return sections;
}

export async function tcpInfo(): Promise<TcpInfo[]> {
  const { stdout } = await run("ss", ["-tinH"]);
  // One socket is two lines: "ESTAB 0 0 127.0.0.1:1 127.0.0.1:2" then its tcp_info fields.
  const lines = stdout.split("\n");
  const sockets: TcpInfo[] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const [, , , local = "", peer = ""] = (lines[i] as string).trim().split(/\s+/);
    const retrans = /\bretrans:\d+\/(\d+)/.exec(lines[i + 1] as string);
    sockets.push({ local, peer, retransmits: Number(retrans?.[1] ?? 0) });
  }
  return sockets;
}
