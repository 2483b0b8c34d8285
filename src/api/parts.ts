import { DEFAULT_TEMPLATE_LIMITS } from "../engine/template-limits.js";
import type { AppOptions } from "./app.js";
import {
  DEFAULT_MAX_CLIENT_BATCH_SIZE,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_PAYLOAD_LIMIT,
} from "./defaults.js";
import { DirectPath } from "./direct.js";
import { familyPaths } from "./families.js";
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
  /** Whether a POST path is mounted: its family is among `routes` (all without `routes`). */
  mounted: (path: string) => boolean;
}

export function appParts(host: ModelHost, options: AppOptions): AppParts {
  const paths = options.routes ? new Set(familyPaths(options.routes)) : null;
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
    mounted: (path) => paths?.has(path) ?? true,
  };
}

/**
 * The direct path for the mounted ones of the busiest routes; null with authentication or
 * metering (they run in the middleware chain) or when none of them is mounted.
 */
export function directPathOf(parts: AppParts): DirectPath | null {
  if (parts.auth) return null;
  const { host, deps, timing, payloadLimit, mounted } = parts;
  const direct = new DirectPath(host, deps, timing, payloadLimit, mounted);
  return direct.routeCount > 0 ? direct : null;
}
