import { readFileSync } from "node:fs";
import { ErrorCode, explain, SYSTEM_ERROR_CODES, TLS_ERROR_CODES } from "@socket-lab/core";
import { describe, expect, test } from "vitest";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

/** The cells of the README's table row for `code`, after the code cell (the `nth` such row). */
function row(code: string, nth = 0): string[] | undefined {
  const line = readme.split("\n").filter((l) => new RegExp(`^\\| \`${code}\` +\\|`).test(l))[nth];
  // Cells are padded to align the columns; a cell never holds " | ".
  return line
    ?.replace(/^\| | \|$/g, "")
    .split(" | ")
    .slice(1)
    .map((cell) => cell.trim());
}

describe("README error tables", () => {
  test.each(Object.keys(ErrorCode))("lists %s with its meaning and what to do", (code) => {
    expect(row(code)).toHaveLength(2);
  });

  // Where each wording is shown: the address or name the README's example error carries.
  const shownAt = (code: string) =>
    code === "ENOENT" || code === "ENOTSOCK"
      ? { address: "/tmp/x.sock" }
      : code === "ENOTFOUND" || code === "EAI_AGAIN"
        ? { hostname: "db.example" }
        : { address: "127.0.0.1", port: 7000 };

  test.each([...SYSTEM_ERROR_CODES, ...TLS_ERROR_CODES])(
    "shows %s exactly as explain() words it",
    (code) => {
      const explained = explain(Object.assign(new Error(code), { code }, shownAt(code)));
      expect(row(code)).toEqual([explained.message, explained.hint]);
    },
  );

  test.each(["EADDRINUSE", "ECONNREFUSED", "EACCES", "ENOENT"])(
    "shows %s on a unix path exactly as explain() words it",
    (code) => {
      // ENOENT is worded apart only where a server binds (Node names the syscall listen).
      const syscall = code === "ENOENT" ? "listen" : "connect";
      const explained = explain(
        Object.assign(new Error(code), { code, syscall, address: "/tmp/x.sock", port: -1 }),
      );
      expect(row(code, 1)).toEqual([explained.message, explained.hint]);
    },
  );
});
