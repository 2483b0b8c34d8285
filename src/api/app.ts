import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import type { Logger } from "pino";
import { TooManyRequestsError } from "../core/index.js";
import type { Engine } from "../engine/engine.js";
import { DEFAULT_TEMPLATE_LIMITS, type TemplateLimits } from "../engine/template-limits.js";
import type { JobsOptions, JobWorker } from "../jobs/index.js";
import type { Meter } from "../metering/index.js";
import type { Store } from "../store/index.js";
import { apiKeyAuth } from "./auth.js";
import type { ApiEnv, App } from "./context.js";
import {
  DEFAULT_MAX_CLIENT_BATCH_SIZE,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_PAYLOAD_LIMIT,
} from "./defaults.js";
import { drainBody, drainLimit } from "./drain.js";
import { errorBody, PayloadTooLargeError, toErrorResponse } from "./errors.js";
import { familyPaths, limitRoutes, type RouteFamily } from "./families.js";
import { ModelHost, uniqueHosts } from "./host.js";
import { metering } from "./metering.js";
import type { Metrics } from "./metrics.js";
import type { RouteDeps } from "./route.js";
import { registerCohere } from "./routes/cohere.js";
import { registerJobs } from "./routes/jobs.js";
import { registerMeta } from "./routes/meta.js";
import { registerOpenAI } from "./routes/openai.js";
import { registerPooling } from "./routes/pooling.js";
import { registerScore } from "./routes/score.js";
import { registerTei } from "./routes/tei.js";
import { registerTeiRoot } from "./routes/tei-root.js";
import { registerTokenize } from "./routes/tokenize.js";
import { registerUsage } from "./routes/usage.js";
import { teiError, teiErrorStyle } from "./tei-errors.js";
import { warningHeader } from "./warnings.js";

export interface AppOptions {
  /** Most inputs in one request (`--max-client-batch-size`). */
  maxClientBatchSize?: number;
  /** Largest request body in bytes (`--payload-limit`). */
  payloadLimit?: number;
  /** Largest response in bytes, estimated before running (`--max-response-bytes`). */
  maxResponseBytes?: number;
  /** Accept `chat_template` in requests (`--trust-request-chat-template`), rendered within these limits. */
  trustRequestChatTemplate?: boolean;
  chatTemplateLimits?: TemplateLimits;
  /** Accepted API keys; none means no authentication. */
  apiKeys?: readonly string[];
  version?: string;
  logger?: Logger;
  /** Prometheus metrics behind `/metrics`; none in runtimes without them (the edge Worker). */
  metrics?: Metrics | null;
  /** Mount only these endpoint families' POST routes (a serverless function); default all. */
  routes?: readonly RouteFamily[];
  /** Stored API keys, quotas and the usage ledger (`--store`); adds `/v1/usage`. */
  meter?: Meter;
  /**
   * Further models served beside the first, each its own engine (scheduler, limits) on the
   * process's CPU; requests pick one by their `model` field, none → the first.
   */
  models?: readonly ModelHost[];
  /** Webhook reranking (`/v1/rerank/jobs`) on this store. */
  jobs?: { store: Store; options: JobsOptions };
}

export interface CreatedApp {
  app: App;
  host: ModelHost;
  metrics: Metrics | null;
  /** The rerank job worker, when jobs are configured: `start()` it to process in this process. */
  jobs: JobWorker | null;
}

const ms = (v: number) => v.toFixed(3);

/**
 * The Hono app shared by the Node server, every serverless function and the edge Worker.
 * Runtime-neutral: `createApp` (Node) adds Prometheus metrics by default.
 */
export function buildApp(engineOrHost: Engine | ModelHost, options: AppOptions = {}): CreatedApp {
  const host = engineOrHost instanceof ModelHost ? engineOrHost : ModelHost.ready(engineOrHost);
  const metrics = options.metrics ?? null;
  metrics?.watch(() => host.engine?.scheduler ?? null);
  const payloadLimit = options.payloadLimit ?? DEFAULT_PAYLOAD_LIMIT;
  const log = options.logger;
  const app: App = new OpenAPIHono<ApiEnv>();
  if (options.routes) limitRoutes(app, familyPaths(options.routes));

  app.use(async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const id =
      incoming && /^[\w.:-]{1,128}$/.test(incoming)
        ? incoming
        : crypto.randomUUID().replaceAll("-", "");
    c.set("requestId", id);
    const timing = {
      start: performance.now(),
      tokenization: 0,
      queue: 0,
      inference: 0,
      inputTokens: 0,
      inputs: 0,
    };
    c.set("timing", timing);
    c.set("maxResponseBytes", options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
    await next();
    const total = performance.now() - timing.start;
    // Set on the finished response's headers: c.header() after next() would rebuild the
    // response around a body stream, once per header.
    const headers = c.res.headers;
    headers.set("x-request-id", id);
    headers.set("x-total-time", ms(total));
    headers.set("x-tokenization-time", ms(timing.tokenization));
    headers.set("x-queue-time", ms(timing.queue));
    headers.set("x-inference-time", ms(timing.inference));
    headers.set("x-compute-tokens", String(timing.inputTokens));
    if (host.state === "stopping") headers.set("connection", "close");
    const warnings = c.get("warnings");
    if (warnings) {
      headers.set("warning", warningHeader(warnings));
      log?.warn({ id, path: c.req.path, warnings }, "deprecated request parameters");
    }
    if (metrics && c.req.method === "POST") {
      const method = c.req.routePath;
      metrics.requests.inc({ method });
      if (c.res.status < 400) {
        metrics.success.inc({ method });
        metrics.duration.observe({ method }, total / 1000);
        metrics.tokenization.observe(timing.tokenization / 1000);
        metrics.queue.observe(timing.queue / 1000);
        metrics.inference.observe(timing.inference / 1000);
        metrics.inputLength.observe(timing.inputTokens);
      } else {
        metrics.failure.inc({ err: String(c.res.status) });
      }
    }
    log?.debug(
      { id, method: c.req.method, path: c.req.path, status: c.res.status, ms: total },
      "request",
    );
  });
  app.use(teiErrorStyle);
  const meter = options.meter;
  app.use(apiKeyAuth(options.apiKeys ?? [], meter && ((secret) => meter.authenticate(secret))));
  if (meter) app.use(metering(meter, host));
  const limitBody = bodyLimit({
    maxSize: payloadLimit,
    onError: () => {
      throw new PayloadTooLargeError(payloadLimit);
    },
  });
  app.use(async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    // Decide from Content-Length without materialising the web Request; stream-count chunked bodies.
    const length = c.req.header("content-length");
    if (length !== undefined && c.req.header("transfer-encoding") === undefined) {
      if (Number(length) > payloadLimit) throw new PayloadTooLargeError(payloadLimit);
      return next();
    }
    return limitBody(c, next);
  });

  const deps: RouteDeps = {
    host,
    hosts: uniqueHosts([host, ...(options.models ?? [])]),
    limits: {
      maxClientBatchSize: options.maxClientBatchSize ?? DEFAULT_MAX_CLIENT_BATCH_SIZE,
      trustRequestChatTemplate: options.trustRequestChatTemplate ?? false,
      chatTemplateLimits: options.chatTemplateLimits ?? DEFAULT_TEMPLATE_LIMITS,
    },
  };
  registerOpenAI(app, deps);
  registerCohere(app, deps);
  registerPooling(app, deps);
  registerScore(app, deps);
  registerTei(app, deps);
  registerTeiRoot(app, deps, { version: options.version ?? "0.0.0" });
  registerTokenize(app, deps);
  if (meter) registerUsage(app, meter);
  const jobs = options.jobs
    ? registerJobs(app, deps, options.jobs.store, options.jobs.options, log)
    : null;
  registerMeta(app, deps, { version: options.version ?? "0.0.0", metrics });

  app.notFound((c) =>
    c.json(errorBody(`Route ${c.req.method} ${c.req.path} not found`, "NotFoundError", 404), 404),
  );
  app.onError(async (err, c) => {
    // The answer must reach a client still sending: read (a bounded amount of) the body first.
    if (err instanceof PayloadTooLargeError) await drainBody(c.env, drainLimit(payloadLimit));
    const { status, body } = toErrorResponse(err);
    if (status >= 500 && status !== 503) log?.error({ err, path: c.req.path }, "request failed");
    if (err instanceof TooManyRequestsError) c.header("retry-after", String(err.retryAfterSeconds));
    if (c.get("errorStyle") === "tei") {
      const tei = teiError(status, body);
      return c.json(tei.body, tei.status as 400);
    }
    return c.json(body, status as 400);
  });
  return { app, host, metrics, jobs };
}
