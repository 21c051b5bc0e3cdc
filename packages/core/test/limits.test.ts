import {
  DEFAULT_BACKLOG,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_LINE_BYTES,
  MAX_UNIX_PATH_BYTES,
  TUTORIAL_BACKLOG,
  UDP_MAX_PAYLOAD_IPV4,
  UDP_MAX_PAYLOAD_IPV6,
  UDP_SAFE_PAYLOAD_IPV4,
  UDP_SAFE_PAYLOAD_IPV6,
} from "@socket-lab/core";
import { describe, expect, test } from "vitest";
import { bindUdp, next } from "./_sockets.js";

const IP_MAX_LENGTH = 65_535;
const IPV4_HEADER = 20;
const IPV6_HEADER = 40;
const UDP_HEADER = 8;

describe("limits", () => {
  test("UDP payload maxima and safe sizes follow from the headers and MTUs", () => {
    expect(UDP_MAX_PAYLOAD_IPV4).toBe(65_507);
    expect(UDP_MAX_PAYLOAD_IPV4).toBe(IP_MAX_LENGTH - IPV4_HEADER - UDP_HEADER);
    expect(UDP_MAX_PAYLOAD_IPV6).toBe(65_527);
    expect(UDP_MAX_PAYLOAD_IPV6).toBe(IP_MAX_LENGTH - UDP_HEADER);
    expect(UDP_SAFE_PAYLOAD_IPV4).toBe(1_472);
    expect(UDP_SAFE_PAYLOAD_IPV4).toBe(1_500 - IPV4_HEADER - UDP_HEADER);
    expect(UDP_SAFE_PAYLOAD_IPV6).toBe(1_232);
    expect(UDP_SAFE_PAYLOAD_IPV6).toBe(1_280 - IPV6_HEADER - UDP_HEADER);
  });

  test("stream, server and client defaults", () => {
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(8 * 1024 * 1024);
    expect(DEFAULT_MAX_LINE_BYTES).toBe(64 * 1024);
    expect(TUTORIAL_BACKLOG).toBe(5);
    expect(DEFAULT_BACKLOG).toBe(511);
    expect(DEFAULT_MAX_CONNECTIONS).toBe(1_024);
    expect(DEFAULT_IDLE_TIMEOUT_MS).toBe(120_000);
    expect(DEFAULT_CONNECT_TIMEOUT_MS).toBe(10_000);
    expect(MAX_UNIX_PATH_BYTES).toBe(process.platform === "linux" ? 107 : 103);
  });

  test.each([
    ["udp4", "127.0.0.1", UDP_MAX_PAYLOAD_IPV4],
    ["udp6", "::1", UDP_MAX_PAYLOAD_IPV6],
  ] as const)(
    "%s on %s: the maximum payload arrives whole, one byte more is EMSGSIZE",
    async (type, host, max) => {
      const receiver = await bindUdp(type);
      const sender = await bindUdp(type);
      const { port } = receiver.address();
      const received = next<Buffer>(receiver, "message");
      sender.send(Buffer.alloc(max, 7), port, host);
      const [message] = await received;
      expect(message?.length).toBe(max);

      const err = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
        sender.send(Buffer.alloc(max + 1), port, host, resolve),
      );
      expect(err?.code).toBe("EMSGSIZE");
    },
  );
});
