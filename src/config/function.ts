import { DEFAULT_MAX_CLIENT_BATCH_SIZE, DEFAULT_PAYLOAD_LIMIT } from "../api/defaults.js";
import type { EngineOptions } from "../engine/index.js";
import { defaultIntraOpThreads } from "../engine/node/threads.js";
import { engineOptions } from "./engine-options.js";
import { intFlag } from "./flags.js";
import { listFrom } from "./list.js";
import { MODEL_FLAGS } from "./model-flags.js";
import { UsageError } from "./usage-error.js";

/** Lambda's cap on a buffered (non-streamed) response payload: 6 MB. */
export const LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024;

/**
 * Spinning for one request at a time, measured by `npm run bench:functions` (lone requests through
 * the handler both ways, interleaved): on was ~1 ms faster uncontended (minimum, p10); an instance
 * has its vCPUs to itself.
 */
export const FUNCTION_SPINNING = "on";

export interface FunctionConfig {
  engine: EngineOptions;
  apiKeys: string[];
  maxClientBatchSize: number;
  payloadLimit: number;
  /** Largest buffered response in bytes (`EDGEPOOL_RESPONSE_LIMIT`, default Lambda's 6 MB). */
  responseLimit: number;
  logLevel: string;
}

/** `--max-batch-size` → `EDGEPOOL_MAX_BATCH_SIZE`: every model flag of `serve` is an env var here. */
export function envName(flag: string): string {
  return `EDGEPOOL_${flag.toUpperCase().replaceAll("-", "_")}`;
}

/** Name env vars, not flags, in configuration errors. */
function asEnvError(err: unknown): Error {
  if (!(err instanceof UsageError)) return err as Error;
  return new UsageError(err.message.replace(/--([a-z][a-z-]*)/g, (_, f: string) => envName(f)));
}

/**
 * A function's configuration from its environment: `EDGEPOOL_MODEL_URI` (a pinned `s3://` /
 * `r2://` URI, or a folder), every `serve` model flag as `EDGEPOOL_<FLAG>`, and the request limits.
 * The session runs inline (one request at a time per instance) with ONNX Runtime's intra-op
 * threads sized to the instance's vCPUs.
 */
export function functionConfig(env: NodeJS.ProcessEnv = process.env): FunctionConfig {
  try {
    const values: Record<string, string | boolean | undefined> = {};
    for (const [flag, spec] of Object.entries(MODEL_FLAGS)) {
      const v = env[envName(flag)];
      if (v === undefined || v === "") continue;
      values[flag] = spec.type === "boolean" ? v === "1" || v === "true" : v;
    }
    values.model ??= env.EDGEPOOL_MODEL_URI;
    if (!values.model) throw new UsageError("EDGEPOOL_MODEL_URI is not set");
    if (values.workers !== undefined && values.workers !== "0") {
      throw new UsageError(
        "EDGEPOOL_WORKERS must be 0 in a function: an instance serves one request at a time and runs the session inline",
      );
    }
    const engine = engineOptions(values);
    engine.workers = 0;
    engine.session = {
      intraOpNumThreads: defaultIntraOpThreads(0),
      allowSpinning: FUNCTION_SPINNING === "on",
      ...engine.session,
    };
    return {
      engine,
      apiKeys: listFrom(env.EDGEPOOL_API_KEYS),
      maxClientBatchSize:
        intFlag("max-client-batch-size", env.EDGEPOOL_MAX_CLIENT_BATCH_SIZE) ??
        DEFAULT_MAX_CLIENT_BATCH_SIZE,
      payloadLimit: intFlag("payload-limit", env.EDGEPOOL_PAYLOAD_LIMIT) ?? DEFAULT_PAYLOAD_LIMIT,
      responseLimit:
        intFlag("response-limit", env.EDGEPOOL_RESPONSE_LIMIT) ?? LAMBDA_RESPONSE_LIMIT,
      logLevel: env.EDGEPOOL_LOG_LEVEL ?? "info",
    };
  } catch (err) {
    throw asEnvError(err);
  }
}
