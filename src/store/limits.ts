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

/** Period and usage of a counter row as the statement sees them. */
const CURRENT = "period_start >= ?";

/**
 * The database's clock in microseconds, read as the row is written: concurrent admissions then
 * see times in the order they update the row (two instances' clocks, or two requests that read
 * the time a moment apart, would not), and instances' clocks need not agree.
 */
const CLOCK_US = {
  sqlite: "CAST(unixepoch('subsec') * 1000000 AS BIGINT)",
  postgres: "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)",
} as const;

/**
 * One statement admits a request: the key's row counts it in the current period (rolling the
 * period over when it has ended) and advances the rate limit's theoretical arrival time, only if
 * neither quota is used up and the rate limit allows it. Atomic in SQLite, Postgres and D1, so
 * instances sharing the store admit exactly what the limits allow.
 */
function admitSql(dialect: "sqlite" | "postgres"): string {
  const now = CLOCK_US[dialect];
  const arrival = `(CASE WHEN tat > ${now} THEN tat ELSE ${now} END)`;
  return `UPDATE key_usage SET
  requests = (CASE WHEN ${CURRENT} THEN requests ELSE 0 END) + 1,
  tokens = CASE WHEN ${CURRENT} THEN tokens ELSE 0 END,
  period_end = CASE WHEN ${CURRENT} THEN period_end ELSE ? END,
  period_start = CASE WHEN ${CURRENT} THEN period_start ELSE ? END,
  tat = ${arrival} + ?
WHERE key_id = ?
  AND (CASE WHEN ${CURRENT} THEN requests ELSE 0 END) < ?
  AND (CASE WHEN ${CURRENT} THEN tokens ELSE 0 END) < ?
  AND ${arrival} - ${now} <= ?
RETURNING requests`;
}

interface UsageRow {
  period_start: number;
  period_end: number;
  requests: number;
  tokens: number;
  tat: number;
  now_us: number;
}

/**
 * Quotas and rate limits on the store's `key_usage` table: one row per key holding the current
 * period's admitted requests and tokens and the rate limit's state. Admissions commit without
 * waiting for the disk where the store allows it (Postgres `synchronous_commit = off`: a
 * database crash, not a process crash, can forget the last admissions); settlements go in the
 * ledger rows' own transaction.
 */
export class SqlLimiter implements Limiter {
  private readonly admissions: SqlExecutor;
  private readonly admitSql: string;
  private readonly clock: string;

  constructor(
    db: SqlExecutor,
    /** Billable requests and tokens already in the ledger: a key's first row starts from them. */
    private readonly spent: (
      keyId: string,
      from: number,
    ) => Promise<{ requests: number; tokens: number }>,
  ) {
    this.admissions = db.relaxed?.() ?? db;
    this.admitSql = admitSql(db.dialect);
    this.clock = CLOCK_US[db.dialect];
  }

  async admit(
    limits: KeyLimits,
    _now: number,
    period: { start: number; end: number },
  ): Promise<Refusal | null> {
    const rate = gcra(limits.rateLimit);
    const requestQuota = limits.requestQuota ?? UNLIMITED;
    const tokenQuota = limits.tokenQuota ?? UNLIMITED;
    const ps = period.start;
    const params = [
      ps,
      ps,
      ps,
      period.end,
      ps,
      ps,
      rate.interval,
      limits.keyId,
      ps,
      requestQuota,
      ps,
      tokenQuota,
      rate.tolerance,
    ];
    for (let attempt = 0; attempt < 3; attempt++) {
      const admitted = await this.admissions.all(this.admitSql, params);
      if (admitted.length > 0) return null;
      const row = await first<UsageRow>(
        this.admissions,
        `SELECT period_start, period_end, requests, tokens, tat, ${this.clock} AS now_us
         FROM key_usage WHERE key_id = ?`,
        [limits.keyId],
      );
      if (!row) {
        // The key's first limited request on this store: its row starts from the ledger.
        const seed = await this.spent(limits.keyId, ps);
        await this.admissions.run(
          `INSERT INTO key_usage (key_id, period_start, period_end, requests, tokens, tat)
           VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (key_id) DO NOTHING`,
          [limits.keyId, ps, period.end, seed.requests, seed.tokens],
        );
        continue;
      }
      const current = Number(row.period_start) >= ps;
      const periodEnd = current ? Number(row.period_end) : period.end;
      if (current && Number(row.requests) >= requestQuota) return { limit: "requests", periodEnd };
      if (current && Number(row.tokens) >= tokenQuota) return { limit: "tokens", periodEnd };
      const nowUs = Number(row.now_us);
      const arrival = Math.max(Number(row.tat), nowUs);
      if (arrival - nowUs > rate.tolerance) {
        return { limit: "rate", retryAfterMs: (arrival - rate.tolerance - nowUs) / 1000 };
      }
      // Another instance changed the row meanwhile (a refund, a new period): try again.
    }
    return { limit: "rate", retryAfterMs: 1000 };
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
