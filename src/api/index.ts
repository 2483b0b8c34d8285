export {
  type AppOptions,
  type CreatedApp,
  createApp,
  DEFAULT_MAX_CLIENT_BATCH_SIZE,
  DEFAULT_PAYLOAD_LIMIT,
} from "./app.js";
export * from "./errors.js";
export { type HostState, ModelHost } from "./host.js";
export { Metrics } from "./metrics.js";
