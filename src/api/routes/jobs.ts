import { createRoute, z } from "@hono/zod-openapi";
import type { Logger } from "pino";
import { EdgepoolError, NotFoundError } from "../../core/index.js";
import { type JobsOptions, type JobWorker, validateCallbackUrl } from "../../jobs/index.js";
import { sha256Hex } from "../../metering/digest.js";
import type { Job, Store } from "../../store/index.js";
import { readBody } from "../body.js";
import type { App, Ctx } from "../context.js";
import { ServiceUnavailableError } from "../errors.js";
import { hostFor } from "../host.js";
import { checkBatchSize } from "../prompts.js";
import type { RouteDeps } from "../route-deps.js";
import { ErrorResponse } from "../schemas.js";
import { checkRerank, RerankRequest } from "./score.js";

/**
 * The synchronous `/v1/rerank` request (Jina/Cohere form: `query` and `documents`), a
 * `callback_url` and `metadata`; checked at submission exactly as the synchronous route checks it.
 */
export const RerankJobRequest = z
  .strictObject({
    ...RerankRequest.omit({
      texts: true,
      raw_scores: true,
      return_text: true,
      truncate: true,
      truncation_direction: true,
    }).shape,
    query: z.string(),
    documents: RerankRequest.shape.documents.unwrap().min(1),
    callback_url: z
      .string()
      .openapi({ description: "https:// URL the signed result is POSTed to" }),
    metadata: z.record(z.string(), z.unknown()).nullish(),
  })
  .openapi("RerankJobRequest");

/** The rerank a job runs: its request without the job's own fields. */
export function rerankOf(body: z.infer<typeof RerankJobRequest>) {
  const { callback_url: _url, metadata: _metadata, ...rerank } = body;
  return rerank;
}

const JobAccepted = z
  .object({
    id: z.string(),
    object: z.literal("rerank.job"),
    status: z.enum(["queued", "running", "succeeded", "failed"]),
  })
  .openapi("RerankJobAccepted");

const JobView = JobAccepted.extend({
  attempts: z.number().int(),
  max_attempts: z.number().int(),
  callback_url: z.string(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
  completed_at: z.number().int().nullable(),
  next_attempt_at: z.number().int().nullable(),
  result: z.unknown().nullable(),
  error: z.string().nullable(),
  last_response_status: z.number().int().nullable(),
  last_response_excerpt: z.string().nullable(),
}).openapi("RerankJob");

const seconds = (ms: number | null) => (ms === null ? null : Math.floor(ms / 1000));

function view(job: Job) {
  const request = JSON.parse(job.request) as { metadata?: Record<string, unknown> | null };
  const done = job.status === "succeeded" || job.status === "failed";
  return {
    id: job.id,
    object: "rerank.job" as const,
    status: job.status,
    attempts: job.attempts,
    max_attempts: job.maxAttempts,
    callback_url: job.callbackUrl,
    metadata: request.metadata ?? null,
    created_at: seconds(job.createdAt)!,
    updated_at: seconds(job.updatedAt)!,
    completed_at: seconds(job.completedAt),
    next_attempt_at: done ? null : seconds(job.nextAt),
    result: job.result === null ? null : (JSON.parse(job.result) as unknown),
    error: job.error,
    last_response_status: job.lastStatus,
    last_response_excerpt: job.lastResponse,
  };
}

const unauthorized = (message: string) => new EdgepoolError(message, 401, "AuthenticationError");

const MAX_IDEMPOTENCY_KEY = 255;

function owner(c: Ctx): string {
  return c.get("principal")?.keyId ?? "";
}

/**
 * Check a signed inbound request (Standard Webhooks); its `webhook-id`, which a sender keeps
 * when it retries, identifies the job as an Idempotency-Key would (null when unsigned).
 */
async function verifyInbound(c: Ctx, jobs: JobsOptions): Promise<string | null> {
  if (!jobs.inbound.enabled) return null;
  const raw = await c.req.text();
  const headers = {
    "webhook-id": c.req.header("webhook-id") ?? "",
    "webhook-timestamp": c.req.header("webhook-timestamp") ?? "",
    "webhook-signature": c.req.header("webhook-signature") ?? "",
  };
  const why = jobs.inbound.check(raw, headers);
  if (why) throw unauthorized(`Invalid webhook signature: ${why}`);
  // A space never appears in an Idempotency-Key: the two cannot collide.
  return `webhook-id ${headers["webhook-id"]}`;
}

/** What job submission uses: the job store, the options and the worker told of new jobs. */
interface JobRoutes {
  store: Store;
  jobs: JobsOptions;
  worker: JobWorker;
  log?: Logger | undefined;
}

/**
 * `POST /v1/rerank/jobs`: checked as the synchronous rerank would be, stored once (an
 * Idempotency-Key or a signed webhook-id dedupes), and handed to the worker or the queue.
 */
async function submitJob(c: Ctx, deps: RouteDeps, { store, jobs, worker, log }: JobRoutes) {
  const now = jobs.now ?? Date.now;
  const t = now();
  const webhookId = await verifyInbound(c, jobs);
  const body = await readBody(c, RerankJobRequest);
  const host = hostFor(deps.hosts, body.model);
  if (!host) throw new NotFoundError(`The model \`${body.model}\` does not exist.`, "model");
  // Refused now as the synchronous route would refuse it (a 400 at once, not a failed job
  // later); where no model is loaded (the jobs function), the rest is checked when it runs.
  if (host.engine) checkRerank(deps, rerankOf(body));
  else checkBatchSize(body.documents.length, deps.limits, "documents");
  validateCallbackUrl(body.callback_url, jobs.callbacks);
  const given = c.req.header("idempotency-key") ?? null;
  if (given !== null && !/^[\x21-\x7e]{1,255}$/.test(given)) {
    throw new EdgepoolError(
      `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY} printable ASCII characters`,
      400,
      "BadRequestError",
      "Idempotency-Key",
    );
  }
  const idempotencyKey = given ?? webhookId;
  const request = JSON.stringify(body);
  const requestHash = await sha256Hex(request);
  const { job, created } = await store.jobs.enqueue({
    id: `job_${crypto.randomUUID().replaceAll("-", "")}`,
    owner: owner(c),
    idempotencyKey,
    requestHash,
    request,
    callbackUrl: body.callback_url,
    maxAttempts: jobs.retry.attempts,
    createdAt: t,
  });
  if (!created && job.requestHash !== requestHash) {
    throw new EdgepoolError(
      "This Idempotency-Key was used with a different request body",
      422,
      "UnprocessableEntityError",
      "Idempotency-Key",
    );
  }
  if (created) worker.kick();
  else c.header("idempotent-replayed", "true");
  // A new job is billed when it runs (its admission kept until then); a replay is not billed.
  c.set("billing", created ? "deferred" : "none");
  if (jobs.onAccepted && (created || (job.status === "queued" && job.attempts === 0))) {
    try {
      await jobs.onAccepted(job);
    } catch (err) {
      log?.error({ err: (err as Error).message, job: job.id }, "could not queue the job");
      throw new ServiceUnavailableError(
        `The job ${job.id} is stored but could not be queued; retry with the same Idempotency-Key`,
      );
    }
  }
  c.header("location", `/v1/rerank/jobs/${job.id}`);
  return c.json({ id: job.id, object: "rerank.job", status: job.status }, 202);
}

/** `POST /v1/rerank/jobs` in the OpenAPI spec. */
const SUBMIT_JOB_ROUTE = createRoute({
  method: "post",
  path: "/v1/rerank/jobs",
  summary: "Rerank in the background; the signed result is POSTed to callback_url",
  tags: ["Rerank"],
  request: {
    body: {
      content: {
        "application/json": {
          schema: RerankJobRequest,
          examples: {
            job: {
              summary: "Rerank; the result is POSTed to callback_url",
              value: {
                query: "What is the capital of France?",
                documents: ["Paris is the capital of France.", "The cat sat on the mat."],
                top_n: 1,
                callback_url: "https://example.com/hooks/rerank",
                metadata: { ticket: 42 },
              } satisfies z.input<typeof RerankJobRequest>,
            },
          },
        },
      },
      required: true,
    },
  },
  responses: {
    202: { description: "Stored", content: { "application/json": { schema: JobAccepted } } },
    400: { description: "Invalid", content: { "application/json": { schema: ErrorResponse } } },
    401: {
      description: "Bad key or webhook signature",
      content: { "application/json": { schema: ErrorResponse } },
    },
    422: {
      description: "Idempotency-Key reused with another body",
      content: { "application/json": { schema: ErrorResponse } },
    },
  },
});

/** `GET /v1/rerank/jobs/{id}` in the OpenAPI spec. */
const GET_JOB_ROUTE = createRoute({
  method: "get",
  path: "/v1/rerank/jobs/{id}",
  summary: "A rerank job: status, attempts, and the result once done",
  tags: ["Rerank"],
  request: {
    params: z.object({
      id: z.string().openapi({ example: "job_9f2c4e0a1b7d4c3e8f6a5b4c3d2e1f00" }),
    }),
  },
  responses: {
    200: { description: "The job", content: { "application/json": { schema: JobView } } },
    404: {
      description: "No such job",
      content: { "application/json": { schema: ErrorResponse } },
    },
  },
});

/**
 * `POST /v1/rerank/jobs` (202 once stored; `Idempotency-Key` dedupes) and `GET /v1/rerank/jobs/:id`;
 * `worker` is told of each new job.
 */
export function registerJobs(
  app: App,
  deps: RouteDeps,
  store: Store,
  jobs: JobsOptions,
  worker: JobWorker,
  log?: Logger,
): void {
  app.openAPIRegistry.registerPath(SUBMIT_JOB_ROUTE);
  app.post("/v1/rerank/jobs", (c) => submitJob(c, deps, { store, jobs, worker, log }));

  app.openAPIRegistry.registerPath(GET_JOB_ROUTE);
  app.get("/v1/rerank/jobs/:id", async (c) => {
    const job = await store.jobs.get(c.req.param("id"));
    // Another key's job is as unknown as a missing one.
    if (!job || job.owner !== owner(c)) {
      throw new NotFoundError(`No rerank job '${c.req.param("id")}'`, "id");
    }
    return c.json(view(job));
  });
}
