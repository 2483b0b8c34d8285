import type { LedgerRow, LedgerStore } from "../store/index.js";
import type { Limiter, Settlement } from "../store/limits.js";

export interface LedgerWriterOptions {
  /** A commit waits this long for more rows to join it (0: it starts on the next turn). */
  flushMs: number;
  /**
   * Commits under way at once (default 1): rows arriving while they all run wait for the next.
   * Postgres flushes concurrent commits' WAL together, so a few in parallel cut the wait.
   */
  parallel?: number;
  /** Counter updates that go in the rows' transaction. */
  limiter: Limiter;
  onError?: (err: unknown, rows: number) => void;
}

interface Waiting {
  rows: LedgerRow[];
  settlements: Settlement[];
  done: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function waiting(): Waiting {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Whoever appended awaits it; an unawaited failure must not crash the process.
  done.catch(() => undefined);
  return { rows: [], settlements: [], done, resolve, reject };
}

/**
 * Group commit: every row is committed before the promise `append` returns settles, and rows
 * that arrive while a commit runs go together in the next one (one transaction, one multi-row
 * INSERT, with their counters' updates). A failed commit rejects its rows' promises.
 */
export class LedgerWriter {
  private next: Waiting | null = null;
  /** Cancels the commit scheduled to start, if any. */
  private scheduled: (() => void) | null = null;
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly ledger: LedgerStore,
    private readonly options: LedgerWriterOptions,
  ) {}

  /** Write a row (and its settlement); settles once it is committed. */
  append(row: LedgerRow | null, settlement: Settlement | null = null): Promise<void> {
    this.next ??= waiting();
    if (row) this.next.rows.push(row);
    if (settlement) this.next.settlements.push(settlement);
    const done = this.next.done;
    this.schedule();
    return done;
  }

  private schedule(): void {
    if (this.running.size >= (this.options.parallel ?? 1) || this.scheduled || !this.next) return;
    if (this.options.flushMs > 0) {
      const t = setTimeout(() => this.start(), this.options.flushMs);
      this.scheduled = () => clearTimeout(t);
    } else {
      const t = setImmediate(() => this.start());
      this.scheduled = () => clearImmediate(t);
    }
  }

  private start(): void {
    this.scheduled = null;
    const commit: Promise<void> = this.drain().finally(() => {
      this.running.delete(commit);
      this.schedule();
    });
    this.running.add(commit);
  }

  private async drain(): Promise<void> {
    const batch = this.next;
    this.next = null;
    if (!batch) return;
    try {
      await this.ledger.append(
        batch.rows,
        this.options.limiter.settleStatements(batch.settlements),
      );
    } catch (err) {
      this.options.onError?.(err, batch.rows.length);
      batch.reject(err);
      return;
    }
    // Counters kept outside the store (Redis) are settled before the answers are released, so
    // that a key's next request, on any instance, reads the tokens this one used.
    await this.options.limiter
      .settleAfter?.(batch.settlements)
      .catch((err: unknown) => this.options.onError?.(err, 0));
    batch.resolve();
  }

  /** Every row appended so far, committed (or failed). */
  async flush(): Promise<void> {
    const pending = this.next?.done;
    if (this.scheduled) {
      this.scheduled();
      this.start();
    }
    await pending?.catch(() => undefined);
    await Promise.all([...this.running].map((c) => c.catch(() => undefined)));
  }

  close(): Promise<void> {
    return this.flush();
  }
}
