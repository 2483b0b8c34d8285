import { ENGINE_DEFAULTS } from "../engine/defaults.js";

/**
 * The server runs the session in one worker thread by default; `--workers 0` runs it on the event
 * loop (no thread hop for a lone request, one session in memory: see README, Performance).
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

/** Prompt length the default concurrency bound plans for. */
export const TYPICAL_PROMPT_TOKENS = 128;

/**
 * Default `--max-concurrent-requests` of the server: as many requests of a typical length as
 * fill one micro-batch per worker (8192 / 128 = 64 with the defaults). Requests beyond it get a
 * 429 at once instead of queueing for seconds and growing the heap.
 */
export function defaultMaxConcurrentRequests(
  maxBatchTokens: number = ENGINE_DEFAULTS.maxBatchTokens,
  workers = 1,
): number {
  return Math.max(16, Math.ceil((maxBatchTokens * Math.max(workers, 1)) / TYPICAL_PROMPT_TOKENS));
}
