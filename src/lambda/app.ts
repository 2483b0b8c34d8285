import { buildApp } from "../api/app.js";
import type { App } from "../api/context.js";
import type { NodeAppOptions } from "../api/create-app.js";
import type { DirectPath } from "../api/direct.js";
import { registerDocs } from "../api/docs.js";
import { packageDocsAssets } from "../api/docs-package.js";
import type { ModelHost } from "../api/host.js";
import type { StoreServices } from "../config/store-services.js";
import type { JobWorker } from "../jobs/index.js";
import { directFetch } from "./direct-fetch.js";
import { limitResponse } from "./response-limit.js";
import { lambdaHandlers } from "./runtime.js";

export type FunctionAppOptions = Omit<NodeAppOptions, "meter" | "jobs" | "metrics" | "docsAssets">;

/**
 * A function's HTTP side, imported by `createFunction` once its model has started loading (Hono,
 * the schemas and the routes load meanwhile): the app with its family's routes, the meta routes
 * and the API page, and its Lambda handlers. No Prometheus metrics (no scraper reaches an
 * instance); `/v1/usage` and the jobs only with a store, whose code then loads (a function
 * without one never parses it). Buffered answers over `responseLimit` become a 413. The busiest
 * routes' common requests take the server's direct path (`directFetch`).
 */
export async function functionApp(
  host: ModelHost,
  services: StoreServices | null,
  options: FunctionAppOptions,
  ensure: () => Promise<void>,
  responseLimit: number,
): Promise<{ app: App; jobs: JobWorker | null } & ReturnType<typeof lambdaHandlers>> {
  let created: { app: App; jobs: JobWorker | null; direct: DirectPath | null };
  if (services) {
    const { createApp } = await import("../api/create-app.js");
    created = createApp(host, {
      ...options,
      metrics: null,
      meter: services.meter,
      jobs: services.jobs,
    });
  } else {
    const docs = packageDocsAssets();
    const { app, direct } = buildApp(host, {
      ...options,
      metrics: null,
      modules: [(a) => registerDocs(a, docs)],
    });
    created = { app, jobs: null, direct };
  }
  const handlers = lambdaHandlers(directFetch(created.app, created.direct), ensure, (r) =>
    limitResponse(r, responseLimit),
  );
  return { app: created.app, jobs: created.jobs, ...handlers };
}
