import { first, type SqlExecutor, type SqlValue, type Statement, writeAll } from "./sql.js";

/** One metered request. */
export interface LedgerRow {
  id: string;
  keyId: string;
  route: string;
  model: string | null;
  inputs: number;
  promptTokens: number;
  status: number;
  durationMs: number;
  requestId: string;
  createdAt: number;
}

export type UsageGroup = "day" | "route" | "model";

export interface UsageTotals {
  /** The day (YYYY-MM-DD, UTC), route or model; null when ungrouped. */
  group: string | null;
  requests: number;
  errors: number;
  inputs: number;
  promptTokens: number;
}

interface Row {
  id: string;
  key_id: string;
  route: string;
  model: string | null;
  inputs: number;
  prompt_tokens: number;
  status: number;
  duration_ms: number;
  request_id: string;
  created_at: number;
}

const DAY_MS = 86_400_000;

/** Rows per INSERT: 10 parameters each, well under SQLite's and Postgres' parameter limits. */
const ROWS_PER_INSERT = 500;

/** One multi-row INSERT (one round trip to Postgres for a whole batch). */
function insert(rows: number): string {
  const values = Array.from({ length: rows }, () => "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ");
  return `INSERT INTO usage_ledger
  (id, key_id, route, model, inputs, prompt_tokens, status, duration_ms, request_id, created_at)
  VALUES ${values}
  ON CONFLICT (id) DO NOTHING`;
}

function params(r: LedgerRow): SqlValue[] {
  return [
    r.id,
    r.keyId,
    r.route,
    r.model,
    r.inputs,
    r.promptTokens,
    r.status,
    r.durationMs,
    r.requestId,
    r.createdAt,
  ];
}

/** Billable = answered below 400; quotas and invoices count only these. */
const BILLABLE = "status < 400";

/** The usage ledger: append-only rows, totals per key and period, exports. */
export class LedgerStore {
  constructor(private readonly db: SqlExecutor) {}

  /**
   * Append rows, and run `also` (their counters' updates), all or none; a row whose id is already
   * there is skipped.
   */
  async append(rows: readonly LedgerRow[], also: readonly Statement[] = []): Promise<void> {
    await writeAll(this.db, [...LedgerStore.inserts(rows), ...also]);
  }

  /** The INSERTs that append `rows` (a row whose id is already there is skipped). */
  static inserts(rows: readonly LedgerRow[]): Statement[] {
    const statements: Statement[] = [];
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      const chunk = rows.slice(i, i + ROWS_PER_INSERT);
      statements.push({ sql: insert(chunk.length), params: chunk.flatMap(params) });
    }
    return statements;
  }

  /** Billable requests and tokens of a key since `from`, for its quotas. */
  async spent(keyId: string, from: number): Promise<{ requests: number; tokens: number }> {
    const row = await first<{ requests: number; tokens: number }>(
      this.db,
      `SELECT COUNT(*) AS requests, COALESCE(SUM(prompt_tokens), 0) AS tokens
       FROM usage_ledger WHERE key_id = ? AND created_at >= ? AND ${BILLABLE}`,
      [keyId, from],
    );
    return { requests: Number(row?.requests ?? 0), tokens: Number(row?.tokens ?? 0) };
  }

  /** A key's totals in [from, to), optionally grouped by UTC day, route or model. */
  async totals(
    keyId: string,
    from: number,
    to: number,
    groupBy: UsageGroup | null,
  ): Promise<UsageTotals[]> {
    const group =
      groupBy === "day"
        ? `created_at / ${DAY_MS}`
        : groupBy === "route"
          ? "route"
          : groupBy === "model"
            ? "model"
            : "NULL";
    const rows = await this.db.all<{
      grp: string | number | null;
      requests: number;
      errors: number;
      inputs: number;
      tokens: number;
    }>(
      `SELECT ${group} AS grp, COUNT(*) AS requests,
         COALESCE(SUM(CASE WHEN ${BILLABLE} THEN 0 ELSE 1 END), 0) AS errors,
         COALESCE(SUM(CASE WHEN ${BILLABLE} THEN inputs ELSE 0 END), 0) AS inputs,
         COALESCE(SUM(CASE WHEN ${BILLABLE} THEN prompt_tokens ELSE 0 END), 0) AS tokens
       FROM usage_ledger WHERE key_id = ? AND created_at >= ? AND created_at < ?
       ${groupBy ? "GROUP BY grp ORDER BY grp" : ""}`,
      [keyId, from, to],
    );
    return rows.map((r) => ({
      group:
        r.grp === null
          ? null
          : groupBy === "day"
            ? new Date(Number(r.grp) * DAY_MS).toISOString().slice(0, 10)
            : String(r.grp),
      requests: Number(r.requests),
      errors: Number(r.errors),
      inputs: Number(r.inputs),
      promptTokens: Number(r.tokens),
    }));
  }

  /** Every row in [from, to), oldest first, a page at a time (for billing exports). */
  async *rows(from: number, to: number, pageSize = 1000): AsyncGenerator<LedgerRow> {
    let after: [number, string] = [from - 1, ""];
    for (;;) {
      const page = await this.db.all<Row>(
        `SELECT * FROM usage_ledger
         WHERE created_at >= ? AND created_at < ? AND (created_at > ? OR (created_at = ? AND id > ?))
         ORDER BY created_at, id LIMIT ?`,
        [from, to, after[0], after[0], after[1], pageSize],
      );
      for (const r of page) {
        yield {
          id: r.id,
          keyId: r.key_id,
          route: r.route,
          model: r.model,
          inputs: Number(r.inputs),
          promptTokens: Number(r.prompt_tokens),
          status: Number(r.status),
          durationMs: Number(r.duration_ms),
          requestId: r.request_id,
          createdAt: Number(r.created_at),
        };
      }
      if (page.length < pageSize) return;
      const last = page[page.length - 1]!;
      after = [Number(last.created_at), last.id];
    }
  }
}
