import type { MiddlewareHandler } from "hono";
import { EdgepoolError } from "../core/index.js";
import type { ApiKey } from "../store/keys.js";
import type { LedgerRow } from "../store/ledger.js";
import type { ApiEnv } from "./context.js";
import { ServiceUnavailableError } from "./errors.js";
import { internalPrincipal, internalUsage } from "./internal.js";

/**
 * After authentication: admit the caller's stored key on billable requests (rate limit, quotas →
 * 429) and commit one ledger row per billable request, whatever its outcome, before the response
 * is released. A job submission (`billing: "deferred"`) keeps its admission for the job's own
 * row, written with its result; polls and usage reads are not billed.
 */
/**
 * What the app asks of its metering (the store-backed `Meter` of `src/metering`): authentication,
 * admission and one ledger row per billable request. `A` is an admission, handed back as it came.
 */
export interface AppMeter<A = unknown> {
  bills(method: string): boolean;
  authenticate(secret: string): Promise<ApiKey | null>;
  admit(key: ApiKey): Promise<A>;
  record(row: LedgerRow, admission: A | null): Promise<void>;
  release(admission: A | null): Promise<void>;
  now(): number;
}

export function metering(meter: AppMeter): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const principal = c.get("principal");
    if (!principal || !meter.bills(c.req.method)) return next();
    const internal = internalPrincipal(c);
    let admission: unknown = null;
    let status: number | null = null;
    try {
      if (principal.key && !internal) admission = await meter.admit(principal.key);
      await next();
    } catch (err) {
      status = err instanceof EdgepoolError ? err.status : 500;
      throw err;
    } finally {
      const deferred = status === null ? c.get("billing") : undefined;
      if (deferred === "deferred") {
        // The job's row is written with its result.
      } else if (deferred === "none") {
        await meter.release(admission);
      } else {
        const timing = c.get("timing");
        // After the handler ran, routePath is its pattern; a request refused here has only its path.
        const route = c.req.routePath === "/*" ? c.req.path : c.req.routePath;
        const row = {
          id: crypto.randomUUID(),
          keyId: principal.keyId,
          route,
          model: timing.model,
          inputs: timing.inputs,
          promptTokens: timing.inputTokens,
          status: status ?? c.res.status,
          durationMs: performance.now() - timing.start,
          requestId: c.get("requestId"),
          createdAt: meter.now(),
        };
        const usage = internal && internalUsage(c);
        if (usage) usage(row);
        else {
          try {
            await meter.record(row, admission);
          } catch {
            // Never an answer without its row: a billable one becomes a 503.
            if (row.status < 400) {
              // biome-ignore lint/correctness/noUnsafeFinally: the answer must not be released
              throw new ServiceUnavailableError(
                "The request's usage could not be recorded; it was not billed: retry",
              );
            }
          }
        }
      }
    }
  };
}
