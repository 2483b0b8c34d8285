import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import type { Engine } from "../engine/engine.js";
import type { TemplateLimits } from "../engine/template-limits.js";
import { apiKeyAuth } from "./auth.js";
import type { ApiEnv, App, AppLogger } from "./context.js";
import type { DirectPath } from "./direct.js";
import { drainBody, drainLimit } from "./drain.js";
import { errorAnswer, errorBody, logFailure, PayloadTooLargeError } from "./errors.js";
import { limitRoutes, type RouteFamily } from "./families.js";
import { ModelHost } from "./host.js";
import { type AppMeter, metering } from "./metering.js";
import type { Metrics } from "./metrics.js";
import { appParts, directPathOf } from "./parts.js";
import type { RouteDeps } from "./route-deps.js";
import { registerCohere } from "./routes/cohere.js";
import { registerMeta } from "./routes/meta.js";
import { registerOpenAI } from "./routes/openai.js";
import { registerPooling } from "./routes/pooling.js";
import { registerScore } from "./routes/score.js";
import { registerTei } from "./routes/tei.js";
import { registerTeiRoot } from "./routes/tei-root.js";
import { registerTokenize } from "./routes/tokenize.js";
import { teiErrorStyle } from "./tei-errors.js";
import { timing } from "./timing.js";

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
  logger?: AppLogger;
  /** Prometheus metrics behind `/metrics`; none in runtimes without them (the edge Worker). */
  metrics?: Metrics | null;
  /** Mount only these endpoint families' POST routes (a serverless function); default all. */
  routes?: readonly RouteFamily[];
  /** Stored API keys, quotas and the usage ledger (`--store`): authentication and metering. */
  meter?: AppMeter;
  /**
   * Further models served beside the first, each its own engine (scheduler, limits) on the
   * process's CPU; requests pick one by their `model` field, none → the first.
   */
  models?: readonly ModelHost[];
  /**
   * Route families a runtime adds beyond the inference routes (`/v1/usage`, `/v1/rerank/jobs`,
   * the `/docs` page): passed in rather than imported, so that a runtime without them (the edge
   * Worker) bundles none of their code.
   */
  modules?: readonly AppModule[];
}

/** Mounts an optional route family on the app. */
export type AppModule = (app: App, deps: RouteDeps) => void;

export interface CreatedApp {
  app: App;
  host: ModelHost;
  metrics: Metrics | null;
  /**
   * The direct path for the busiest routes (a server answers their common requests without the
   * router and middleware); null with authentication or metering, which run in the middleware.
   */
  direct: DirectPath | null;
}

/**
 * The Hono app shared by the Node server, every serverless function and the edge Worker.
 * Runtime-neutral: `createApp` (Node) adds Prometheus metrics by default.
 */
export function buildApp(engineOrHost: Engine | ModelHost, options: AppOptions = {}): CreatedApp {
  const host = engineOrHost instanceof ModelHost ? engineOrHost : ModelHost.ready(engineOrHost);
  const parts = appParts(host, options);
  const { metrics, logger: log } = parts.timing;
  metrics?.watch(() => host.engine?.scheduler ?? null);
  const payloadLimit = parts.payloadLimit;
  const app: App = new OpenAPIHono<ApiEnv>();
  limitRoutes(app, parts.mounted);

  app.use(timing(host, parts.timing));
  app.use(teiErrorStyle);
  const meter = options.meter;
  app.use(apiKeyAuth(options.apiKeys ?? [], meter && ((secret) => meter.authenticate(secret))));
  if (meter) app.use(metering(meter));
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

  const deps = parts.deps;
  registerOpenAI(app, deps);
  registerCohere(app, deps);
  registerPooling(app, deps);
  registerScore(app, deps);
  registerTei(app, deps);
  registerTeiRoot(app, deps, { version: options.version ?? "0.0.0" });
  registerTokenize(app, deps);
  for (const mount of options.modules ?? []) mount(app, deps);
  registerMeta(app, deps, {
    version: options.version ?? "0.0.0",
    metrics,
    auth: parts.auth,
  });

  app.notFound((c) =>
    c.json(errorBody(`Route ${c.req.method} ${c.req.path} not found`, "NotFoundError", 404), 404),
  );
  app.onError(async (err, c) => {
    // The answer must reach a client still sending: read (a bounded amount of) the body first.
    if (err instanceof PayloadTooLargeError) await drainBody(c.env, drainLimit(payloadLimit));
    const answer = errorAnswer(err, c.get("errorStyle"));
    logFailure(log, err, answer.status, c.req.path);
    for (const [name, value] of answer.headers) c.header(name, value);
    return c.json(answer.body, answer.status as 400);
  });
  const direct = directPathOf(parts);
  return { app, host, metrics, direct };
}
