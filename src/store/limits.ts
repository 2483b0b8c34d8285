import type { QuotaPeriod } from "./keys.js";
import { first, type SqlExecutor, type Statement } from "./sql.js";

/** What a key may use: its quotas (per UTC day or month) and its rate limit (per minute). */
export interface KeyLimits {
  keyId: string;
  requestQuota: number | null;
  tokenQuota: number | null;
  quotaPeriod: QuotaPeriod;
  rateLimit: number | null;
}

/** Why a request was refused; null when it was admitted. */
export type Refusal =
  | { limit: "rate"; retryAfterMs: number }
  | { limit: "requests" | "tokens"; periodEnd: number };

/**
 * What an answered request changes in its key's counters, once its ledger row is written: its
 * prompt tokens, and the admission given back (`refund` 1) when it is not billable after all.
 */
export interface Settlement {
  keyId: string;
  /** When the request was recorded (ms): the counters of the period holding it change. */
  at: number;
  tokens: number;
  refund: number;
}

/** Admits requests against per-key counters shared by every instance on one store. */
export interface Limiter {
  admit(
    limits: KeyLimits,
    now: number,
    period: { start: number; end: number },
  ): Promise<Refusal | null>;
  /** Statements that apply settlements in the same transaction as their ledger rows. */
  settleStatements(settlements: readonly Settlement[]): Statement[];
  /** Settlements a limiter outside the store applies after the ledger rows are written. */
  settleAfter?(settlements: readonly Settlement[]): Promise<void>;
  close?(): Promise<void>;
}

/** Sentinels for "no limit": comparisons stay plain integer comparisons in every dialect. */
const UNLIMITED = Number.MAX_SAFE_INTEGER;
const NO_RATE_TOLERANCE = 2 ** 50;
const US_PER_MINUTE = 60_000_000;
const DAY_MS = 86_400_000;

/**
 * The rate limit as GCRA (a token bucket of `limit` requests, refilled at `limit` per minute):
 * one emission interval and tolerance in microseconds. A key without a limit never waits.
 */
export function gcra(limit: number | null): { interval: number; tolerance: number } {
  if (limit === null) return { interval: 0, tolerance: NO_RATE_TOLERANCE };
  const interval = Math.max(1, Math.round(US_PER_MINUTE / limit));
  return { interval, tolerance: (limit - 1) * interval };
}

/**
 * The database's clock in microseconds, read as the row is written: concurrent admissions then
 * see times in the order they update the row (two instances' clocks, or two requests that read
 * the time a moment apart, would not), and instances' clocks need not agree.
 */
const DIALECT = {
  sqlite: { now: "CAST(unixepoch('subsec') * 1000000 AS BIGINT)", min: "min", max: "max" },
  postgres: {
    now: "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)",
    min: "LEAST",
    max: "GREATEST",
  },
} as const;

/** `:name` placeholders → `?` in order, and the names in that order. */
function named(sql: string): { sql: string; names: string[] } {
  const names: string[] = [];
  const out = sql.replace(/:([a-z]+)/g, (_, name: string) => {
    names.push(name);
    return name === "key" ? "?" : "CAST(? AS BIGINT)";
  });
  return { sql: out, names };
}

/**
 * One statement admits up to `n` requests of a key at once: as many as the request quota, the
 * token quota (all while it is not used up) and the rate limit (GCRA) allow, counted in the
 * current period (rolled over when it has ended). Atomic in SQLite, Postgres and D1, so every
 * instance on a store together admits exactly what the limits allow; it returns how many it
 * admitted and the row, which says why the others were not.
 */
function admitSql(dialect: "sqlite" | "postgres") {
  const { now, min, max } = DIALECT[dialect];
  const cur = "period_start >= :ps";
  const req = `(CASE WHEN ${cur} THEN requests ELSE 0 END)`;
  const tok = `(CASE WHEN ${cur} THEN tokens ELSE 0 END)`;
  const arrival = `${max}(tat, ${now})`;
  const byRate = `(CASE WHEN :interval = 0 THEN :n WHEN ${arrival} - ${now} > :tolerance THEN 0
    ELSE (:tolerance - (${arrival} - ${now})) / :interval + 1 END)`;
  const k = `${max}(0, ${min}(:n, :rq - ${req}, (CASE WHEN ${tok} < :tq THEN :n ELSE 0 END), ${byRate}))`;
  return named(`UPDATE key_usage SET
  requests = ${req} + ${k},
  tokens = ${tok},
  period_end = CASE WHEN ${cur} THEN period_end ELSE :pe END,
  period_start = CASE WHEN ${cur} THEN period_start ELSE :ps END,
  tat = CASE WHEN ${k} > 0 THEN ${arrival} + ${k} * :interval ELSE tat END,
  admitted = ${k}
WHERE key_id = :key
RETURNING admitted, requests, tokens, period_end, tat, ${now} AS now_us`);
}

interface AdmittedRow {
  admitted: number;
  requests: number;
  tokens: number;
  period_end: number;
  tat: number;
  now_us: number;
}

interface Waiting {
  limits: KeyLimits;
  period: { start: number; end: number };
  resolve: (refusal: Refusal | null) => void;
  reject: (err: unknown) => void;
}

/** After the requests arriving now (Node), or at once where there is no such turn (Workers). */
const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
const soon: (fn: () => void) => void = immediate
  ? (fn) => void immediate(fn)
  : (fn) => void setTimeout(fn, 0);

/** Most requests of one key admitted by one statement. */
const MAX_BATCH = 1000;

/**
 * Quotas and rate limits on the store's `key_usage` table: one row per key holding the current
 * period's admitted requests and tokens and the rate limit's state. The requests of a key that
 * arrive together are admitted by one statement (at most one under way per key and instance).
 * Admissions commit without waiting for the disk where the store allows it (Postgres
 * `synchronous_commit = off`: a database crash, not a process crash, can forget the last
 * admissions); settlements go in the ledger rows' own transaction.
 */
export class SqlLimiter implements Limiter {
  private readonly admissions: SqlExecutor;
  private readonly admit_: { sql: string; names: string[] };
  private readonly waiting = new Map<string, Waiting[]>();
  private readonly busy = new Set<string>();

  constructor(
    db: SqlExecutor,
    /** Billable requests and tokens already in the ledger: a key's first row starts from them. */
    private readonly spent: (
      keyId: string,
      from: number,
    ) => Promise<{ requests: number; tokens: number }>,
  ) {
    this.admissions = db.relaxed?.() ?? db;
    this.admit_ = admitSql(db.dialect);
  }

  admit(
    limits: KeyLimits,
    _now: number,
    period: { start: number; end: number },
  ): Promise<Refusal | null> {
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(limits.keyId);
      if (queue) queue.push({ limits, period, resolve, reject });
      else this.waiting.set(limits.keyId, [{ limits, period, resolve, reject }]);
      if (!this.busy.has(limits.keyId)) {
        this.busy.add(limits.keyId);
        soon(() => void this.drain(limits.keyId));
      }
    });
  }

  /** Admit the key's waiting requests, a statement at a time, until none wait. */
  private async drain(keyId: string): Promise<void> {
    for (;;) {
      const queue = this.waiting.get(keyId) ?? [];
      const batch = queue.splice(0, MAX_BATCH);
      if (queue.length === 0) this.waiting.delete(keyId);
      if (batch.length === 0) break;
      try {
        const row = await this.run(batch);
        const admitted = Number(row.admitted);
        const refusal = admitted < batch.length ? refusalOf(row, batch[0]!.limits) : null;
        batch.forEach((w, i) => {
          w.resolve(i < admitted ? null : refusal);
        });
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.busy.delete(keyId);
  }

  private async run(batch: Waiting[]): Promise<AdmittedRow> {
    const { limits, period } = batch[0]!;
    const rate = gcra(limits.rateLimit);
    const values: Record<string, string | number> = {
      key: limits.keyId,
      n: batch.length,
      ps: period.start,
      pe: period.end,
      rq: limits.requestQuota ?? UNLIMITED,
      tq: limits.tokenQuota ?? UNLIMITED,
      interval: rate.interval,
      tolerance: rate.tolerance,
    };
    const params = this.admit_.names.map((n) => values[n]!);
    for (let attempt = 0; attempt < 2; attempt++) {
      const row = await first<AdmittedRow>(this.admissions, this.admit_.sql, params);
      if (row) return row;
      // The key's first limited request on this store: its row starts from the ledger.
      const seed = await this.spent(limits.keyId, period.start);
      await this.admissions.run(
        `INSERT INTO key_usage (key_id, period_start, period_end, requests, tokens, tat, admitted)
         VALUES (?, ?, ?, ?, ?, 0, 0) ON CONFLICT (key_id) DO NOTHING`,
        [limits.keyId, period.start, period.end, seed.requests, seed.tokens],
      );
    }
    throw new Error(`could not create the counters of key ${limits.keyId}`);
  }

  settleStatements(settlements: readonly Settlement[]): Statement[] {
    return mergeSettlements(settlements).map((s) => ({
      sql: `UPDATE key_usage
            SET tokens = tokens + ?, requests = CASE WHEN requests > ? THEN requests - ? ELSE 0 END
            WHERE key_id = ? AND period_start <= ? AND period_end > ?`,
      params: [s.tokens, s.refund, s.refund, s.keyId, s.at, s.at],
    }));
  }
}

/** Why the requests a statement did not admit were refused, from the row it returned. */
function refusalOf(row: AdmittedRow, limits: KeyLimits): Refusal {
  const periodEnd = Number(row.period_end);
  if (Number(row.requests) >= (limits.requestQuota ?? UNLIMITED)) {
    return { limit: "requests", periodEnd };
  }
  if (Number(row.tokens) >= (limits.tokenQuota ?? UNLIMITED)) return { limit: "tokens", periodEnd };
  const rate = gcra(limits.rateLimit);
  const now = Number(row.now_us);
  const wait = Math.max(Number(row.tat), now) - rate.tolerance - now;
  return { limit: "rate", retryAfterMs: Math.max(wait, 1000) / 1000 };
}

/**
 * One settlement per key and UTC day (a quota period always starts at a UTC day's start, so the
 * rows merged fall in one period), with nothing to change left out.
 */
export function mergeSettlements(settlements: readonly Settlement[]): Settlement[] {
  const merged = new Map<string, Settlement>();
  for (const s of settlements) {
    if (s.tokens === 0 && s.refund === 0) continue;
    const k = `${Math.floor(s.at / DAY_MS)}:${s.keyId}`;
    const m = merged.get(k);
    if (m) {
      m.tokens += s.tokens;
      m.refund += s.refund;
    } else merged.set(k, { ...s });
  }
  return [...merged.values()];
}
