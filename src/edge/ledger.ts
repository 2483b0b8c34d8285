import { hashKey } from "../metering/api-keys.js";
import { migrate } from "../store/schema.js";
import { Store } from "../store/store.js";
import type { D1Database, D1Result } from "./bindings.js";
import { D1Sql } from "./d1-sql.js";

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
  inputs: number;
  inputTokens: number;
  durationMs: number;
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

/** Per-key one-minute request windows: the one table the metering store has no use for. */
const RATE_WINDOWS = `CREATE TABLE IF NOT EXISTS rate_windows (
  key_id TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (key_id, window_start)
)`;

const migrated = new WeakSet<D1Database>();

/**
 * The gateway's ledger on D1: the metering store (the same SQL, tables and key hashing as the
 * server and the functions) over a D1 executor, plus atomic per-key rate windows. Tables are
 * created (idempotently) once per isolate.
 */
export class D1Ledger implements GatewayLedger {
  private readonly store: Store;
  private ready: Promise<void> | null = null;

  constructor(private readonly db: D1Database) {
    this.store = new Store(new D1Sql(db));
  }

  private prepare(): Promise<void> {
    if (migrated.has(this.db)) return Promise.resolve();
    this.ready ??= (async () => {
      await migrate(this.store.db);
      await this.db.prepare(RATE_WINDOWS).run();
      migrated.add(this.db);
    })();
    return this.ready;
  }

  async findKey(token: string): Promise<ApiKey | null> {
    if (token === "") return null;
    await this.prepare();
    const key = await this.store.keys.findByHash(await hashKey(token), Date.now());
    return key ? { id: key.id, rateLimitPerMinute: key.rateLimit } : null;
  }

  /** One fixed one-minute window per key, counted atomically in one statement. */
  async take(keyId: string, limitPerMinute: number, nowMs: number): Promise<RateDecision> {
    await this.prepare();
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
    await this.prepare();
    await this.store.ledger.append([
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
        createdAt: Date.now(),
      },
    ]);
  }
}
