import type { MiddlewareHandler } from "hono";
import { EdgepoolError } from "../core/index.js";
import type { Meter } from "../metering/index.js";
import type { ApiEnv } from "./context.js";
import type { ModelHost } from "./host.js";
import { internalPrincipal } from "./internal.js";

/**
 * After authentication: admit the caller's stored key (rate limit, quotas → 429) and append one
 * ledger row per authenticated request, whatever its outcome.
 */
export function metering(meter: Meter, host: ModelHost): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const principal = c.get("principal");
    if (!principal) return next();
    let admitted = false;
    let status: number | null = null;
    try {
      if (principal.key && !internalPrincipal(c)) {
        await meter.admit(principal.key);
        admitted = true;
      }
      await next();
    } catch (err) {
      status = err instanceof EdgepoolError ? err.status : 500;
      throw err;
    } finally {
      const timing = c.get("timing");
      // After the handler ran, routePath is its pattern; a request refused here has only its path.
      const route = c.req.routePath === "/*" ? c.req.path : c.req.routePath;
      // Written before the response when batching is off (functions: a frozen instance flushes nothing).
      await meter.record(
        {
          id: crypto.randomUUID(),
          keyId: principal.keyId,
          route,
          model: timing.inputs > 0 ? (host.servedNames[0] ?? null) : null,
          inputs: timing.inputs,
          promptTokens: timing.inputTokens,
          status: status ?? c.res.status,
          durationMs: performance.now() - timing.start,
          requestId: c.get("requestId"),
          createdAt: meter.now(),
        },
        principal.key,
        admitted,
      );
    }
  };
}
