import { DEFAULT_TEMPLATE_LIMITS } from "../engine/template-limits.js";
import type { AppOptions } from "./app.js";
import {
  DEFAULT_MAX_CLIENT_BATCH_SIZE,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_PAYLOAD_LIMIT,
} from "./defaults.js";
import { DirectPath } from "./direct.js";
import { type ModelHost, uniqueHosts } from "./host.js";
import type { RouteDeps } from "./route-deps.js";
import type { TimingOptions } from "./timing.js";

/**
 * What the app's routes and middleware and the server's direct path share, from the app's
 * options. Free of Hono and zod: a function builds its direct path from it before (or without)
 * loading the HTTP side.
 */
export interface AppParts {
  host: ModelHost;
  deps: RouteDeps;
  timing: TimingOptions;
  payloadLimit: number;
  /** API keys or metering: every request goes through the middleware that checks them. */
  auth: boolean;
}

export function appParts(host: ModelHost, options: AppOptions): AppParts {
  return {
    host,
    deps: {
      host,
      hosts: uniqueHosts([host, ...(options.models ?? [])]),
      limits: {
        maxClientBatchSize: options.maxClientBatchSize ?? DEFAULT_MAX_CLIENT_BATCH_SIZE,
        trustRequestChatTemplate: options.trustRequestChatTemplate ?? false,
        chatTemplateLimits: options.chatTemplateLimits ?? DEFAULT_TEMPLATE_LIMITS,
      },
    },
    timing: {
      maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      metrics: options.metrics ?? null,
      logger: options.logger,
    },
    payloadLimit: options.payloadLimit ?? DEFAULT_PAYLOAD_LIMIT,
    auth: (options.apiKeys?.length ?? 0) > 0 || options.meter !== undefined,
  };
}

/**
 * The direct path for the mounted ones of the busiest routes; null with authentication or
 * metering (they run in the middleware chain) or when none of them is mounted.
 */
export function directPathOf(
  parts: AppParts,
  mounted: (path: string) => boolean,
): DirectPath | null {
  if (parts.auth) return null;
  const direct = new DirectPath(parts.host, parts.deps, parts.timing, parts.payloadLimit, mounted);
  return direct.routeCount > 0 ? direct : null;
}
