import type { MiddlewareHandler } from "hono";
import type { ApiEnv, AppLogger, Timing } from "./context.js";
import type { ModelHost } from "./host.js";
import type { Metrics } from "./metrics.js";
import { warningHeader } from "./warnings.js";

const ms = (v: number) => v.toFixed(3);

/** A client's `x-request-id` when it is a sane token, else a fresh one. */
function requestIdOf(incoming: string | undefined): string {
  return incoming && /^[\w.:-]{1,128}$/.test(incoming)
    ? incoming
    : crypto.randomUUID().replaceAll("-", "");
}

function observe(metrics: Metrics, method: string, status: number, t: Timing, total: number) {
  metrics.requests.inc({ method });
  if (status >= 400) {
    metrics.failure.inc({ err: String(status) });
    return;
  }
  metrics.success.inc({ method });
  metrics.duration.observe({ method }, total / 1000);
  metrics.tokenization.observe(t.tokenization / 1000);
  metrics.queue.observe(t.queue / 1000);
  metrics.inference.observe(t.inference / 1000);
  metrics.inputLength.observe(t.inputTokens);
}

/**
 * The request's id and timings: TEI's timing headers (`x-total-time`, `x-tokenization-time`,
 * `x-queue-time`, `x-inference-time`, `x-compute-tokens`), the `Warning` header, `/metrics`
 * and the request log line, all read from what the request's run recorded on its context.
 */
export function timing(
  host: ModelHost,
  options: { maxResponseBytes: number; metrics: Metrics | null; logger?: AppLogger | undefined },
): MiddlewareHandler<ApiEnv> {
  const { metrics, logger: log } = options;
  return async (c, next) => {
    const id = requestIdOf(c.req.header("x-request-id"));
    c.set("requestId", id);
    const t: Timing = {
      start: performance.now(),
      tokenization: 0,
      queue: 0,
      inference: 0,
      inputTokens: 0,
      inputs: 0,
      model: null,
    };
    c.set("timing", t);
    c.set("maxResponseBytes", options.maxResponseBytes);
    await next();
    const total = performance.now() - t.start;
    // Set on the finished response's headers: c.header() after next() would rebuild the
    // response around a body stream, once per header.
    const headers = c.res.headers;
    headers.set("x-request-id", id);
    headers.set("x-total-time", ms(total));
    headers.set("x-tokenization-time", ms(t.tokenization));
    headers.set("x-queue-time", ms(t.queue));
    headers.set("x-inference-time", ms(t.inference));
    headers.set("x-compute-tokens", String(t.inputTokens));
    if (host.state === "stopping") headers.set("connection", "close");
    const warnings = c.get("warnings");
    if (warnings) {
      headers.set("warning", warningHeader(warnings));
      // Each in its own words, as vLLM logs them ("The following fields were present…").
      for (const warning of warnings) log?.warn({ id, path: c.req.path }, warning);
    }
    if (metrics && c.req.method === "POST") {
      observe(metrics, c.req.routePath, c.res.status, t, total);
    }
    log?.debug(
      { id, method: c.req.method, path: c.req.path, status: c.res.status, ms: total },
      "request",
    );
  };
}
