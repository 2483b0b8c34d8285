import { first, type SqlExecutor, type Statement, writeAll } from "./sql.js";

/** queued → running (leased) → succeeded | failed; a lapsed lease makes a running job due again. */
export type JobStatus = "queued" | "running" | "succeeded" | "failed";

export interface Job {
  id: string;
  owner: string;
  idempotencyKey: string | null;
  requestHash: string;
  /** The rerank request, as JSON text. */
  request: string;
  callbackUrl: string;
  status: JobStatus;
  attempts: number;
  maxAttempts: number;
  nextAt: number;
  /** The rerank response (or error body), as JSON text, once computed. */
  result: string | null;
  /** Why the job failed, when it did. */
  error: string | null;
  lastStatus: number | null;
  lastResponse: string | null;
  createdAt: number;
  updatedAt: number;
  completedAt: number | null;
}

/** What a submission stores; the rest of a job starts from its defaults. */
export type NewJob = Pick<
  Job,
  | "id"
  | "owner"
  | "idempotencyKey"
  | "requestHash"
  | "request"
  | "callbackUrl"
  | "maxAttempts"
  | "createdAt"
>;

interface Row {
  id: string;
  owner: string;
  idempotency_key: string | null;
  request_hash: string;
  request: string;
  callback_url: string;
  status: string;
  attempts: number;
  max_attempts: number;
  next_at: number;
  result: string | null;
  error: string | null;
  last_status: number | null;
  last_response: string | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
}

function toJob(r: Row): Job {
  return {
    id: r.id,
    owner: r.owner,
    idempotencyKey: r.idempotency_key,
    requestHash: r.request_hash,
    request: r.request,
    callbackUrl: r.callback_url,
    status: r.status as JobStatus,
    attempts: Number(r.attempts),
    maxAttempts: Number(r.max_attempts),
    nextAt: Number(r.next_at),
    result: r.result,
    error: r.error,
    lastStatus: r.last_status === null ? null : Number(r.last_status),
    lastResponse: r.last_response,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    completedAt: r.completed_at === null ? null : Number(r.completed_at),
  };
}

/** What one delivery attempt left behind. */
export interface AttemptOutcome {
  status: JobStatus;
  nextAt: number;
  result: string | null;
  error: string | null;
  lastStatus: number | null;
  lastResponse: string | null;
}

/** The durable job queue: a row per job; workers lease due rows. */
export class JobStore {
  constructor(private readonly db: SqlExecutor) {}

  /**
   * Store a job, or return the one already stored under the same owner and idempotency key
   * (`created` tells which).
   */
  async enqueue(job: NewJob): Promise<{ job: Job; created: boolean }> {
    const rows = await this.db.all<Row>(
      `INSERT INTO rerank_jobs (id, owner, idempotency_key, request_hash, request, callback_url,
         status, attempts, max_attempts, next_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?)
       ON CONFLICT (owner, idempotency_key) DO NOTHING
       RETURNING *`,
      [
        job.id,
        job.owner,
        job.idempotencyKey,
        job.requestHash,
        job.request,
        job.callbackUrl,
        job.maxAttempts,
        job.createdAt,
        job.createdAt,
        job.createdAt,
      ],
    );
    if (rows[0]) return { job: toJob(rows[0]), created: true };
    const existing = await first<Row>(
      this.db,
      "SELECT * FROM rerank_jobs WHERE owner = ? AND idempotency_key = ?",
      [job.owner, job.idempotencyKey],
    );
    return { job: toJob(existing!), created: false };
  }

  async get(id: string): Promise<Job | undefined> {
    const row = await first<Row>(this.db, "SELECT * FROM rerank_jobs WHERE id = ?", [id]);
    return row && toJob(row);
  }

  /**
   * Lease up to `limit` due jobs (or the one job `id`) until `now + leaseMs`, counting an attempt.
   * Postgres skips rows another instance holds; SQLite has one writer at a time.
   */
  async claim(now: number, leaseMs: number, limit: number, id?: string): Promise<Job[]> {
    const skipLocked = this.db.dialect === "postgres" ? "FOR UPDATE SKIP LOCKED" : "";
    const rows = await this.db.all<Row>(
      `UPDATE rerank_jobs
       SET status = 'running', attempts = attempts + 1, next_at = ?, updated_at = ?
       WHERE id IN (
         SELECT id FROM rerank_jobs
         WHERE status IN ('queued', 'running') AND next_at <= ? ${id ? "AND id = ?" : ""}
         ORDER BY next_at LIMIT ? ${skipLocked}
       )
       RETURNING *`,
      id ? [now + leaseMs, now, now, id, limit] : [now + leaseMs, now, now, limit],
    );
    return rows.map(toJob).sort((a, b) => a.createdAt - b.createdAt);
  }

  /**
   * Keep a computed result before delivering it, so retries do not compute it again, in one
   * transaction with `also` (the job's ledger row: a result is never kept without its usage).
   */
  async saveResult(
    id: string,
    result: string,
    error: string | null,
    now: number,
    also: readonly Statement[] = [],
  ): Promise<void> {
    await writeAll(this.db, [
      {
        sql: "UPDATE rerank_jobs SET result = ?, error = ?, updated_at = ? WHERE id = ?",
        params: [result, error, now, id],
      },
      ...also,
    ]);
  }

  /** Extend the lease of a running attempt (only the lease holder's); false when it is not. */
  async renew(job: Job, until: number): Promise<boolean> {
    const n = await this.db.run(
      "UPDATE rerank_jobs SET next_at = ? WHERE id = ? AND attempts = ? AND status = 'running'",
      [until, job.id, job.attempts],
    );
    return n > 0;
  }

  /** Record an attempt's outcome; only the lease holder (same attempt count) may. */
  async finishAttempt(job: Job, outcome: AttemptOutcome, now: number): Promise<boolean> {
    const done = outcome.status === "succeeded" || outcome.status === "failed";
    const n = await this.db.run(
      `UPDATE rerank_jobs
       SET status = ?, next_at = ?, result = ?, error = ?, last_status = ?, last_response = ?,
           updated_at = ?, completed_at = ?
       WHERE id = ? AND attempts = ? AND status = 'running'`,
      [
        outcome.status,
        outcome.nextAt,
        outcome.result,
        outcome.error,
        outcome.lastStatus,
        outcome.lastResponse,
        now,
        done ? now : null,
        job.id,
        job.attempts,
      ],
    );
    return n > 0;
  }

  /** The earliest time a queued or running job falls due, if any. */
  async nextDue(): Promise<number | null> {
    const row = await first<{ t: number | null }>(
      this.db,
      "SELECT MIN(next_at) AS t FROM rerank_jobs WHERE status IN ('queued', 'running')",
    );
    return row?.t === null || row?.t === undefined ? null : Number(row.t);
  }
}
