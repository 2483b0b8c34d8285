import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { JobWorker } from "../jobs/index.js";

/** SQS holds a message back at most 15 minutes. */
export const SQS_MAX_DELAY_SECONDS = 900;

/** Where job ids go to be worked on (SQS on AWS). */
export interface JobQueue {
  send(jobId: string, delaySeconds: number): Promise<void>;
}

/** The job queue as an SQS queue (`EDGEPOOL_JOBS_QUEUE_URL`); the SDK loads on first use. */
export function sqsJobQueue(queueUrl: string): JobQueue {
  let client: Promise<{ send: (jobId: string, delay: number) => Promise<void> }> | null = null;
  const connect = async () => {
    const { SQSClient, SendMessageCommand } = await import("@aws-sdk/client-sqs");
    const sqs = new SQSClient({});
    return {
      send: async (jobId: string, delay: number) => {
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: JSON.stringify({ job: jobId }),
            DelaySeconds: delay,
          }),
        );
      },
    };
  };
  return {
    async send(jobId, delaySeconds) {
      client ??= connect();
      await (await client).send(jobId, Math.min(SQS_MAX_DELAY_SECONDS, Math.max(0, delaySeconds)));
    },
  };
}

function jobIdOf(record: SQSRecord): string {
  const body = JSON.parse(record.body) as { job?: unknown };
  if (typeof body?.job !== "string" || !/^job_\w{1,64}$/.test(body.job)) {
    throw new Error(`message ${record.messageId} names no job`);
  }
  return body.job;
}

/**
 * The SQS-triggered worker: each message names a job; one delivery attempt runs per message.
 * A job that is not due yet (a retry scheduled later, or another instance's lease) goes back to
 * the queue delayed until it is (SQS delays at most 15 min; longer waits take several hops).
 * A message that cannot be handled (bad body, store down) is a batch item failure: SQS retries
 * it and, after the queue's maxReceiveCount, moves it to the dead-letter queue.
 */
export function sqsJobsHandler(
  worker: JobWorker,
  queue: JobQueue,
  onError: (err: unknown, record: SQSRecord) => void = () => undefined,
  now: () => number = Date.now,
): (event: SQSEvent) => Promise<SQSBatchResponse> {
  return async (event) => {
    const failures: SQSBatchItemFailure[] = [];
    await Promise.all(
      event.Records.map(async (record) => {
        try {
          const { job } = await worker.processOne(jobIdOf(record));
          if (!job) return; // deleted: nothing to do
          if (job.status === "queued" || job.status === "running") {
            await queue.send(job.id, Math.ceil((job.nextAt - now()) / 1000));
          }
        } catch (err) {
          onError(err, record);
          failures.push({ itemIdentifier: record.messageId });
        }
      }),
    );
    return { batchItemFailures: failures };
  };
}
