import { hashKey } from "../metering/api-keys.js";
import { periodEnd, periodStart } from "../metering/periods.js";
import type { QuotaPeriod } from "../store/keys.js";
import { LedgerStore } from "../store/ledger.js";
import { type Settlement, SqlLimiter } from "../store/limits.js";
import { Store } from "../store/store.js";
import type { D1Database } from "./bindings.js";
import { D1Sql } from "./d1-sql.js";

export interface ApiKey {
  id: string;
  name: string;
  /** Requests per minute for this key; null takes the Worker's default. */
  rateLimitPerMinute: number | null;
  requestQuota: number | null;
  tokenQuota: number | null;
  quotaPeriod: QuotaPeriod;
}

export interface UsageRecord {
  requestId: string;
  keyId: string;
  route: string;
  model: string | null;
  status: number;
  inputs: number;
  inputTokens: number;
  durationMs: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Seconds until a request may be admitted again. */
  retryAfterSeconds: number;
  /** Why it was refused (empty when allowed). */
  message: string;
}

/** What the gateway needs from its store: key lookup, admission (limits) and the usage ledger. */
export interface GatewayLedger {
  findKey(token: string): Promise<ApiKey | null>;
  /** Admit one request of `key` against its quotas and its rate limit (`limitPerMinute`). */
  admit(key: ApiKey, limitPerMinute: number, nowMs: number): Promise<RateDecision>;
  /** The request's ledger row, with its admission's settlement, in one transaction. */
  record(usage: UsageRecord): Promise<void>;
}

/** What to do when D1 lacks the tables (a database the migrations were never applied to). */
export const MIGRATE_HINT =
  "apply the migrations first: npx wrangler d1 migrations apply edgepool --remote";

/**
 * The gateway's ledger on D1: the metering store (the same SQL, tables, key hashing, quotas and
 * rate limits as the server and the functions) over a D1 executor: a key's limits hold across
 * every isolate and the origins sharing nothing but D1. The tables come from D1's own migrations
 * (migrations/, `wrangler d1 migrations apply`), before any request. One instance per request: it
 * settles the admission it gave.
 */
export class D1Ledger implements GatewayLedger {
  private readonly store: Store;
  private readonly limiter: SqlLimiter;
  private admitted: string | null = null;

  constructor(db: D1Database) {
    this.store = new Store(new D1Sql(db));
    this.limiter = new SqlLimiter(this.store.db, (id, from) => this.store.ledger.spent(id, from));
  }

  async findKey(token: string): Promise<ApiKey | null> {
    if (token === "") return null;
    const key = await this.store.keys.findByHash(await hashKey(token), Date.now());
    return key
      ? {
          id: key.id,
          name: key.name,
          rateLimitPerMinute: key.rateLimit,
          requestQuota: key.requestQuota,
          tokenQuota: key.tokenQuota,
          quotaPeriod: key.quotaPeriod,
        }
      : null;
  }

  /** One atomic statement on the key's counters (the metering store's `key_usage`). */
  async admit(key: ApiKey, limitPerMinute: number, nowMs: number): Promise<RateDecision> {
    const refused = await this.limiter.admit(
      {
        keyId: key.id,
        requestQuota: key.requestQuota,
        tokenQuota: key.tokenQuota,
        quotaPeriod: key.quotaPeriod,
        rateLimit: limitPerMinute,
      },
      nowMs,
      { start: periodStart(key.quotaPeriod, nowMs), end: periodEnd(key.quotaPeriod, nowMs) },
    );
    if (!refused) {
      this.admitted = key.id;
      return { allowed: true, retryAfterSeconds: 0, message: "" };
    }
    if (refused.limit === "rate") {
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil(refused.retryAfterMs / 1000)),
        message: `Rate limit of ${limitPerMinute} requests per minute exceeded`,
      };
    }
    const quota = refused.limit === "requests" ? key.requestQuota : key.tokenQuota;
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((refused.periodEnd - nowMs) / 1000)),
      message: `${refused.limit === "requests" ? "Request" : "Token"} quota exhausted for API key '${key.name}': ${quota} ${refused.limit} per ${key.quotaPeriod}; it resets at ${new Date(refused.periodEnd).toISOString()}`,
    };
  }

  async record(u: UsageRecord): Promise<void> {
    const at = Date.now();
    const billable = u.status < 400;
    const settlement: Settlement[] =
      this.admitted === u.keyId
        ? [{ keyId: u.keyId, at, tokens: billable ? u.inputTokens : 0, refund: billable ? 0 : 1 }]
        : [];
    this.admitted = null;
    await this.store.db.batch([
      ...LedgerStore.inserts([
        {
          id: u.requestId,
          keyId: u.keyId,
          route: u.route,
          model: u.model,
          inputs: u.inputs,
          promptTokens: u.inputTokens,
          status: u.status,
          durationMs: u.durationMs,
          requestId: u.requestId,
          createdAt: at,
        },
      ]),
      ...this.limiter.settleStatements(settlement),
    ]);
  }
}
