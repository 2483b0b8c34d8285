import type { D1Database, D1Result } from "./bindings.js";
import { sha256Hex } from "./digest.js";

export interface ApiKey {
  id: string;
  /** Requests per minute for this key; null takes the Worker's default. */
  rateLimitPerMinute: number | null;
}

export interface UsageRecord {
  requestId: string;
  keyId: string;
  route: string;
  model: string | null;
  status: number;
  inputTokens: number;
  /** The origin region that answered, `worker` for the in-Worker model, or `cache`. */
  servedBy: string;
  cached: boolean;
}

export interface RateDecision {
  allowed: boolean;
  /** Seconds until the current window ends. */
  retryAfterSeconds: number;
}

/** What the gateway needs from its store: key lookup, rate windows and the usage ledger. */
export interface GatewayLedger {
  findKey(token: string): Promise<ApiKey | null>;
  take(keyId: string, limitPerMinute: number, nowMs: number): Promise<RateDecision>;
  record(usage: UsageRecord): Promise<void>;
}

/** The ledger on D1 (SQLite): keys are looked up by their sha256, never stored in clear. */
export class D1Ledger implements GatewayLedger {
  constructor(private readonly db: D1Database) {}

  async findKey(token: string): Promise<ApiKey | null> {
    if (token === "") return null;
    const row = await this.db
      .prepare(
        "SELECT id, rate_limit_per_minute FROM api_keys WHERE key_sha256 = ? AND revoked_at IS NULL",
      )
      .bind(await sha256Hex(token))
      .first<{ id: string; rate_limit_per_minute: number | null }>();
    return row ? { id: row.id, rateLimitPerMinute: row.rate_limit_per_minute } : null;
  }

  /** One fixed one-minute window per key, counted atomically in one statement. */
  async take(keyId: string, limitPerMinute: number, nowMs: number): Promise<RateDecision> {
    const window = Math.floor(nowMs / 60_000);
    // One transaction: drop the key's past windows, then count this request in the current one.
    const [, counted] = (await this.db.batch([
      this.db
        .prepare("DELETE FROM rate_windows WHERE key_id = ? AND window_start < ?")
        .bind(keyId, window),
      this.db
        .prepare(
          `INSERT INTO rate_windows (key_id, window_start, count) VALUES (?, ?, 1)
           ON CONFLICT (key_id, window_start) DO UPDATE SET count = count + 1
           RETURNING count`,
        )
        .bind(keyId, window),
    ])) as [unknown, D1Result<{ count: number }>];
    const count = counted.results[0]?.count ?? 1;
    const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * 60_000 - nowMs) / 1000));
    return { allowed: count <= limitPerMinute, retryAfterSeconds };
  }

  async record(u: UsageRecord): Promise<void> {
    await this.db
      .prepare(
        `INSERT INTO usage (request_id, key_id, route, model, status, input_tokens, served_by, cached)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(
        u.requestId,
        u.keyId,
        u.route,
        u.model,
        u.status,
        u.inputTokens,
        u.servedBy,
        u.cached ? 1 : 0,
      )
      .run();
  }
}
