// autocannon ships no types; these cover what the benchmark uses.
declare module "autocannon" {
  interface Options {
    url: string;
    /** Concurrent connections. */
    connections?: number;
    /** Requests in flight per connection (1: keep-alive without pipelining). */
    pipelining?: number;
    /** Requests to make in all, then stop. */
    amount?: number;
    /** Seconds before a request counts as timed out. */
    timeout?: number;
    /** Milliseconds between samples; a run of `amount` requests ends at a sample. */
    sampleInt?: number;
  }
  interface Result {
    /** Seconds the run took, to 10 ms. */
    duration: number;
    start: Date;
    finish: Date;
    requests: { total: number; average: number };
    /** Response bytes; `total` over the whole run. */
    throughput: { total: number };
    errors: number;
    timeouts: number;
    non2xx: number;
  }
  export default function autocannon(options: Options): Promise<Result>;
}
