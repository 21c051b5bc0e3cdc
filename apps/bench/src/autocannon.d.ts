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
  }
  interface Result {
    /** Seconds the run took. */
    duration: number;
    requests: { total: number; average: number };
    errors: number;
    timeouts: number;
    non2xx: number;
  }
  export default function autocannon(options: Options): Promise<Result>;
}
