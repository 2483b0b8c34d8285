import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import type { Logger } from "pino";
import { TooManyRequestsError } from "../core/index.js";
import type { Engine } from "../engine/engine.js";
import { apiKeyAuth } from "./auth.js";
import type { ApiEnv } from "./context.js";
import { DEFAULT_MAX_CLIENT_BATCH_SIZE, DEFAULT_PAYLOAD_LIMIT } from "./defaults.js";
import { errorBody, PayloadTooLargeError, toErrorResponse } from "./errors.js";
import { ModelHost } from "./host.js";
import type { Metrics } from "./metrics.js";
import type { App, RouteDeps } from "./route.js";
import { registerCohere } from "./routes/cohere.js";
import { registerMeta } from "./routes/meta.js";
import { registerOpenAI } from "./routes/openai.js";
import { registerPooling } from "./routes/pooling.js";
import { registerScore } from "./routes/score.js";
import { registerTei } from "./routes/tei.js";
import { registerTokenize } from "./routes/tokenize.js";

export interface AppOptions {
  /** Most inputs in one request (`--max-client-batch-size`). */
  maxClientBatchSize?: number;
  /** Largest request body in bytes (`--payload-limit`). */
  payloadLimit?: number;
  /** Accepted API keys; none means no authentication. */
  apiKeys?: readonly string[];
  version?: string;
  logger?: Logger;
  /** Prometheus metrics behind `/metrics`; none in runtimes without them (the edge Worker). */
  metrics?: Metrics | null;
}

export interface CreatedApp {
  app: App;
  host: ModelHost;
  metrics: Metrics | null;
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
    };
    c.set("timing", timing);
    await next();
    const total = performance.now() - timing.start;
    c.header("x-request-id", id);
    c.header("x-total-time", ms(total));
    c.header("x-tokenization-time", ms(timing.tokenization));
    c.header("x-queue-time", ms(timing.queue));
    c.header("x-inference-time", ms(timing.inference));
    c.header("x-compute-tokens", String(timing.inputTokens));
    if (host.state === "stopping") c.header("connection", "close");
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
  app.use(apiKeyAuth(options.apiKeys ?? []));
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
    limits: { maxClientBatchSize: options.maxClientBatchSize ?? DEFAULT_MAX_CLIENT_BATCH_SIZE },
  };
  registerOpenAI(app, deps);
  registerCohere(app, deps);
  registerPooling(app, deps);
  registerScore(app, deps);
  registerTei(app, deps);
  registerTokenize(app, deps);
  registerMeta(app, deps, { version: options.version ?? "0.0.0", metrics });

  app.notFound((c) =>
    c.json(errorBody(`Route ${c.req.method} ${c.req.path} not found`, "NotFoundError", 404), 404),
  );
  app.onError((err, c) => {
    const { status, body } = toErrorResponse(err);
    if (status >= 500 && status !== 503) log?.error({ err, path: c.req.path }, "request failed");
    if (err instanceof TooManyRequestsError) c.header("retry-after", String(err.retryAfterSeconds));
    return c.json(body, status as 400);
  });
  return { app, host, metrics };
}
