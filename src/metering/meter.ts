import { TooManyRequestsError } from "../core/index.js";
import type { ApiKey, LedgerRow, Store } from "../store/index.js";
import { hashKey } from "./api-keys.js";
import { LedgerWriter } from "./ledger-writer.js";
import { periodEnd, periodStart } from "./periods.js";
import { RateLimiter } from "./rate-limit.js";

/** Flag defaults: `--key-cache-ms`, `--ledger-flush-ms`. */
export const DEFAULT_KEY_CACHE_MS = 1000;
export const DEFAULT_LEDGER_FLUSH_MS = 50;
const MAX_ROWS_PER_FLUSH = 512;
const MAX_CACHED_KEYS = 10_000;

export interface MeterOptions {
  /** How long a key lookup (and a key's spend read from the ledger) is reused. */
  keyCacheMs?: number;
  /** Ledger rows are written in batches at most this far apart (0: one write per request). */
  ledgerFlushMs?: number;
  now?: () => number;
  onError?: (err: unknown, rows: number) => void;
}

/** What a key has used in its current quota period. */
interface Spend {
  period: number;
  /** Billable requests and tokens in the ledger as last read. */
  stored: { requests: number; tokens: number };
  /** Recorded here since and not yet in that reading. */
  local: { requests: number; tokens: number };
  /** Admitted, not yet recorded. */
  inflight: number;
  readAt: number;
  reading: Promise<void> | null;
}

const billable = (status: number) => status < 400;

/**
 * Store-backed API keys: authentication (by sha256, cached briefly), rate limits, quotas, and the
 * usage ledger (one row per authenticated request, written in batches, all of them on close).
 */
export class Meter {
  private readonly keys = new Map<string, { key: ApiKey | null; until: number }>();
  private readonly spends = new Map<string, Spend>();
  private readonly limiter = new RateLimiter();
  private readonly writer: LedgerWriter;
  private readonly cacheMs: number;
  readonly now: () => number;

  constructor(
    readonly store: Store,
    options: MeterOptions = {},
  ) {
    this.cacheMs = options.keyCacheMs ?? DEFAULT_KEY_CACHE_MS;
    this.now = options.now ?? Date.now;
    this.writer = new LedgerWriter(store.ledger, {
      flushMs: options.ledgerFlushMs ?? DEFAULT_LEDGER_FLUSH_MS,
      maxRows: MAX_ROWS_PER_FLUSH,
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }

  /** The live stored key for a presented secret, or null. */
  async authenticate(secret: string): Promise<ApiKey | null> {
    const hash = await hashKey(secret);
    const now = this.now();
    const hit = this.keys.get(hash);
    if (hit && hit.until > now) return hit.key;
    const key = (await this.store.keys.findByHash(hash, now)) ?? null;
    if (this.keys.size >= MAX_CACHED_KEYS) this.keys.clear();
    if (this.cacheMs > 0) this.keys.set(hash, { key, until: now + this.cacheMs });
    return key;
  }

  /**
   * Admit one request of `key`, or throw a 429 naming the limit: the rate limit, then the request
   * and token quotas of the current period. An admitted request must be `record`ed.
   */
  async admit(key: ApiKey): Promise<void> {
    const now = this.now();
    if (key.rateLimit !== null) {
      const wait = this.limiter.take(key.id, key.rateLimit, now);
      if (wait > 0) {
        throw new TooManyRequestsError(
          `Rate limit exceeded for API key '${key.name}': ${key.rateLimit} requests per minute`,
          wait,
        );
      }
    }
    if (key.requestQuota === null && key.tokenQuota === null) return;
    const spend = await this.spend(key, now);
    const end = periodEnd(key.quotaPeriod, now);
    const retryAfter = Math.max(1, Math.ceil((end - now) / 1000));
    const resets = new Date(end).toISOString();
    const requests = spend.stored.requests + spend.local.requests + spend.inflight;
    if (key.requestQuota !== null && requests >= key.requestQuota) {
      throw new TooManyRequestsError(
        `Request quota exhausted for API key '${key.name}': ${key.requestQuota} requests per ${key.quotaPeriod}; it resets at ${resets}`,
        retryAfter,
      );
    }
    const tokens = spend.stored.tokens + spend.local.tokens;
    if (key.tokenQuota !== null && tokens >= key.tokenQuota) {
      throw new TooManyRequestsError(
        `Token quota exhausted for API key '${key.name}': ${key.tokenQuota} tokens per ${key.quotaPeriod}; it resets at ${resets}`,
        retryAfter,
      );
    }
    spend.inflight++;
  }

  /**
   * Append a request's ledger row; `admitted` releases what `admit` reserved. With
   * `ledgerFlushMs: 0` it returns the row's write, to await before answering.
   */
  record(row: LedgerRow, key: ApiKey | null, admitted: boolean): Promise<void> | undefined {
    const spend = key ? this.spends.get(key.id) : undefined;
    if (spend && spend.period === periodStart(key!.quotaPeriod, row.createdAt)) {
      if (admitted) spend.inflight = Math.max(0, spend.inflight - 1);
      if (billable(row.status)) {
        spend.local.requests++;
        spend.local.tokens += row.promptTokens;
      }
    }
    return this.writer.append(row)?.catch(() => undefined);
  }

  /** Write every recorded row now. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Write every recorded row; nothing recorded before this is lost. */
  close(): Promise<void> {
    return this.writer.close();
  }

  private async spend(key: ApiKey, now: number): Promise<Spend> {
    const period = periodStart(key.quotaPeriod, now);
    let spend = this.spends.get(key.id);
    if (!spend || spend.period !== period) {
      spend = {
        period,
        stored: { requests: 0, tokens: 0 },
        local: { requests: 0, tokens: 0 },
        inflight: spend?.period === period ? spend.inflight : 0,
        readAt: Number.NEGATIVE_INFINITY,
        reading: null,
      };
      this.spends.set(key.id, spend);
    }
    if (now - spend.readAt >= this.cacheMs && !spend.reading) {
      const s = spend;
      s.reading = this.writer
        .exclusive(async () => {
          // No flush runs meanwhile: the ledger holds exactly the rows written so far, and the
          // rows still waiting are the ones recorded here since.
          const stored = await this.store.ledger.spent(key.id, period);
          const local = { requests: 0, tokens: 0 };
          for (const r of this.writer.pending) {
            if (r.keyId === key.id && r.createdAt >= period && billable(r.status)) {
              local.requests++;
              local.tokens += r.promptTokens;
            }
          }
          s.stored = stored;
          s.local = local;
          s.readAt = now;
        })
        .finally(() => {
          s.reading = null;
        });
      s.reading.catch(() => undefined);
    }
    // Only the first reading is waited for; later ones refresh in the background (what this
    // process records is counted locally meanwhile, so a single instance stays exact).
    if (spend.readAt === Number.NEGATIVE_INFINITY && spend.reading) await spend.reading;
    return spend;
  }
}
