import { describe, expect, it } from "vitest";
import { isValidNick, line, parseClientLine } from "../src/protocol.js";

describe("parseClientLine", () => {
  it.each([
    ["hello there", { type: "message", text: "hello there" }],
    ["  ", { type: "empty" }],
    ["/nick bob", { type: "nick", nick: "bob" }],
    ["/nick   bob  ", { type: "nick", nick: "bob" }],
    [" /quit is a command", { type: "message", text: " /quit is a command" }],
    ["/who", { type: "who" }],
    ["/quit", { type: "quit" }],
    ["/nick", { type: "invalid", error: "usage: /nick NAME" }],
    ["/nick a b", { type: "invalid", error: "usage: /nick NAME" }],
    [
      "/nick -x",
      {
        type: "invalid",
        error: "nickname must be 1–16 letters, digits, '_' or '-', starting with a letter",
      },
    ],
    [
      "/Who",
      { type: "invalid", error: "unknown command '/Who'; commands: /nick NAME, /who, /quit" },
    ],
  ])("reads %j", (text, expected) => {
    expect(parseClientLine(text)).toEqual(expected);
  });

  it.each([
    ["C0 and C1 controls, tab", "a\u0000b\u001b[31mc\u009bd\te", "a\\x00b\\x1b[31mc\\x9bd\\te"],
    ["a clipboard write (OSC 52)", "\u001b]52;c;aGk=\u0007", "\\x1b]52;c;aGk=\\x07"],
    ["a bidi override and U+2028", "\u202eevil\u2028x", "\\u202eevil\\u2028x"],
    ["telnet's IAC DO ECHO (as decoded)", "\uFFFD\uFFFD\u0001", "\uFFFD\uFFFD\\x01"],
    ["padding spaces", `hi${" ".repeat(72)}* alice left`, "hi\\x20×72* alice left"],
  ])("passes %s on escaped, so no member's terminal acts on them", (_, text, escaped) => {
    expect(parseClientLine(text)).toEqual({ type: "message", text: escaped });
  });

  it("escapes an unknown command it quotes back", () => {
    expect(parseClientLine("/\u001b[2J")).toEqual({
      type: "invalid",
      error: "unknown command '/\\x1b[2J'; commands: /nick NAME, /who, /quit",
    });
  });
});

describe("isValidNick", () => {
  it.each(["a", "Bob", "x_y-z", "a234567890123456"])("accepts %j", (nick) => {
    expect(isValidNick(nick)).toBe(true);
  });
  it.each(["", "1a", "_a", "a b", "a2345678901234567", "é", "a\n"])("rejects %j", (nick) => {
    expect(isValidNick(nick)).toBe(false);
  });
});

describe("line.users", () => {
  it("lists every name when they fit", () => {
    expect(line.users(["alice", "bob"], 100)).toBe("* users: alice, bob");
  });

  it("cuts a long list to the byte budget and says how many are left out", () => {
    const nicks = Array.from({ length: 100 }, (_, i) => `user${i}`);
    const text = line.users(nicks, 40);
    expect(text).toBe("* users: user0, user1, user2, user3, user4, … and 95 more");
  });

  it("always shows at least one name", () => {
    expect(line.users(["alice", "bob"], 1)).toBe("* users: alice, … and 1 more");
  });
});
