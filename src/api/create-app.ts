import type { Logger } from "pino";
import type { Engine } from "../engine/engine.js";
import type { JobsOptions, JobWorker } from "../jobs/index.js";
import type { Meter } from "../metering/index.js";
import type { Store } from "../store/index.js";
import { type AppModule, type AppOptions, buildApp, type CreatedApp } from "./app.js";
import { type DocsAssets, registerDocs } from "./docs.js";
import { packageDocsAssets } from "./docs-package.js";
import type { ModelHost } from "./host.js";
import { Metrics } from "./metrics.js";
import { rerankJobs } from "./routes/jobs-worker.js";
import { registerUsage } from "./routes/usage.js";

export interface NodeAppOptions extends Omit<AppOptions, "modules" | "meter" | "logger"> {
  logger?: Logger | undefined;
  /** Stored API keys, quotas and the usage ledger (`--store`); adds `/v1/usage`. */
  meter?: Meter | undefined;
  /** Webhook reranking (`/v1/rerank/jobs`) on this store. */
  jobs?: { store: Store; options: JobsOptions } | undefined;
  /** Swagger UI's files for `/docs` (default: the installed swagger-ui-dist package). */
  docsAssets?: DocsAssets;
}

/**
 * `buildApp` as the Node runtimes (the server, the functions) mount it: Prometheus metrics at
 * `/metrics` (unless `metrics: null`), `/v1/usage` with a meter, webhook reranking with a job store, and the API page at
 * `/docs` from the installed swagger-ui-dist. `jobs` is the worker that runs the stored jobs:
 * `start()` it to process them in this process.
 */
export function createApp(
  engineOrHost: Engine | ModelHost,
  options: NodeAppOptions = {},
): CreatedApp & { jobs: JobWorker | null } {
  const { jobs: jobStore, docsAssets, ...rest } = options;
  // `metrics: null` mounts none (a function: no scraper reaches an instance).
  const metrics = options.metrics === undefined ? new Metrics() : options.metrics;
  const modules: AppModule[] = [];
  const meter = options.meter;
  if (meter) modules.push((app) => registerUsage(app, meter));
  const jobs = jobStore
    ? rerankJobs(jobStore.store, jobStore.options, options.logger, meter)
    : null;
  if (jobs) modules.push(jobs.routes);
  const docs = docsAssets ?? packageDocsAssets();
  modules.push((app) => registerDocs(app, docs));
  const created = buildApp(engineOrHost, { ...rest, metrics, modules });
  return { ...created, metrics, jobs: jobs?.worker ?? null };
}
