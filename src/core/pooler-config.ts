import { ModelConfigError } from "./errors.js";
import { isJsonObject } from "./model-config.js";

export const POOLING_TYPES = ["CLS", "MEAN", "LAST", "ALL", "STEP"] as const;
export type PoolingType = (typeof POOLING_TYPES)[number];

/** vLLM's `--pooler-config`, in camelCase. Every field is optional. */
export interface PoolerConfig {
  poolingType?: PoolingType;
  /** Default for `use_activation`: normalize embeddings, softmax/sigmoid for classifiers. */
  useActivation?: boolean;
  /** Default output dimensions for embeddings (matryoshka). */
  dimensions?: number;
  /** STEP pooling: the token id that marks the end of a step. */
  stepTagId?: number;
  /** STEP pooling: which label columns to keep. */
  returnedTokenIds?: number[];
  /**
   * Embed inputs longer than `max_model_len` in chunks of `max_model_len`, each pooled, combined
   * weighted by their token counts (vLLM's `enable_chunked_processing`).
   */
  enableChunkedProcessing?: boolean;
  /** With chunked processing: the longest input accepted, in tokens (unset: any length). */
  maxEmbedLen?: number;
}

/** The pooling a model's sentence-transformers files select, when they exist. */
export interface SentenceTransformersPooling {
  poolingType: PoolingType;
  normalize: boolean;
}

const CAMEL: Record<string, keyof PoolerConfig> = {
  pooling_type: "poolingType",
  use_activation: "useActivation",
  normalize: "useActivation",
  softmax: "useActivation",
  activation: "useActivation",
  dimensions: "dimensions",
  step_tag_id: "stepTagId",
  returned_token_ids: "returnedTokenIds",
  enable_chunked_processing: "enableChunkedProcessing",
  max_embed_len: "maxEmbedLen",
};

/** Parse a pooler config from JSON (`--pooler-config`), accepting vLLM's snake_case or camelCase. */
export function parsePoolerConfig(value: unknown): PoolerConfig {
  if (value === undefined || value === null) return {};
  if (!isJsonObject(value)) throw new ModelConfigError("pooler config must be a JSON object");
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    const name =
      CAMEL[key] ?? (Object.values(CAMEL).includes(key as keyof PoolerConfig) ? key : null);
    if (name) out[name] = v;
  }
  const cfg = out as PoolerConfig;
  if (cfg.poolingType !== undefined) {
    const upper = String(cfg.poolingType).toUpperCase();
    if (!(POOLING_TYPES as readonly string[]).includes(upper)) {
      throw new ModelConfigError(
        `Unknown pooling_type '${String(cfg.poolingType)}'; expected one of ${POOLING_TYPES.join(", ")}`,
      );
    }
    cfg.poolingType = upper as PoolingType;
  }
  if (cfg.useActivation !== undefined && typeof cfg.useActivation !== "boolean") {
    throw new ModelConfigError("pooler config use_activation must be a boolean");
  }
  const chunked = cfg.enableChunkedProcessing;
  if (chunked !== undefined && typeof chunked !== "boolean") {
    throw new ModelConfigError("pooler config enable_chunked_processing must be a boolean");
  }
  if (cfg.maxEmbedLen !== undefined) {
    if (!Number.isInteger(cfg.maxEmbedLen) || cfg.maxEmbedLen < 1) {
      throw new ModelConfigError("pooler config max_embed_len must be a positive integer");
    }
    if (!chunked) {
      throw new ModelConfigError(
        "pooler config max_embed_len needs enable_chunked_processing: true (without chunking, inputs are limited by max_model_len)",
      );
    }
  }
  for (const key of ["dimensions", "stepTagId"] as const) {
    const v = cfg[key];
    if (v !== undefined && !Number.isInteger(v)) {
      throw new ModelConfigError(`pooler config ${key} must be an integer`);
    }
  }
  const ids = cfg.returnedTokenIds;
  if (ids !== undefined && !(Array.isArray(ids) && ids.every((x) => Number.isInteger(x)))) {
    throw new ModelConfigError("pooler config returned_token_ids must be a list of integers");
  }
  return cfg;
}

/**
 * Read `1_Pooling/config.json` of sentence-transformers into a vLLM pooling type.
 * Modes vLLM has no pooler for are refused with a clear message rather than silently replaced.
 */
export function poolingFromSentenceTransformers(
  poolingJson: unknown,
  hasNormalize: boolean,
): SentenceTransformersPooling {
  if (!isJsonObject(poolingJson))
    throw new ModelConfigError("1_Pooling/config.json is not an object");
  const modes: Array<[string, PoolingType | null]> = [
    ["pooling_mode_cls_token", "CLS"],
    ["pooling_mode_mean_tokens", "MEAN"],
    ["pooling_mode_lasttoken", "LAST"],
    ["pooling_mode_max_tokens", null],
    ["pooling_mode_mean_sqrt_len_tokens", null],
    ["pooling_mode_weightedmean_tokens", null],
  ];
  const on = modes.filter(([key]) => poolingJson[key] === true);
  if (on.length !== 1) {
    throw new ModelConfigError(
      `1_Pooling/config.json must enable exactly one pooling mode (found ${on.map(([k]) => k).join(", ") || "none"})`,
    );
  }
  const [key, type] = on[0]!;
  if (!type) {
    throw new ModelConfigError(
      `1_Pooling/config.json selects ${key}, which is not supported; set --pooler-config '{"pooling_type":"MEAN"}' (or CLS, LAST) to override`,
    );
  }
  return { poolingType: type, normalize: hasNormalize };
}

export interface PoolerConfigSources {
  explicit?: PoolerConfig;
  sentenceTransformers?: SentenceTransformersPooling | null;
  decoder: boolean;
  /** Process reward models (`*ForProcessRewardModel`) pool STEP by default, as vLLM. */
  processReward?: boolean;
}

/** Precedence as vLLM: explicit > sentence-transformers files > architecture default. */
export function resolvePoolerConfig(
  sources: PoolerConfigSources,
): Required<Pick<PoolerConfig, "poolingType" | "useActivation">> & PoolerConfig {
  const explicit = sources.explicit ?? {};
  const st = sources.sentenceTransformers;
  const architectureDefault = sources.processReward ? "STEP" : sources.decoder ? "LAST" : "CLS";
  const poolingType = explicit.poolingType ?? st?.poolingType ?? architectureDefault;
  return { ...explicit, poolingType, useActivation: explicit.useActivation ?? true };
}
