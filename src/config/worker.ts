import { z } from "zod";
import { DEFAULT_MAX_CLIENT_BATCH_SIZE, DEFAULT_PAYLOAD_LIMIT } from "../api/defaults.js";

/**
 * The Worker's vars (wrangler.jsonc `vars`; the secret with `wrangler secret put`): JSON values,
 * or strings from the dashboard or `--var`. Its bindings are the edge's (`EdgeEnv`).
 */
export interface WorkerVars {
  ORIGINS?: unknown;
  LOCAL_MODEL?: unknown;
  RATE_LIMIT_PER_MINUTE?: unknown;
  ORIGIN_TIMEOUT_MS?: unknown;
  CACHE_TTL_SECONDS?: unknown;
  PAYLOAD_LIMIT?: unknown;
  MAX_CLIENT_BATCH_SIZE?: unknown;
  CIRCUIT_FAILURES?: unknown;
  CIRCUIT_COOLDOWN_MS?: unknown;
  /** Sent to the origins as `Authorization: Bearer …` in place of the caller's key. */
  ORIGIN_API_KEY?: string;
}

const Origin = z.object({
  region: z.string().min(1),
  url: z.url({ protocol: /^https?$/ }),
  /** `request.cf.continent` codes this origin is nearest to (AF, AN, AS, EU, NA, OC, SA). */
  continents: z.array(z.string().length(2)).default([]),
});
export type Origin = z.infer<typeof Origin>;

const LocalModel = z.object({
  /** The `model` name requests use; also the served name in responses. */
  model: z.string().min(1),
  /** R2 prefix of the pinned model: `<name>/<manifest-sha256>` as `edgepool pin` writes it. */
  prefix: z.string().regex(/(^|\/)[0-9a-f]{64}$/, "must end in the manifest's sha256"),
  /** Routes answered in the Worker (others, and other models, go to the origins). */
  routes: z.array(z.string().startsWith("/")).min(1),
  onnxFile: z.string().optional(),
});
export type LocalModel = z.infer<typeof LocalModel>;

const positive = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const Config = z.object({
  origins: z.array(Origin).default([]),
  localModel: LocalModel.nullable().default(null),
  rateLimitPerMinute: positive(600),
  originTimeoutMs: positive(10_000),
  cacheTtlSeconds: positive(86_400),
  payloadLimit: positive(DEFAULT_PAYLOAD_LIMIT),
  maxClientBatchSize: positive(DEFAULT_MAX_CLIENT_BATCH_SIZE),
  /** Failures in a row that open an origin's circuit, and how long it then stays open. */
  circuitFailures: positive(1),
  circuitCooldownMs: positive(30_000),
  originApiKey: z.string().min(1).optional(),
});
export type EdgeConfig = z.infer<typeof Config>;

/** Vars may arrive as JSON values (wrangler.jsonc) or as strings (dashboard, `--var`). */
function json(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Read and check the Worker's configuration; a bad var is an error naming it, at first request. */
export function readConfig(env: WorkerVars): EdgeConfig {
  const parsed = Config.safeParse({
    origins: json(env.ORIGINS) ?? undefined,
    localModel: json(env.LOCAL_MODEL) ?? undefined,
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
    originTimeoutMs: env.ORIGIN_TIMEOUT_MS,
    cacheTtlSeconds: env.CACHE_TTL_SECONDS,
    payloadLimit: env.PAYLOAD_LIMIT,
    maxClientBatchSize: env.MAX_CLIENT_BATCH_SIZE,
    circuitFailures: env.CIRCUIT_FAILURES,
    circuitCooldownMs: env.CIRCUIT_COOLDOWN_MS,
    originApiKey: env.ORIGIN_API_KEY || undefined,
  });
  if (!parsed.success) {
    throw new Error(`Invalid Worker configuration: ${z.prettifyError(parsed.error)}`);
  }
  if (parsed.data.origins.length === 0 && !parsed.data.localModel) {
    throw new Error("Invalid Worker configuration: set ORIGINS, LOCAL_MODEL or both");
  }
  return parsed.data;
}
