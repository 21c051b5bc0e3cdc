/**
 * Private: the line break at the end of a datagram. `nc -u` and `socat` send one line per
 * datagram with its `\n`; our client sends the bare text. Both are shown without it.
 */

/** `"\r\n"`, `"\n"` or `""`: how the datagram ends. */
export function lineBreakOf(data: Buffer): string {
  const tail = data.toString("latin1", Math.max(0, data.length - 2));
  return tail.endsWith("\r\n") ? "\r\n" : tail.endsWith("\n") ? "\n" : "";
}

/** The datagram as UTF-8 text, without its final line break. */
export function withoutLineBreak(data: Buffer): string {
  return data.toString("utf8", 0, data.length - lineBreakOf(data).length);
}
