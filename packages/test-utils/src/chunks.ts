/**
 * Shared by the framing tests: a byte stream cut into chunks at given points, as TCP may
 * deliver it.
 */

/**
 * `stream` cut at `points` (each taken modulo `stream.length + 1`, so any natural numbers do);
 * points may repeat or fall at either end, which pushes empty chunks too.
 * @example
 * cutAt(Buffer.from("abcd"), [3, 1]).map(String) //=> ["a", "bc", "d"]
 */
export function cutAt<B extends Uint8Array>(stream: B, points: readonly number[]): B[] {
  const sorted = points.map((n) => n % (stream.length + 1)).sort((a, b) => a - b);
  const chunks: B[] = [];
  let start = 0;
  for (const point of sorted) {
    chunks.push(stream.subarray(start, point) as B);
    start = point;
  }
  chunks.push(stream.subarray(start) as B);
  return chunks;
}
