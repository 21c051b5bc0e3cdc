import { describe, expect, it } from "vitest";
import { fencedBlock } from "../src/readme-examples.js";

const DOC = [
  "Text.",
  "",
  "```",
  "$ ./server 7000",
  "Here is the message: hi",
  "```",
  "",
  "```sh",
  "$ ss -ltn 'sport = :7000'",
  "LISTEN 0 5",
  "```",
  "",
  "```",
  "$ twice",
  "```",
  "```",
  "$ twice",
  "```",
].join("\n");

describe("fencedBlock", () => {
  it("returns the one block starting with the line, whatever its language tag", () => {
    expect(fencedBlock(DOC, "$ ./server 7000")).toBe("$ ./server 7000\nHere is the message: hi");
    expect(fencedBlock(DOC, "$ ss -ltn 'sport = :7000'")).toBe(
      "$ ss -ltn 'sport = :7000'\nLISTEN 0 5",
    );
  });

  it("throws when no block, or more than one, starts with the line", () => {
    expect(() => fencedBlock(DOC, "$ ./client")).toThrow("0 fenced blocks start with");
    expect(() => fencedBlock(DOC, "$ twice")).toThrow("2 fenced blocks start with");
    expect(() => fencedBlock(DOC, "Here is the message: hi")).toThrow("0 fenced blocks");
  });
});
