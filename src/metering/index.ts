export { hashKey, newId, newSecret, staticKeyId } from "./api-keys.js";
export {
  type Admission,
  BILLABLE_CHOICES,
  type Billable,
  DEFAULT_KEY_CACHE_MS,
  DEFAULT_LEDGER_FLUSH_MS,
  Meter,
  type MeterOptions,
} from "./meter.js";
export { periodEnd, periodStart } from "./periods.js";
