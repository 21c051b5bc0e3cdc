/**
 * Malformed endpoints that endpoint.test.ts does not try: each is refused with
 * ERR_INVALID_ENDPOINT and a message that quotes the input and names the bad part.
 */

import { MAX_UNIX_PATH_BYTES, parseEndpoint } from "@socket-lab/core";
import { describe, expect, it } from "vitest";

const tooLongPath = `/tmp/${"x".repeat(MAX_UNIX_PATH_BYTES - 4)}`;

describe("malformed endpoints", () => {
  it.each([
    ["tcp://[]:1", "'' in brackets is not an IPv6 address"],
    ["tcp://[::1]]:1", "unexpected ']:1' after '[::1]'"],
    ["tcp://[[::1]]:1", "unexpected ']:1' after '[[::1]'"],
    ["tcp://[::1%]:1", "'::1%' in brackets is not an IPv6 address"],
    ["tcp:/127.0.0.1:1", "has a path, query or user part"],
    ["tcp:///tmp/x.sock", "'/tmp/x.sock' has a path, query or user part"],
    ["tcp://127.0.0.1:7000?x=1", "has a path, query or user part"],
    ["tcp://127.0.0.1:7000#top", "has a path, query or user part"],
    ["tcp://256.1.1.1:1", "host '256.1.1.1' is not a valid host name or IP address"],
    ["tcp://127.1:1", "host '127.1' is not a valid host name or IP address"],
    ["tcp://a:1:2", "IPv6 address 'a:1:2' must be written in brackets"],
    ["tcp://:", "port is missing after ':'"],
    ["tcp://: 1", "port ' 1' is not a number from 0 to 65535"],
    ["tcp://127.0.0.1:\t1", "port '\t1' is not a number"],
    ["tcp://127.0.0.1:١٢", "port '١٢' is not a number"],
    ["tcp:// :1", "host ' ' is not a valid host name"],
    ["tcp://127.0.0.1 :1", "host '127.0.0.1 ' is not a valid host name"],
    ["tcp://ü.example:1", "host 'ü.example' is not a valid host name"],
    ["tcp://a_b:1", "host 'a_b' is not a valid host name"],
    ["udp://*:1", "host '*' is not a valid host name"],
    [`${"a".repeat(64)}.example:1`, "is not a valid host name"],
    [`${"a.".repeat(127)}ab:1`, "is not a valid host name"],
    ["udp://[::1]:65536", "port 65536 is out of range (0–65535)"],
    [`unix://${tooLongPath}`, `unix socket path is ${MAX_UNIX_PATH_BYTES + 1} bytes`],
  ])("%j is ERR_INVALID_ENDPOINT: %s", (input, part) => {
    let error: unknown;
    try {
      parseEndpoint(input);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toMatchObject({ name: "SocketError", code: "ERR_INVALID_ENDPOINT" });
    const { message } = error as Error;
    expect(message.startsWith(`invalid endpoint '${input}': `)).toBe(true);
    expect(message).toContain(part);
  });
});
