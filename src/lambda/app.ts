import { buildApp } from "../api/app.js";
import type { App } from "../api/context.js";
import type { NodeAppOptions } from "../api/create-app.js";
import { registerDocs } from "../api/docs.js";
import { packageDocsAssets } from "../api/docs-package.js";
import type { ModelHost } from "../api/host.js";
import type { StoreServices } from "../config/store-services.js";
import type { JobWorker } from "../jobs/index.js";

export type FunctionAppOptions = Omit<NodeAppOptions, "meter" | "jobs" | "metrics" | "docsAssets">;

/**
 * A function's HTTP side (Hono, the schemas, the routes), imported by `createFunction` when a
 * request needs it, or at once when the function has no direct path: the app with its family's
 * routes, the meta routes and the API page. No Prometheus metrics (no scraper reaches an
 * instance); `/v1/usage` and the jobs only with a store, whose code then loads (a function
 * without one never parses it).
 */
export async function functionApp(
  host: ModelHost,
  services: StoreServices | null,
  options: FunctionAppOptions,
): Promise<{ app: App; jobs: JobWorker | null }> {
  if (services) {
    const { createApp } = await import("../api/create-app.js");
    const { app, jobs } = createApp(host, {
      ...options,
      metrics: null,
      meter: services.meter,
      jobs: services.jobs,
    });
    return { app, jobs };
  }
  const docs = packageDocsAssets();
  const { app } = buildApp(host, {
    ...options,
    metrics: null,
    modules: [(a) => registerDocs(a, docs)],
  });
  return { app, jobs: null };
}
