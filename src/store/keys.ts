import { first, type SqlExecutor } from "./sql.js";

export type QuotaPeriod = "day" | "month";

/** The Postgres notification channel of key revocations and rotations. */
export const KEYS_CHANNEL = "edgepool_keys";

/** An API key as stored: never the key itself, only its sha256. */
export interface ApiKey {
  id: string;
  name: string;
  keyPrefix: string;
  customer: string | null;
  requestQuota: number | null;
  tokenQuota: number | null;
  quotaPeriod: QuotaPeriod;
  /** Requests per minute. */
  rateLimit: number | null;
  createdAt: number;
  rotatedAt: number | null;
  revokedAt: number | null;
}

export interface NewApiKey {
  id: string;
  name: string;
  keyHash: string;
  keyPrefix: string;
  customer?: string | null;
  requestQuota?: number | null;
  tokenQuota?: number | null;
  quotaPeriod?: QuotaPeriod;
  rateLimit?: number | null;
  createdAt: number;
}

interface Row {
  id: string;
  name: string;
  key_prefix: string;
  customer: string | null;
  request_quota: number | null;
  token_quota: number | null;
  quota_period: string;
  rate_limit: number | null;
  created_at: number;
  rotated_at: number | null;
  revoked_at: number | null;
}

const COLUMNS =
  "id, name, key_prefix, customer, request_quota, token_quota, quota_period, rate_limit, created_at, rotated_at, revoked_at";

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function toKey(r: Row): ApiKey {
  return {
    id: r.id,
    name: r.name,
    keyPrefix: r.key_prefix,
    customer: r.customer,
    requestQuota: num(r.request_quota),
    tokenQuota: num(r.token_quota),
    quotaPeriod: r.quota_period === "day" ? "day" : "month",
    rateLimit: num(r.rate_limit),
    createdAt: Number(r.created_at),
    rotatedAt: num(r.rotated_at),
    revokedAt: num(r.revoked_at),
  };
}

/** API keys: create, find by hash, list, revoke, rotate. */
export class KeyStore {
  constructor(private readonly db: SqlExecutor) {}

  async create(key: NewApiKey): Promise<ApiKey> {
    const rows = await this.db.all<Row>(
      `INSERT INTO api_keys (id, name, key_hash, key_prefix, customer, request_quota, token_quota,
         quota_period, rate_limit, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       RETURNING ${COLUMNS}`,
      [
        key.id,
        key.name,
        key.keyHash,
        key.keyPrefix,
        key.customer ?? null,
        key.requestQuota ?? null,
        key.tokenQuota ?? null,
        key.quotaPeriod ?? "month",
        key.rateLimit ?? null,
        key.createdAt,
      ],
    );
    return toKey(rows[0]!);
  }

  /** The live key with this hash: the current one, or the previous one within its grace period. */
  async findByHash(hash: string, now: number): Promise<ApiKey | undefined> {
    const row = await first<Row>(
      this.db,
      `SELECT ${COLUMNS} FROM api_keys
       WHERE revoked_at IS NULL
         AND (key_hash = ? OR (previous_hash = ? AND previous_expires_at > ?))`,
      [hash, hash, now],
    );
    return row && toKey(row);
  }

  async get(idOrName: string): Promise<ApiKey | undefined> {
    const row = await first<Row>(
      this.db,
      `SELECT ${COLUMNS} FROM api_keys WHERE id = ? OR name = ? ORDER BY created_at DESC`,
      [idOrName, idOrName],
    );
    return row && toKey(row);
  }

  async list(): Promise<ApiKey[]> {
    const rows = await this.db.all<Row>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`);
    return rows.map(toKey);
  }

  /** Revoke at once; false when no live key has this id. */
  async revoke(id: string, now: number): Promise<boolean> {
    const n = await this.db.run(
      "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
      [now, id],
    );
    if (n > 0) await this.changed(id);
    return n > 0;
  }

  /** Tell the servers listening on the store (Postgres) that a key changed: they forget it. */
  private async changed(id: string): Promise<void> {
    if (this.db.dialect === "postgres") {
      await this.db.run(`SELECT pg_notify('${KEYS_CHANNEL}', ?)`, [id]);
    }
  }

  /** Give the key a new secret; the old one keeps working until `graceUntil` (or stops now). */
  async rotate(
    id: string,
    next: { keyHash: string; keyPrefix: string },
    now: number,
    graceUntil: number,
  ): Promise<ApiKey | undefined> {
    const rows = await this.db.all<Row>(
      `UPDATE api_keys
       SET previous_hash = key_hash, previous_expires_at = ?, key_hash = ?, key_prefix = ?,
           rotated_at = ?
       WHERE id = ? AND revoked_at IS NULL
       RETURNING ${COLUMNS}`,
      [graceUntil, next.keyHash, next.keyPrefix, now, id],
    );
    if (rows[0]) await this.changed(id);
    return rows[0] && toKey(rows[0]);
  }
}
