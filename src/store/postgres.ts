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

/** Statements prepared once seen this often, at most this many (each connection keeps them). */
const PREPARE_AFTER = 3;
const MAX_PREPARED = 200;
const MAX_SEEN = 2000;

/** A postgres:// URL whose connections start with `-c` each setting, beside its own `options`. */
function withSettings(connectionString: string, settings: readonly string[]): string {
  if (settings.length === 0) return connectionString;
  const url = new URL(connectionString);
  const given = url.searchParams.get("options");
  const added = settings.map((s) => `-c ${s}`).join(" ");
  url.searchParams.set("options", given ? `${given} ${added}` : added);
  return url.toString();
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
  private relaxedExecutor: PostgresExecutor | null = null;
  private readonly seen = new Map<string, { count: number; name: string | null; text?: string }>();
  private prepared = 0;

  constructor(
    private readonly options: PostgresOptions,
    private readonly asyncCommit = false,
  ) {
    const schema = options.schema;
    if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema)) {
      throw new Error(`Invalid Postgres schema name '${schema}'`);
    }
    const settings = [
      ...(schema ? [`search_path=${schema}`] : []),
      ...(asyncCommit ? ["synchronous_commit=off"] : []),
    ];
    this.pool = new pg.Pool({
      connectionString: withSettings(options.connectionString, settings),
      max: options.max ?? 10,
    });
    // An idle client's error (server restart) must not crash the process; the next query reconnects.
    this.pool.on("error", () => undefined);
  }

  /** The same database through connections that commit without waiting for the WAL flush. */
  relaxed(): SqlExecutor {
    if (this.asyncCommit) return this;
    this.relaxedExecutor ??= new PostgresExecutor(this.options, true);
    return this.relaxedExecutor;
  }

  /** Create the schema named in the options, if any (before the first query that needs it). */
  static async open(options: PostgresOptions): Promise<PostgresExecutor> {
    const db = new PostgresExecutor(options);
    if (options.schema) await db.run(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
    return db;
  }

  /**
   * A query, as a named (prepared) statement once its text has come up a few times: Postgres then
   * parses and plans it once per connection, not on every request. At most MAX_PREPARED texts.
   */
  private query(sql: string, params: readonly SqlValue[]) {
    let seen = this.seen.get(sql);
    if (!seen && this.seen.size < MAX_SEEN) {
      seen = { count: 0, name: null };
      this.seen.set(sql, seen);
    }
    if (seen && !seen.name && ++seen.count >= PREPARE_AFTER && this.prepared < MAX_PREPARED) {
      seen.name = `edgepool_${++this.prepared}`;
    }
    const text = seen?.text ?? numberedParams(sql);
    if (seen) seen.text = text;
    return seen?.name
      ? this.pool.query({ name: seen.name, text, values: params as SqlValue[] })
      : this.pool.query(text, params as SqlValue[]);
  }

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const res = await this.query(sql, params);
    return res.rows as T[];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const res = await this.query(sql, params);
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

  listen(
    channel: string,
    onMessage: (payload: string) => void,
    onGap: (err: unknown) => void,
  ): () => Promise<void> {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`Invalid channel '${channel}'`);
    let stopped = false;
    let client: pg.Client | null = null;
    let retry: NodeJS.Timeout | null = null;
    const connect = async (delayMs: number) => {
      const c = new pg.Client({
        connectionString: withSettings(
          this.options.connectionString,
          this.options.schema ? [`search_path=${this.options.schema}`] : [],
        ),
      });
      const lost = (err: unknown) => {
        if (client !== c) return;
        client = null;
        c.end().catch(() => undefined);
        if (stopped) return;
        onGap(err);
        const next = Math.min(30_000, Math.max(500, delayMs * 2));
        retry = setTimeout(() => void connect(next), next);
        retry.unref();
      };
      client = c;
      c.on("error", lost);
      c.on("end", () => lost(new Error("connection ended")));
      c.on("notification", (n) => onMessage(n.payload ?? ""));
      try {
        await c.connect();
        await c.query(`LISTEN ${channel}`);
        // Whatever happened while not listening is unknown.
        if (delayMs > 0) onGap(null);
      } catch (err) {
        lost(err);
      }
    };
    void connect(0);
    return async () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = null;
      await c?.end().catch(() => undefined);
    };
  }

  /**
   * Writes that do not read each other's effects, as one statement (data-modifying CTEs): one
   * round trip and one commit instead of BEGIN, each statement and COMMIT.
   */
  async writeAll(statements: readonly Statement[]): Promise<void> {
    if (statements.length === 0) return;
    const sql =
      statements.length === 1
        ? statements[0]!.sql
        : `WITH ${statements.map((s, i) => `w${i} AS (${s.sql})`).join(", ")} SELECT 1`;
    await this.query(
      sql,
      statements.flatMap((s) => (s.params ?? []) as SqlValue[]),
    );
  }

  async close(): Promise<void> {
    await this.relaxedExecutor?.close();
    await this.pool.end();
  }
}
