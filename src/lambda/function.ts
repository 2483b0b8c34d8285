import pino from "pino";
import type { App } from "../api/context.js";
import type { RouteFamily } from "../api/families.js";
import { appParts, directPathOf } from "../api/parts.js";
import { type FunctionConfig, functionConfig, LAMBDA_RESPONSE_LIMIT } from "../config/function.js";
import { functionStoreServices } from "../config/function-store.js";
import { listFrom } from "../config/list.js";
import type { StoreServices } from "../config/store-services.js";
import { loadEngine } from "../engine/node/load.js";
import type { JobWorker } from "../jobs/index.js";
import type { FunctionAppOptions } from "./app.js";
import { directFetch, type Fetch } from "./direct-fetch.js";
import { type EngineLoader, FunctionInstance } from "./instance.js";
import { limitResponse } from "./response-limit.js";
import { lambdaHandlers } from "./runtime.js";
import { type ParameterReader, withSecrets } from "./secrets.js";
import { functionVersion } from "./version.js";

export interface FunctionOptions {
  /** Environment to read (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** How the engine is made (default `loadEngine`). */
  loader?: EngineLoader;
  version?: string;
  /** Where the JSON log lines go (default: stdout, written synchronously before the instance freezes). */
  logStream?: pino.DestinationStream;
  /** How `*_PARAMETER` secrets are read (default: SSM Parameter Store). */
  parameters?: ParameterReader;
}

export interface EdgepoolFunction {
  /** The function's app (Hono, its family's routes), loaded by the first call if not yet. */
  app: () => Promise<App>;
  instance: FunctionInstance;
  /** Buffered handler: API Gateway (HTTP API v2, REST v1), ALB and Function URL events. */
  handler: ReturnType<typeof lambdaHandlers>["handler"];
  /**
   * Streaming handler (Function URL with `InvokeMode: RESPONSE_STREAM`): no 6 MB cap. Present only
   * inside Lambda's Node runtime, which provides `awslambda.streamifyResponse`.
   */
  streamHandler: ReturnType<typeof lambdaHandlers>["streamHandler"];
  /** Metering and jobs, when the environment names a store (`DATABASE_URL`). */
  services: StoreServices | null;
  /** The rerank job worker, when jobs are configured (`EDGEPOOL_WEBHOOK_SECRETS`). */
  jobs: JobWorker | null;
}

/**
 * A serverless function serving one endpoint family: the shared app with only that family's
 * routes, and an engine loaded once per instance (call it at module top level, in the init phase).
 */
export async function createFunction(
  family: RouteFamily,
  opts: FunctionOptions = {},
): Promise<EdgepoolFunction> {
  let env = opts.env ?? process.env;
  let config: FunctionConfig | null = null;
  let configError: Error | null = null;
  try {
    env = await withSecrets(env, opts.parameters);
    config = functionConfig(env);
  } catch (err) {
    configError = err as Error;
  }
  const log = pino(
    { level: config?.logLevel ?? "info", base: { service: "edgepool" } },
    opts.logStream ?? pino.destination({ sync: true }),
  );
  const name = env.AWS_LAMBDA_FUNCTION_NAME ?? family;
  const servedName =
    config?.engine.servedModelName ?? env.EDGEPOOL_MODEL_URI ?? env.EDGEPOOL_MODEL ?? "model";
  const instance = new FunctionInstance(
    servedName,
    () => {
      if (!config) throw configError!;
      return { ...config.engine, servedModelName: servedName };
    },
    opts.loader ?? loadEngine,
    log,
    name,
  );
  const loading = instance.ensure();
  const services = await functionStoreServices(env, log);
  const options: FunctionAppOptions = {
    routes: [family],
    apiKeys: config?.apiKeys ?? listFrom(env.EDGEPOOL_API_KEYS),
    logger: log,
    version: opts.version ?? functionVersion(),
    ...(config
      ? { maxClientBatchSize: config.maxClientBatchSize, payloadLimit: config.payloadLimit }
      : {}),
  };
  // The busiest routes' common requests take the direct path, which needs neither Hono nor zod:
  // with one, the HTTP side loads when a request first needs it. Without one (another family, API
  // keys, a store), it loads now, while the model's files are read.
  const direct = services
    ? null
    : directPathOf(appParts(instance.host, { ...options, metrics: null }));
  let http: Promise<FunctionHttp> | null = null;
  const app = () => {
    http ??= import("./app.js").then(({ functionApp }) =>
      functionApp(instance.host, services, options),
    );
    return http;
  };
  const lazy: Fetch = { fetch: async (req, e, ctx) => (await app()).app.fetch(req, e, ctx) };
  const fetcher = direct ? directFetch(lazy, direct) : (await app()).app;
  const responseLimit = config?.responseLimit ?? LAMBDA_RESPONSE_LIMIT;
  const { handler, streamHandler } = lambdaHandlers(
    fetcher,
    () => instance.ensure(),
    (r) => limitResponse(r, responseLimit),
  );
  await loading;
  const jobs = direct ? null : (await app()).jobs;
  return {
    app: async () => (await app()).app,
    instance,
    handler,
    streamHandler,
    services,
    jobs,
  };
}

type FunctionHttp = Awaited<ReturnType<typeof import("./app.js").functionApp>>;
