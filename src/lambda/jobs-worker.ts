import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { UsageError } from "../config/usage-error.js";
import { createFunction, type EdgepoolFunction, type FunctionOptions } from "./function.js";
import { type JobQueue, sqsJobQueue, sqsJobsHandler } from "./jobs.js";
import { withSecrets } from "./secrets.js";

export interface JobsWorkerFunction {
  fn: EdgepoolFunction;
  /** The SQS-triggered handler, reporting partial batch failures (`batchItemFailures`). */
  handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
}

/**
 * The SQS-triggered worker: the rerank model loaded once per instance (init phase), each message
 * one attempt of a job stored in Postgres, re-queued with a delay when its retry is not due yet.
 */
export async function createJobsWorkerFunction(
  opts: FunctionOptions & { queue?: JobQueue } = {},
): Promise<JobsWorkerFunction> {
  const env = await withSecrets(opts.env ?? process.env, opts.parameters);
  const fn = await createFunction("rerank", { ...opts, env });
  if (!fn.jobs) {
    throw new UsageError("the jobs worker needs DATABASE_URL and EDGEPOOL_WEBHOOK_SECRETS");
  }
  const queueUrl = env.EDGEPOOL_JOBS_QUEUE_URL;
  const queue = opts.queue ?? (queueUrl ? sqsJobQueue(queueUrl) : null);
  if (!queue) throw new UsageError("EDGEPOOL_JOBS_QUEUE_URL is not set");
  const worker = fn.jobs;
  return {
    fn,
    handler: sqsJobsHandler(worker, queue, (err, record) =>
      console.error(
        JSON.stringify({
          msg: "job message failed",
          messageId: record.messageId,
          err: String(err),
        }),
      ),
    ),
  };
}
