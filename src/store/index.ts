export type { Job, JobStatus, NewJob } from "./jobs.js";
export type { ApiKey, NewApiKey, QuotaPeriod } from "./keys.js";
export type { LedgerRow, LedgerStore, UsageGroup, UsageTotals } from "./ledger.js";
export type { KeyLimits, Limiter, Refusal, Settlement } from "./limits.js";
export {
  openStore,
  type StoreSpec,
  StoreSpecError,
  shownSpec,
  sqlitePath,
  storeSpecFrom,
} from "./open.js";
export { SCHEMA } from "./schema.js";
export type { SqlExecutor, SqlValue, Statement } from "./sql.js";
export { Store } from "./store.js";
