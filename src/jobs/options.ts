import type { Job } from "../store/index.js";
import type { RetryPolicy } from "./backoff.js";
import type { CallbackPolicy } from "./callback-url.js";
import type { CallbackSigner, InboundVerifier } from "./signing.js";

/** Job defaults (flags `--job-lease-ms`, `--job-concurrency`, `--job-poll-ms`, `--callback-timeout-ms`). */
export const DEFAULT_JOB_LEASE_MS = 30_000;
export const DEFAULT_JOB_CONCURRENCY = 4;
export const DEFAULT_JOB_POLL_MS = 1000;
export const DEFAULT_CALLBACK_TIMEOUT_MS = 10_000;

/** Webhook reranking, as configured. */
export interface JobsOptions {
  signer: CallbackSigner;
  inbound: InboundVerifier;
  callbacks: CallbackPolicy;
  retry: RetryPolicy;
  leaseMs: number;
  concurrency: number;
  pollMs: number;
  callbackTimeoutMs: number;
  now?: () => number;
  random?: () => number;
  /**
   * Called once a new job is stored (and again when a client repeats an Idempotency-Key of a job
   * not yet started): on Lambda it sends the job to SQS. A failure answers 503; the job stays
   * stored and a retry with the same Idempotency-Key sends it again.
   */
  onAccepted?: (job: Job) => Promise<void>;
}
