import type { SqlExecutor, SqlValue, Statement } from "../store/sql.js";
import type { D1Database } from "./bindings.js";

/** The metering store's SQL executor on Cloudflare D1 (SQLite dialect, `?` placeholders). */
export class D1Sql implements SqlExecutor {
  readonly dialect = "sqlite" as const;

  constructor(private readonly db: D1Database) {}

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return (
      await this.db
        .prepare(sql)
        .bind(...params)
        .all<T>()
    ).results;
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const result = (await this.db
      .prepare(sql)
      .bind(...params)
      .run()) as {
      meta?: { changes?: number };
    };
    return result.meta?.changes ?? 0;
  }

  async batch(statements: readonly Statement[]): Promise<void> {
    await this.db.batch(statements.map((s) => this.db.prepare(s.sql).bind(...(s.params ?? []))));
  }

  async close(): Promise<void> {}
}
