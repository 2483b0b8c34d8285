export { hashKey, newId, newSecret, staticKeyId } from "./api-keys.js";
export {
  DEFAULT_KEY_CACHE_MS,
  DEFAULT_LEDGER_FLUSH_MS,
  Meter,
  type MeterOptions,
} from "./meter.js";
export { periodEnd, periodStart } from "./periods.js";
