/**
 * `udp-echo-client --loss/--duplicate/--reorder/--seed`: netsim's lossy link, started in the
 * client's own process between the client and the server (both directions impaired, seeded),
 * and the story of each message told from both ends: what the client saw (no reply in time, a
 * late copy) and what the link did to the request it sent (dropped, duplicated, held back).
 */

import type { Printer } from "@socket-lab/cli";
import type { InetEndpoint } from "@socket-lab/core";
import type { ImpairmentDecision } from "@socket-lab/netsim";
import { type LinkDirectionStats, type LossyLink, startLossyLink } from "@socket-lab/netsim";
import type { EchoClientEvent, EchoReply } from "./client-options.js";

/** The link's rates and seed, as the flags give them. */
export interface LossyStoryOptions {
  readonly loss?: number | undefined;
  readonly duplicate?: number | undefined;
  readonly reorder?: number | undefined;
  readonly seed?: number | undefined;
}

/** A link between client and server, and the hooks that tell what happened to each message. */
export interface LossyStory {
  /** Where the client sends instead of the server. */
  readonly endpoint: InetEndpoint;
  /** Count each datagram the client sends (its `send` trace events), to find its fate. */
  readonly onSend: () => void;
  readonly onEvent: (event: EchoClientEvent) => void;
  /** Print the reply with what the link did to the tries that carried the message. */
  readonly onReply: (reply: EchoReply, shown: string) => void;
  /** Closes the link and prints its counters: the truth the story above was told from. */
  close(): Promise<void>;
}

/** Starts the link to `server` and returns the hooks that print the story with `print`. */
export async function startLossyStory(
  server: string,
  options: LossyStoryOptions,
  print: Printer,
): Promise<LossyStory> {
  // The fate of each datagram the client sends, in order: decision i is the i-th send's.
  const fates: ImpairmentDecision[] = [];
  const link: LossyLink = await startLossyLink({
    target: server,
    directions: "both",
    ...definedOnly(options),
    onDecision: ({ direction, index, decision }) => {
      if (direction === "to-server") fates[index] = decision;
    },
  });
  let sent = 0;
  /** What the link did to the request of the try `back` sends ago (1: the latest). */
  const fateOf = (back: number): string | undefined => {
    const fate = fates[sent - back];
    if (fate === undefined) return undefined;
    if (fate.drop) return "request dropped";
    if (fate.duplicate && fate.reorder) return "request duplicated and held back";
    if (fate.duplicate) return "request duplicated";
    if (fate.reorder) return "request held back";
    return undefined;
  };
  return {
    endpoint: link.endpoint,
    onSend: () => {
      sent += 1;
    },
    onEvent: (event) => {
      if (event.type === "retry") {
        const why = fateOf(1) ?? "request passed, so its reply was lost";
        const text = `#${event.seq} no reply in time (${why}): retry ${event.tries - 1}`;
        print(text, { event: "retry", seq: event.seq, tries: event.tries, netsim: why });
      } else {
        const to = event.of === undefined ? "" : ` to #${event.of}`;
        const text = `#${event.seq} a late reply${to} ignored (a duplicate, or the answer to a retry)`;
        print(text, { event: "late", seq: event.seq, of: event.of });
      }
    },
    onReply: ({ seq, tries }, shown) => {
      const fate = fateOf(1);
      const how = [
        tries > 1 ? `after ${tries} tries` : "",
        fate === undefined ? "" : `netsim: ${fate}`,
      ];
      const note = how.filter(Boolean).join("; ");
      print(`#${seq} reply: ${shown}${note === "" ? "" : ` (${note})`}`, {
        event: "reply",
        seq,
        reply: shown,
        tries,
        ...(fate === undefined ? {} : { netsim: fate }),
      });
    },
    async close() {
      await link.close();
      const { toServer, toClient } = link.stats;
      print(`netsim: to server ${counts(toServer)}; to client ${counts(toClient)}`, {
        event: "netsim",
        toServer,
        toClient,
      });
    },
  };
}

function counts(stats: LinkDirectionStats): string {
  const { received, dropped, duplicated, reordered } = stats;
  return `${received} received, ${dropped} dropped, ${duplicated} duplicated, ${reordered} reordered`;
}

/** The options that were given: netsim keeps its defaults for the others. */
function definedOnly(options: LossyStoryOptions): Record<string, number> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}
