/**
 * A token bucket per key: `perMinute` requests in a burst, refilled at `perMinute` per minute.
 * Per process: with several instances each enforces it for the requests it serves.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** 0 when a request may go now (and takes a token), else the seconds until one may. */
  take(keyId: string, perMinute: number, now: number): number {
    const ratePerMs = perMinute / 60_000;
    const b = this.buckets.get(keyId) ?? { tokens: perMinute, at: now };
    b.tokens = Math.min(perMinute, b.tokens + (now - b.at) * ratePerMs);
    b.at = now;
    this.buckets.set(keyId, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / ratePerMs / 1000));
  }
}
