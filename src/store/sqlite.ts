import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import type { SqlExecutor, SqlValue, Statement } from "./sql.js";

/**
 * The embedded backend: node:sqlite in WAL mode (readers never wait for the writer; a commit is
 * one append to the log). Synchronous underneath, so each call is atomic within the process; other
 * processes on the same file wait up to `busy_timeout`.
 */
export class SqliteExecutor implements SqlExecutor {
  readonly dialect = "sqlite" as const;
  private readonly db: DatabaseSync;
  private readonly cache = new Map<string, ReturnType<DatabaseSync["prepare"]>>();

  constructor(path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    // First, so that what follows waits for other processes opening the same file.
    this.db.exec("PRAGMA busy_timeout = 5000");
    this.walMode();
    // NORMAL in WAL mode: a commit survives a process crash; only power loss can undo the last ones.
    this.db.exec("PRAGMA synchronous = NORMAL");
  }

  /**
   * WAL mode, once several processes opening a new file at once have let go of it: switching
   * the journal mode can be refused as "locked" without waiting for the busy timeout.
   */
  private walMode(): void {
    const until = Date.now() + 5000;
    for (;;) {
      try {
        this.db.exec("PRAGMA journal_mode = WAL");
        return;
      } catch (err) {
        if (!/locked|busy/i.test((err as Error).message) || Date.now() > until) throw err;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
  }

  private prepare(sql: string) {
    let stmt = this.cache.get(sql);
    if (!stmt) {
      // Batched inserts vary in row count: keep the cache bounded.
      if (this.cache.size >= 256) this.cache.clear();
      stmt = this.db.prepare(sql);
      this.cache.set(sql, stmt);
    }
    return stmt;
  }

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.prepare(sql).all(...(params as SQLInputValue[])) as T[];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return Number(this.prepare(sql).run(...(params as SQLInputValue[])).changes);
  }

  async batch(statements: readonly Statement[]): Promise<void> {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      for (const s of statements) this.prepare(s.sql).run(...((s.params ?? []) as SQLInputValue[]));
      this.db.exec("COMMIT");
    } catch (err) {
      this.db.exec("ROLLBACK");
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }
}
