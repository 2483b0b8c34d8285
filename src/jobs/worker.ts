import type { Job, Statement, Store } from "../store/index.js";
import { type RetryPolicy, retryDelay } from "./backoff.js";
import type { DeliveryResult } from "./delivery.js";
import type { CallbackSigner } from "./signing.js";

/**
 * Runs a job's rerank request (in-process, through the app): its status and JSON body, and the
 * statements that record its usage (committed with the result).
 */
export type ExecuteJob = (job: Job) => Promise<{
  status: number;
  body: string;
  usage?: { statements: readonly Statement[]; after: () => Promise<void> };
}>;
/** Sends a signed callback. */
export type SendCallback = (
  url: string,
  body: string,
  headers: Record<string, string>,
) => Promise<DeliveryResult>;

export interface WorkerOptions {
  store: Store;
  signer: CallbackSigner;
  execute: ExecuteJob;
  send: SendCallback;
  retry: RetryPolicy;
  /**
   * A claimed job is someone else's to retry after this long without its worker renewing the
   * lease (every third of it while the attempt runs): how long a killed worker's jobs wait.
   */
  leaseMs: number;
  /** Jobs processed at once (`--job-concurrency`). */
  concurrency: number;
  /** Idle polling interval (other instances add jobs too). */
  pollMs: number;
  now?: () => number;
  random?: () => number;
  onError?: (err: unknown, job: Job | null) => void;
  onDone?: (job: Job, status: string) => void;
}

/** The callback body: Standard Webhooks' `{type, timestamp, data}`. */
export function callbackBody(job: Job, result: string, error: string | null, at: Date): string {
  const request = JSON.parse(job.request) as { metadata?: unknown };
  return JSON.stringify({
    type: error ? "rerank.failed" : "rerank.completed",
    timestamp: at.toISOString(),
    data: {
      id: job.id,
      status: error ? "failed" : "succeeded",
      metadata: request.metadata ?? null,
      result: error ? null : JSON.parse(result),
      error: error ? JSON.parse(result) : null,
    },
  });
}

const excerpt = (s: string) => s.slice(0, 1024);

/**
 * Leases due jobs, runs each one's rerank once (the result is kept), and delivers it signed;
 * 2xx ends a job, 410 stops it, anything else retries with backoff until the attempts run out,
 * when the job is kept as `failed` with the last answer (the dead letter).
 */
export class JobWorker {
  private readonly now: () => number;
  private readonly random: () => number;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private kicked = false;
  private loop: Promise<void> | null = null;
  private stopping = false;
  /** Attempts under way, one per slot (`concurrency` at most). */
  private readonly active = new Set<Promise<void>>();

  constructor(private readonly o: WorkerOptions) {
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
  }

  /** Process the jobs due now (up to `concurrency`); how many were. */
  async tick(): Promise<number> {
    const jobs = await this.o.store.jobs.claim(this.now(), this.o.leaseMs, this.o.concurrency);
    await Promise.all(jobs.map((j) => this.attempt(j)));
    return jobs.length;
  }

  /**
   * Process one job if it is due (the SQS worker): true when it ended or was rescheduled by this
   * attempt, false when it is not due or someone else holds it.
   */
  async processOne(id: string): Promise<{ claimed: boolean; job: Job | undefined }> {
    const [job] = await this.o.store.jobs.claim(this.now(), this.o.leaseMs, 1, id);
    if (!job) return { claimed: false, job: await this.o.store.jobs.get(id) };
    await this.attempt(job);
    return { claimed: true, job: await this.o.store.jobs.get(id) };
  }

  /** One attempt, its lease renewed every third of `leaseMs` while it runs. */
  private async attempt(job: Job): Promise<void> {
    const renew = setInterval(
      () =>
        void this.o.store.jobs
          .renew(job, this.now() + this.o.leaseMs)
          .catch((err: unknown) => this.o.onError?.(err, job)),
      Math.max(1, Math.floor(this.o.leaseMs / 3)),
    );
    try {
      await this.deliver(job);
    } finally {
      clearInterval(renew);
    }
  }

  private async deliver(job: Job): Promise<void> {
    try {
      let result = job.result;
      let error = job.error;
      if (result === null) {
        const out = await this.o.execute(job);
        if (out.status >= 500) {
          // Not ready (loading, shutting down) or broken: try again later, as a failed attempt.
          const why = `the rerank answered ${out.status}: ${out.body}`;
          await this.retryOrFail(job, { result: null, error: null, status: null, answer: why });
          return;
        }
        result = out.body;
        error =
          out.status >= 400 ? (JSON.parse(out.body)?.error?.message ?? "rerank failed") : null;
        await this.o.store.jobs.saveResult(
          job.id,
          result,
          error,
          this.now(),
          out.usage?.statements,
        );
        await out.usage?.after().catch((err: unknown) => this.o.onError?.(err, job));
      }
      const at = new Date(this.now());
      const body = callbackBody(job, result, error, at);
      const sent = await this.o.send(
        job.callbackUrl,
        body,
        this.o.signer.headers(job.id, at, body),
      );
      const now = this.now();
      const common = { result, lastStatus: sent.status, lastResponse: excerpt(sent.excerpt) };
      if (sent.status !== null && sent.status >= 200 && sent.status < 300) {
        const status = error ? "failed" : "succeeded";
        await this.o.store.jobs.finishAttempt(job, { ...common, status, nextAt: now, error }, now);
        this.o.onDone?.(job, status);
      } else if (sent.status === 410) {
        const why = "the callback answered 410 Gone: delivery stopped";
        await this.o.store.jobs.finishAttempt(
          job,
          { ...common, status: "failed", nextAt: now, error: error ?? why },
          now,
        );
        this.o.onDone?.(job, "failed");
      } else {
        await this.retryOrFail(job, { result, error, status: sent.status, answer: sent.excerpt });
      }
    } catch (err) {
      this.o.onError?.(err, job);
    }
  }

  /** After a failed attempt: again after the backoff, or `failed` when it was the last one. */
  private async retryOrFail(
    job: Job,
    last: { result: string | null; error: string | null; status: number | null; answer: string },
  ): Promise<void> {
    const now = this.now();
    const final = job.attempts >= job.maxAttempts;
    const what = last.status === null ? `no answer (${last.answer})` : `HTTP ${last.status}`;
    await this.o.store.jobs.finishAttempt(
      job,
      {
        status: final ? "failed" : "queued",
        nextAt: final ? now : now + retryDelay(job.attempts, this.o.retry, this.random),
        result: last.result,
        error: final
          ? `callback not delivered after ${job.attempts} attempts; last: ${what}`
          : last.error,
        lastStatus: last.status,
        lastResponse: excerpt(last.answer),
      },
      now,
    );
    if (final) this.o.onDone?.(job, "failed");
  }

  /**
   * Poll in the background: claim due jobs as slots free up (a job whose callback hangs holds
   * its own slot only), at once after `kick`, else every `pollMs` or when a job falls due.
   */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = (async () => {
      while (!this.stopping) {
        this.kicked = false;
        const free = this.o.concurrency - this.active.size;
        let claimed = 0;
        if (free > 0) {
          try {
            const jobs = await this.o.store.jobs.claim(this.now(), this.o.leaseMs, free);
            for (const job of jobs) this.run(job);
            claimed = jobs.length;
          } catch (err) {
            this.o.onError?.(err, null);
          }
        }
        if (this.stopping) break;
        // Every slot taken by this claim: more may be due as soon as one frees up.
        if (claimed > 0 && claimed === free) continue;
        if (this.kicked) continue;
        let wait: number | null = null;
        if (this.active.size < this.o.concurrency) {
          const due = await this.o.store.jobs.nextDue().catch(() => null);
          wait = Math.max(
            10,
            Math.min(this.o.pollMs, due === null ? this.o.pollMs : due - this.now()),
          );
        }
        if (this.kicked || this.stopping) continue;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          // All slots busy: the next attempt to finish wakes the loop.
          if (wait !== null) this.timer = setTimeout(resolve, wait);
        });
        this.wake = null;
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
      }
      await Promise.all(this.active);
    })();
  }

  /** Run one claimed job in a slot of its own; the loop is woken when it ends. */
  private run(job: Job): void {
    const attempt: Promise<void> = this.attempt(job).finally(() => {
      this.active.delete(attempt);
      this.kick();
    });
    this.active.add(attempt);
  }

  /** A job was added or a slot freed up: look now. */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /** Finish the attempts under way, then stop polling. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.kick();
    await this.loop;
    this.loop = null;
  }
}
