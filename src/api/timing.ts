import type { MiddlewareHandler } from "hono";
import type { ApiEnv, AppLogger, Timing } from "./context.js";
import type { ModelHost } from "./host.js";
import type { Metrics } from "./metrics.js";
import { warningHeader } from "./warnings.js";

const ms = (v: number) => v.toFixed(3);

/** A client's `x-request-id` when it is a sane token, else a fresh one. */
export function requestIdOf(incoming: string | undefined): string {
  return incoming && /^[\w.:-]{1,128}$/.test(incoming)
    ? incoming
    : crypto.randomUUID().replaceAll("-", "");
}

/** A request's timing record, started now. */
export function startTiming(): Timing {
  return {
    start: performance.now(),
    tokenization: 0,
    queue: 0,
    inference: 0,
    inputTokens: 0,
    inputs: 0,
    model: null,
  };
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

/** What the end of a request reads: its id, timings and warnings, and where it went. */
export interface FinishedRequest {
  id: string;
  timing: Timing;
  warnings: readonly string[] | undefined;
  method: string;
  path: string;
  /** The route's registered path (the `/metrics` label). */
  routePath: string;
  status: number;
}

export interface TimingOptions {
  maxResponseBytes: number;
  metrics: Metrics | null;
  logger?: AppLogger | undefined;
}

/**
 * The end of a request, for the app and the server's direct path alike: TEI's timing headers
 * (`x-total-time`, `x-tokenization-time`, `x-queue-time`, `x-inference-time`,
 * `x-compute-tokens`), the request id, the `Warning` header, `/metrics` and the request log line.
 */
export function finishRequest(
  host: ModelHost,
  options: TimingOptions,
  r: FinishedRequest,
  setHeader: (name: string, value: string) => void,
): void {
  const { metrics, logger: log } = options;
  const t = r.timing;
  const total = performance.now() - t.start;
  setHeader("x-request-id", r.id);
  setHeader("x-total-time", ms(total));
  setHeader("x-tokenization-time", ms(t.tokenization));
  setHeader("x-queue-time", ms(t.queue));
  setHeader("x-inference-time", ms(t.inference));
  setHeader("x-compute-tokens", String(t.inputTokens));
  if (host.state === "stopping") setHeader("connection", "close");
  if (r.warnings) {
    setHeader("warning", warningHeader(r.warnings));
    // Each in its own words, as vLLM logs them ("The following fields were present…").
    for (const warning of r.warnings) log?.warn({ id: r.id, path: r.path }, warning);
  }
  if (metrics && r.method === "POST") observe(metrics, r.routePath, r.status, t, total);
  log?.debug({ id: r.id, method: r.method, path: r.path, status: r.status, ms: total }, "request");
}

/**
 * The request's id and timings, read at its end by `finishRequest` from what the request's run
 * recorded on its context.
 */
export function timing(host: ModelHost, options: TimingOptions): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const id = requestIdOf(c.req.header("x-request-id"));
    c.set("requestId", id);
    const t = startTiming();
    c.set("timing", t);
    c.set("maxResponseBytes", options.maxResponseBytes);
    await next();
    // Set on the finished response's headers: c.header() after next() would rebuild the
    // response around a body stream, once per header.
    const headers = c.res.headers;
    finishRequest(
      host,
      options,
      {
        id,
        timing: t,
        warnings: c.get("warnings"),
        method: c.req.method,
        path: c.req.path,
        routePath: c.req.routePath,
        status: c.res.status,
      },
      (name, value) => headers.set(name, value),
    );
  };
}
