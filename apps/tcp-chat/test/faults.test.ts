/**
 * Flag values the CLI tests do not try, on the built programs: each is a usage error that
 * names the flag, exit 2, and nothing is started.
 */

import { describe, expect, it } from "vitest";
import { CLIENT_CLI, runToEnd, SERVER_CLI } from "./_helpers.js";

describe("chat-server flag values", () => {
  it.each([
    [["--port="], "--port: '' is not a port number (0–65535)"],
    [["--host="], "--host: '' is not a valid host name or IP address"],
    [["--host", "[::1"], "--host: '[::1' is not a valid host name or IP address"],
    [["--max-clients", "100001"], "--max-clients: 100001 is out of range (1–100000)"],
    [["--max-clients", "1.5"], "--max-clients: '1.5' is not a whole number"],
    [["--max-line", "0"], "--max-line: 0 is out of range (1–1048576)"],
    [["--max-line", "1048577"], "--max-line: 1048577 is out of range (1–1048576)"],
    [["--max-line"], "Option '--max-line <value>' argument missing"],
    [["--idle-timeout", "soon"], "--idle-timeout: 'soon' is not a number"],
    [["--idle-timeout", "86401"], "--idle-timeout: 86401 is out of range (0–86400)"],
    [["--queue-limit", "lots"], "--queue-limit: 'lots' is not a whole number"],
    [["--queue-limit", "0"], "--queue-limit: 0 is out of range (1–1073741824)"],
    [["--stall-timeout", "0"], "--stall-timeout: 0 is out of range (0.1–86400)"],
    [["--stall-timeout", "never"], "--stall-timeout: 'never' is not a number"],
  ])("rejects %j (exit 2)", async (args, message) => {
    const result = await runToEnd(SERVER_CLI, args);
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: "" });
    expect(result.stderr).toContain(`chat-server: ${message}`);
  });
});

describe("chat-client flag values", () => {
  const NICK_RULES = "(1–16 letters, digits, '_' or '-', starting with a letter)";
  it.each([
    [["--nick="], `--nick: '' is not a valid nickname ${NICK_RULES}`],
    [
      ["--nick", "a".repeat(17)],
      `--nick: '${"a".repeat(17)}' is not a valid nickname ${NICK_RULES}`,
    ],
    [["--nick", "1abc"], `--nick: '1abc' is not a valid nickname ${NICK_RULES}`],
    [["--nick"], "Option '-n, --nick <value>' argument missing"],
    [["-n", "-x"], "Option '-n' argument is ambiguous"],
    [["--host="], "--host: '' is not a valid host name or IP address"],
    [["--host", "999.1.1.1"], "--host: '999.1.1.1' is not a valid host name or IP address"],
    [["--port", "70000"], "--port: 70000 is out of range (0–65535)"],
    [["--port="], "--port: '' is not a port number (0–65535)"],
  ])("rejects %j (exit 2)", async (args, message) => {
    const result = await runToEnd(CLIENT_CLI, args);
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: "" });
    expect(result.stderr).toContain(`chat-client: ${message}`);
  });
});
