import pg from "pg";
import type { SqlExecutor, SqlValue, Statement } from "./sql.js";

// COUNT and BIGINT columns as numbers (millisecond times and counters fit in 2^53), SUMs too.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

/** `?` placeholders (SQLite, D1) → `$1, $2, …` (Postgres); none of our SQL has `?` in literals. */
export function numberedParams(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export interface PostgresOptions {
  connectionString: string;
  /** Tables live in this schema (created if missing); default: the server's search_path. */
  schema?: string;
  /** Pool size (default 10; on Lambda 1, through a pooler such as RDS Proxy or PgBouncer). */
  max?: number;
}

/**
 * The shared backend for several instances: node-postgres (`pg`), the most used and maintained
 * Postgres client for Node, with a connection pool. Same SQL as SQLite, placeholders renumbered.
 */
export class PostgresExecutor implements SqlExecutor {
  readonly dialect = "postgres" as const;
  private readonly pool: pg.Pool;

  constructor(options: PostgresOptions) {
    const schema = options.schema;
    if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema)) {
      throw new Error(`Invalid Postgres schema name '${schema}'`);
    }
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.max ?? 10,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    // An idle client's error (server restart) must not crash the process; the next query reconnects.
    this.pool.on("error", () => undefined);
  }

  /** Create the schema named in the options, if any (before the first query that needs it). */
  static async open(options: PostgresOptions): Promise<PostgresExecutor> {
    const db = new PostgresExecutor(options);
    if (options.schema) await db.run(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
    return db;
  }

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const res = await this.pool.query(numberedParams(sql), params as SqlValue[]);
    return res.rows as T[];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const res = await this.pool.query(numberedParams(sql), params as SqlValue[]);
    return res.rowCount ?? 0;
  }

  async batch(statements: readonly Statement[]): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      for (const s of statements) {
        await client.query(numberedParams(s.sql), (s.params ?? []) as SqlValue[]);
      }
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
