import { createHash } from "node:crypto";
import { TooManyRequestsError } from "../core/index.js";
import type { ApiKey, LedgerRow, Store } from "../store/index.js";
import { KEYS_CHANNEL } from "../store/keys.js";
import { LedgerStore } from "../store/ledger.js";
import { type Limiter, type Settlement, SqlLimiter } from "../store/limits.js";
import type { Statement } from "../store/sql.js";
import { LedgerWriter } from "./ledger-writer.js";
import { periodEnd, periodStart } from "./periods.js";

/** Flag defaults: `--key-cache-ms`, `--ledger-flush-ms`, `--billable`. */
export const DEFAULT_KEY_CACHE_MS = 1000;
export const DEFAULT_LEDGER_FLUSH_MS = 0;
const MAX_CACHED_KEYS = 10_000;

/**
 * Which requests are billed: `inference` (default) — the model routes (every POST), each job's
 * rerank once computed; polls, usage reads and other GETs are neither billed nor refused by
 * quotas or rate limits. `all`: every authenticated request is a billable row.
 */
export type Billable = "inference" | "all";
export const BILLABLE_CHOICES: readonly Billable[] = ["inference", "all"];

export interface MeterOptions {
  /** How long a key lookup is reused on Postgres (SQLite looks keys up on every request). */
  keyCacheMs?: number;
  /** A ledger commit waits this long for more rows to join it (default 0). */
  ledgerFlushMs?: number;
  billable?: Billable;
  /** Where quotas and rate limits are counted (default: the store's `key_usage` table). */
  limiter?: Limiter;
  now?: () => number;
  onError?: (err: unknown, rows: number) => void;
}

/** What `admit` gave a request: settled when its row is recorded, or given back. */
export interface Admission {
  keyId: string;
  /** The key's counters counted it (the key has a quota or a rate limit). */
  counted: boolean;
}

const billableStatus = (status: number) => status < 400;
const hasLimits = (k: ApiKey) =>
  k.requestQuota !== null || k.tokenQuota !== null || k.rateLimit !== null;

/**
 * Store-backed API keys: authentication (by sha256), quotas and rate limits counted on the
 * store by every instance together, and the usage ledger — one row per billable request,
 * committed before its response is released.
 */
export class Meter {
  private readonly keys = new Map<string, { key: ApiKey | null; until: number }>();
  private readonly writer: LedgerWriter;
  private readonly limiter: Limiter;
  private readonly cacheMs: number;
  private unwatch: (() => Promise<void>) | null = null;
  readonly billable: Billable;
  readonly now: () => number;

  constructor(
    readonly store: Store,
    options: MeterOptions = {},
  ) {
    // SQLite reads a key from the local file in microseconds: no cache, revocation is immediate.
    this.cacheMs = store.db.dialect === "sqlite" ? 0 : (options.keyCacheMs ?? DEFAULT_KEY_CACHE_MS);
    this.billable = options.billable ?? "inference";
    this.now = options.now ?? Date.now;
    this.limiter =
      options.limiter ?? new SqlLimiter(store.db, (id, from) => store.ledger.spent(id, from));
    this.writer = new LedgerWriter(store.ledger, {
      flushMs: options.ledgerFlushMs ?? DEFAULT_LEDGER_FLUSH_MS,
      // SQLite writes synchronously: one commit at a time is all it can do.
      parallel: store.db.dialect === "postgres" ? 4 : 1,
      limiter: this.limiter,
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }

  /** Whether a request is billed (and so admitted against the key's limits). */
  bills(method: string): boolean {
    return this.billable === "all" || method === "POST";
  }

  /** The live stored key for a presented secret, or null. */
  async authenticate(secret: string): Promise<ApiKey | null> {
    // hashKey's digest, synchronously: Web Crypto's costs ~50 µs of CPU a call, node:crypto's ~2.
    const hash = createHash("sha256").update(secret).digest("hex");
    const now = this.now();
    const hit = this.keys.get(hash);
    if (hit && hit.until > now) return hit.key;
    const key = (await this.store.keys.findByHash(hash, now)) ?? null;
    if (this.cacheMs > 0) {
      if (this.keys.size >= MAX_CACHED_KEYS) this.keys.clear();
      this.keys.set(hash, { key, until: now + this.cacheMs });
    }
    return key;
  }

  /** Forget cached key lookups (a key was revoked or rotated). */
  forgetKeys(): void {
    this.keys.clear();
  }

  /**
   * Forget cached keys as soon as the store says a key was revoked or rotated (Postgres
   * LISTEN/NOTIFY), and whenever such a notice may have been missed (a lost connection); the
   * cache's lifetime bounds what a missed notice can delay. Stopped by `close`.
   */
  watchKeys(onGap?: (err: unknown) => void): void {
    if (this.cacheMs === 0 || !this.store.db.listen || this.unwatch) return;
    this.unwatch = this.store.db.listen(
      KEYS_CHANNEL,
      () => this.forgetKeys(),
      (err) => {
        this.forgetKeys();
        if (err) onGap?.(err);
      },
    );
  }

  /**
   * Admit one request of `key`, or throw a 429 naming the limit: the request and token quotas of
   * the current period, then the rate limit. Counted on the store, so that every instance
   * together admits exactly what the limits allow; an admission is settled by `record`, or
   * given back by `release`.
   */
  async admit(key: ApiKey): Promise<Admission> {
    if (!hasLimits(key)) return { keyId: key.id, counted: false };
    const now = this.now();
    const period = {
      start: periodStart(key.quotaPeriod, now),
      end: periodEnd(key.quotaPeriod, now),
    };
    const refused = await this.limiter.admit(
      {
        keyId: key.id,
        requestQuota: key.requestQuota,
        tokenQuota: key.tokenQuota,
        quotaPeriod: key.quotaPeriod,
        rateLimit: key.rateLimit,
      },
      now,
      period,
    );
    if (!refused) return { keyId: key.id, counted: true };
    if (refused.limit === "rate") {
      throw new TooManyRequestsError(
        `Rate limit exceeded for API key '${key.name}': ${key.rateLimit} requests per minute`,
        Math.max(1, Math.ceil(refused.retryAfterMs / 1000)),
      );
    }
    const resets = new Date(refused.periodEnd).toISOString();
    const retryAfter = Math.max(1, Math.ceil((refused.periodEnd - now) / 1000));
    throw new TooManyRequestsError(
      refused.limit === "requests"
        ? `Request quota exhausted for API key '${key.name}': ${key.requestQuota} requests per ${key.quotaPeriod}; it resets at ${resets}`
        : `Token quota exhausted for API key '${key.name}': ${key.tokenQuota} tokens per ${key.quotaPeriod}; it resets at ${resets}`,
      retryAfter,
    );
  }

  /**
   * Commit a request's ledger row (and settle its admission: its tokens counted, or the
   * admission given back when it is not billable); resolves once the row is committed, so a
   * response released after it is never unbilled. Rejects when the row could not be written.
   */
  record(row: LedgerRow, admission: Admission | null): Promise<void> {
    return this.writer.append(
      row,
      admission?.counted
        ? settlement(row, admission.keyId, billableStatus(row.status) ? 0 : 1)
        : null,
    );
  }

  /** Give an admission back without a row (a job submission that created no job). */
  async release(admission: Admission | null): Promise<void> {
    if (!admission?.counted) return;
    const s: Settlement = { keyId: admission.keyId, at: this.now(), tokens: 0, refund: 1 };
    await this.writer.append(null, s);
  }

  /**
   * A job's ledger row and its counters' update, to commit with the job's result (`statements`),
   * and what to run once they are (`after`: a limiter outside the store). The job was admitted at
   * submission; a rerank that failed gives the admission back.
   */
  jobUsage(row: LedgerRow): { statements: Statement[]; after: () => Promise<void> } {
    const settled = [settlement(row, row.keyId, billableStatus(row.status) ? 0 : 1)];
    return {
      statements: [...LedgerStore.inserts([row]), ...this.limiter.settleStatements(settled)],
      after: async () => {
        await this.limiter.settleAfter?.(settled);
      },
    };
  }

  /** Every row recorded so far, committed. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Commit every recorded row; nothing recorded before this is lost. */
  async close(): Promise<void> {
    await this.unwatch?.();
    this.unwatch = null;
    await this.writer.close();
    await this.limiter.close?.();
  }
}

function settlement(row: LedgerRow, keyId: string, refund: number): Settlement {
  return {
    keyId,
    at: row.createdAt,
    tokens: billableStatus(row.status) ? row.promptTokens : 0,
    refund,
  };
}
