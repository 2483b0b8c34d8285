import pino from "pino";
import type { App } from "../api/context.js";
import { createApp } from "../api/create-app.js";
import { ModelHost } from "../api/host.js";
import { functionStoreServices } from "../config/function-store.js";
import { listFrom } from "../config/list.js";
import type { StoreServices } from "../config/store-services.js";
import { UsageError } from "../config/usage-error.js";
import { type JobQueue, sqsJobQueue } from "./jobs.js";
import { lambdaHandlers } from "./runtime.js";
import { type ParameterReader, withSecrets } from "./secrets.js";
import { functionVersion } from "./version.js";

export interface RerankJobsFunction {
  app: App;
  services: StoreServices;
  handler: ReturnType<typeof lambdaHandlers>["handler"];
}

/**
 * `POST /v1/rerank/jobs` and `GET /v1/rerank/jobs/:id` as a function: it stores the job in
 * Postgres and sends its id to the SQS queue (`EDGEPOOL_JOBS_QUEUE_URL`); it loads no model (the
 * worker function does). `EDGEPOOL_SERVED_MODEL_NAME` names the model jobs may ask for.
 */
export async function createRerankJobsFunction(
  opts: {
    env?: NodeJS.ProcessEnv;
    queue?: JobQueue;
    version?: string;
    parameters?: ParameterReader;
  } = {},
): Promise<RerankJobsFunction> {
  const env = await withSecrets(opts.env ?? process.env, opts.parameters);
  const log = pino(
    { level: env.EDGEPOOL_LOG_LEVEL ?? "info", base: { service: "edgepool" } },
    pino.destination({ sync: true }),
  );
  const services = await functionStoreServices(env, log);
  if (!services?.jobs) {
    throw new UsageError(
      "the rerank-jobs function needs DATABASE_URL and EDGEPOOL_WEBHOOK_SECRETS",
    );
  }
  const queueUrl = env.EDGEPOOL_JOBS_QUEUE_URL;
  const queue = opts.queue ?? (queueUrl ? sqsJobQueue(queueUrl) : null);
  if (!queue) throw new UsageError("EDGEPOOL_JOBS_QUEUE_URL is not set");
  services.jobs.options.onAccepted = (job) => queue.send(job.id, 0);
  const served = env.EDGEPOOL_SERVED_MODEL_NAME ?? env.EDGEPOOL_MODEL_URI ?? "model";
  const { app } = createApp(new ModelHost([served]), {
    routes: [],
    metrics: null,
    apiKeys: listFrom(env.EDGEPOOL_API_KEYS),
    logger: log,
    version: opts.version ?? functionVersion(),
    meter: services.meter,
    jobs: services.jobs,
  });
  const { handler } = lambdaHandlers(
    app,
    async () => undefined,
    (r) => r,
  );
  return { app, handler, services };
}
