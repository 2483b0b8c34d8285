import { JobStore } from "./jobs.js";
import { KeyStore } from "./keys.js";
import { LedgerStore } from "./ledger.js";
import { migrate } from "./schema.js";
import type { SqlExecutor } from "./sql.js";

/** Everything edgepool keeps: API keys, the usage ledger and its counters, rerank jobs. */
export class Store {
  readonly keys: KeyStore;
  readonly ledger: LedgerStore;
  readonly jobs: JobStore;

  constructor(readonly db: SqlExecutor) {
    this.keys = new KeyStore(db);
    this.ledger = new LedgerStore(db);
    this.jobs = new JobStore(db);
  }

  /** A store over `db` with its tables created. */
  static async open(db: SqlExecutor): Promise<Store> {
    await migrate(db);
    return new Store(db);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
