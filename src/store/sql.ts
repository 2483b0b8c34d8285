/**
 * The one thing a backend provides: run SQLite-dialect statements (`?` placeholders), async.
 * SQLite (node:sqlite), Postgres (pg) and Cloudflare D1 all fit behind it; the queries in this
 * folder are written once against it.
 */
export type SqlValue = string | number | null;

export interface Statement {
  sql: string;
  params?: readonly SqlValue[];
}

export interface SqlExecutor {
  /** Which server runs the SQL: the few queries that differ ask this. */
  readonly dialect: "sqlite" | "postgres";
  /** Rows of a query (or of a statement with `RETURNING`). */
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** A statement's affected row count. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Several statements in one transaction: all or none (D1's `batch`). */
  batch(statements: readonly Statement[]): Promise<void>;
  /**
   * Writes (INSERT, UPDATE) none of which reads another's effects, all or none, in as few round
   * trips as the database allows (Postgres: one statement). Default: `batch`.
   */
  writeAll?(statements: readonly Statement[]): Promise<void>;
  /**
   * An executor for writes that may be forgotten by a crash of the database server (never by a
   * crash of this process): Postgres commits them without waiting for the disk. Default: this one.
   */
  relaxed?(): SqlExecutor;
  /**
   * Call `onMessage` for each notification on `channel` (Postgres LISTEN), and `onGap` whenever
   * some may have been missed (the connection was lost; it reconnects). Returns how to stop.
   */
  listen?(
    channel: string,
    onMessage: (payload: string) => void,
    onGap: (err: unknown) => void,
  ): () => Promise<void>;
  close(): Promise<void>;
}

/** Independent writes, all or none: the executor's `writeAll` where it has one, else `batch`. */
export function writeAll(db: SqlExecutor, statements: readonly Statement[]): Promise<void> {
  if (statements.length === 0) return Promise.resolve();
  return db.writeAll ? db.writeAll(statements) : db.batch(statements);
}

export async function first<T>(
  db: SqlExecutor,
  sql: string,
  params?: readonly SqlValue[],
): Promise<T | undefined> {
  return (await db.all<T>(sql, params))[0];
}
