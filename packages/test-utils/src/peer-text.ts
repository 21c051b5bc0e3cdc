/**
 * Shared by the apps' output tests: hostile peer text and what it must look like once escaped,
 * and the accounting of a rate-limited log (lines shown + messages summed up in summaries).
 */

/** A screen clear, a clipboard write (OSC 52), a C1 CSI, a bidi override and a line separator. */
export const HOSTILE = "hi\u001b[2J\u001b]52;c;aGVsbG8=\u0007\u009b31m\u202eevil\u2028x";

/** {@link HOSTILE} as every program must show it. */
export const ESCAPED = "hi\\x1b[2J\\x1b]52;c;aGVsbG8=\\x07\\x9b31m\\u202eevil\\u2028x";

/** True when `output` holds a character a terminal would act on, other than its line breaks. */
export function hasRawControls(output: string): boolean {
  return /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(output.replaceAll("\n", ""));
}

/**
 * In a server's log, the lines shown for `source` (equal to `shownLine`) and the messages its
 * summaries ("… 18,204 more messages from SOURCE not shown") say were not shown.
 */
export function logAccounting(
  lines: readonly string[],
  source: string,
  shownLine: string,
): { shown: number; notShown: number } {
  const summary = /^… ([\d,]+) more messages? from (.+) not shown$/;
  let notShown = 0;
  for (const line of lines) {
    const match = summary.exec(line);
    if (match?.[2] === source) notShown += Number(match[1]?.replaceAll(",", ""));
  }
  return { shown: lines.filter((line) => line === shownLine).length, notShown };
}

/** The `message` records of a server's `--json` output. */
export function messageRecords(stdout: string): Record<string, unknown>[] {
  return stdout
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.event === "message");
}
