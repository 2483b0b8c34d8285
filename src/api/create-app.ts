import type { Engine } from "../engine/engine.js";
import { type AppOptions, buildApp, type CreatedApp } from "./app.js";
import type { ModelHost } from "./host.js";
import { Metrics } from "./metrics.js";

/** `buildApp` with Prometheus metrics at `/metrics` (Node: the server and the functions). */
export function createApp(
  engineOrHost: Engine | ModelHost,
  options: AppOptions = {},
): CreatedApp & { metrics: Metrics } {
  const metrics = options.metrics ?? new Metrics();
  const created = buildApp(engineOrHost, { ...options, metrics });
  return { ...created, metrics };
}
