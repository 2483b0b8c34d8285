export { type AppOptions, buildApp, type CreatedApp } from "./app.js";
export { createApp } from "./create-app.js";
export { DEFAULT_MAX_CLIENT_BATCH_SIZE, DEFAULT_PAYLOAD_LIMIT } from "./defaults.js";
export * from "./errors.js";
export { FAMILY_NAMES, familyPaths, ROUTE_FAMILIES, type RouteFamily } from "./families.js";
export { type HostState, ModelHost } from "./host.js";
export { Metrics } from "./metrics.js";
