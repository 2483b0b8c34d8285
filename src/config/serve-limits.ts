/**
 * The server runs the session in one worker thread by default; `--workers 0` runs it on the event
 * loop (no thread hop for a lone request, one session in memory: see docs/performance.md).
 */
export const DEFAULT_SERVE_WORKERS = 1;

/** HTTP timeouts of `edgepool serve`, tighter than Node's (60 s headers, 300 s request). */
export const HTTP_DEFAULTS = {
  /** Longest wait for a request's headers (`--headers-timeout`). */
  headersTimeoutMs: 10_000,
  /** Longest wait for a whole request, headers and body (`--request-timeout`). */
  requestTimeoutMs: 30_000,
  /** Idle time before a kept-alive connection is closed (`--keep-alive-timeout`). */
  keepAliveTimeoutMs: 5_000,
  /** How often connections are checked against the timeouts. */
  checkIntervalMs: 1_000,
} as const;

/** Requests each session worker may hold (queued or computing) by default. */
export const CONCURRENT_REQUESTS_PER_WORKER = 64;

/**
 * Default `--max-concurrent-requests` of the server: 64 per worker (64 with the defaults), about
 * as many one-sentence requests as a worker computes in 0.1 s here. Requests beyond it get a 429
 * at once instead of queueing for seconds and growing the heap. Independent of
 * `--max-batch-tokens`, which bounds the memory of one micro-batch, not the queue.
 */
export function defaultMaxConcurrentRequests(workers = DEFAULT_SERVE_WORKERS): number {
  return CONCURRENT_REQUESTS_PER_WORKER * Math.max(workers, 1);
}
