import type { z } from "@hono/zod-openapi";
import type { Logger } from "pino";
import { type JobsOptions, JobWorker, postCallback } from "../../jobs/index.js";
import type { Meter } from "../../metering/index.js";
import type { LedgerRow, Store } from "../../store/index.js";
import type { AppModule } from "../app.js";
import type { App } from "../context.js";
import { internalEnv } from "../internal.js";
import { type RerankJobRequest, registerJobs, rerankOf } from "./jobs.js";

/**
 * The worker that runs stored rerank jobs through the app (as their owner, metered but not
 * admitted again) and delivers the signed results.
 */
export function rerankJobWorker(
  app: () => App,
  store: Store,
  jobs: JobsOptions,
  log?: Logger,
  meter?: Meter,
): JobWorker {
  return new JobWorker({
    store,
    signer: jobs.signer,
    retry: jobs.retry,
    leaseMs: jobs.leaseMs,
    concurrency: jobs.concurrency,
    pollMs: jobs.pollMs,
    now: jobs.now ?? Date.now,
    ...(jobs.random ? { random: jobs.random } : {}),
    onError: (err, job) => log?.error({ err: (err as Error).message, job: job?.id }, "rerank job"),
    onDone: (job, status) => log?.info({ job: job.id, status }, "rerank job done"),
    execute: async (job) => {
      const rerank = rerankOf(JSON.parse(job.request) as z.infer<typeof RerankJobRequest>);
      let row: LedgerRow | null = null;
      const res = await app().request(
        "/v1/rerank",
        {
          method: "POST",
          headers: { "content-type": "application/json", "x-request-id": job.id },
          body: JSON.stringify(rerank),
        },
        internalEnv({ keyId: job.owner, key: null }, (r) => {
          row = r;
        }),
      );
      const body = await res.text();
      // One row per job, whatever recomputes it: its id is the job's.
      const usage =
        meter && row ? meter.jobUsage({ ...(row as LedgerRow), id: job.id }) : undefined;
      return { status: res.status, body, ...(usage ? { usage } : {}) };
    },
    send: (url, body, headers) =>
      postCallback(url, body, headers, {
        timeoutMs: jobs.callbackTimeoutMs,
        allowPrivate: jobs.callbacks.allowPrivate,
      }),
  });
}

/** Webhook reranking as an app module, and the worker that runs the jobs its routes store. */
export function rerankJobs(
  store: Store,
  jobs: JobsOptions,
  log?: Logger,
  meter?: Meter,
): { routes: AppModule; worker: JobWorker } {
  let mounted: App | null = null;
  const worker = rerankJobWorker(
    () => {
      if (!mounted) throw new Error("the rerank job routes are not mounted on an app");
      return mounted;
    },
    store,
    jobs,
    log,
    meter,
  );
  const routes: AppModule = (app, deps) => {
    mounted = app;
    registerJobs(app, deps, store, jobs, worker, log);
  };
  return { routes, worker };
}
