import type { LedgerRow, LedgerStore } from "../store/index.js";

export interface LedgerWriterOptions {
  /** Rows wait at most this long before they are written (0: each row is written at once). */
  flushMs: number;
  /** A flush starts as soon as this many rows wait. */
  maxRows: number;
  onError?: (err: unknown, rows: number) => void;
}

/**
 * Batches ledger rows into one transaction per flush. Rows whose write fails go back to the
 * buffer and are retried by the next flush; `close` writes everything that waits (SIGTERM).
 */
export class LedgerWriter {
  private buffer: LedgerRow[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly ledger: LedgerStore,
    private readonly options: LedgerWriterOptions,
  ) {}

  /** Rows recorded and not yet written. */
  get pending(): readonly LedgerRow[] {
    return this.buffer;
  }

  /** Buffer a row; with `flushMs` 0 it returns the row's write, otherwise it never waits. */
  append(row: LedgerRow): Promise<void> | undefined {
    this.buffer.push(row);
    if (this.options.flushMs <= 0) return this.flush();
    if (this.buffer.length >= this.options.maxRows) {
      void this.flush().catch(() => undefined);
      return undefined;
    }
    this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), this.options.flushMs);
    return undefined;
  }

  /** Write every waiting row; flushes run one after another. */
  flush(): Promise<void> {
    const next = this.running.then(async () => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      const rows = this.buffer;
      if (rows.length === 0) return;
      this.buffer = [];
      try {
        await this.ledger.append(rows);
      } catch (err) {
        this.buffer = [...rows, ...this.buffer];
        this.options.onError?.(err, rows.length);
        this.timer ??= setTimeout(
          () => void this.flush().catch(() => undefined),
          Math.max(this.options.flushMs, 1000),
        );
        throw err;
      }
    });
    this.running = next.catch(() => undefined);
    return next;
  }

  /** Run `fn` between flushes (nothing is being written meanwhile). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.running.then(fn);
    this.running = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
  }
}
