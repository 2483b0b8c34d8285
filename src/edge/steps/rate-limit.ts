import { problem, type Step } from "./context.js";

/**
 * Admission: the key's quotas and its requests per minute (the key's own `rate_limit`, else the
 * Worker's), counted in D1 across isolates: 429 with `retry-after` beyond.
 */
export const rateLimit: Step = async (c, next) => {
  const { key, config, ledger } = c.var;
  const limit = key.rateLimitPerMinute ?? config.rateLimitPerMinute;
  const rate = await ledger.admit(key, limit, Date.now());
  if (!rate.allowed) {
    return problem(429, rate.message, "TooManyRequestsError", {
      "retry-after": String(rate.retryAfterSeconds),
    });
  }
  await next();
};
