/** Retry schedule of callback deliveries (`--job-attempts`, `--job-backoff-ms`, `--job-backoff-max-ms`). */
export interface RetryPolicy {
  /** Delivery attempts in all, the first included (default 8). */
  attempts: number;
  /** Delay after the first failed attempt (default 5 s); doubles each time. */
  baseMs: number;
  /** Longest delay (default 1 h). */
  maxMs: number;
  /** Each delay is drawn uniformly within ± this fraction (default 0.2). */
  jitter: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 8,
  baseMs: 5_000,
  maxMs: 3_600_000,
  jitter: 0.2,
};

/** The nominal delay after failed attempt `attempt` (1-based): base · 2^(attempt−1), capped. */
export function nominalDelay(attempt: number, policy: RetryPolicy): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
}

/** The delay with jitter, so that callbacks failing together do not retry together. */
export function retryDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  const nominal = nominalDelay(attempt, policy);
  return Math.round(nominal * (1 - policy.jitter + 2 * policy.jitter * random()));
}
