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
  /** Subtracted from classifier logits before the activation (vLLM's `logit_bias`). */
  logitBias?: number;
  /** Multiplies classifier logits (after `logit_bias`) before the activation. */
  logitScale?: number;
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

type KeySpec =
  /** Read into this field. */
  | { field: keyof PoolerConfig; deprecated?: string }
  /** A vLLM key edgepool refuses by name, with the reason. */
  | { unsupported: string };

/**
 * Every pooler-config key vLLM has, by what edgepool does with it: the one list to change when a
 * key gains support. Keys are vLLM's snake_case; their camelCase spellings are accepted too.
 */
export const POOLER_CONFIG_KEYS: Readonly<Record<string, KeySpec>> = {
  pooling_type: { field: "poolingType" },
  use_activation: { field: "useActivation" },
  dimensions: { field: "dimensions" },
  step_tag_id: { field: "stepTagId" },
  returned_token_ids: { field: "returnedTokenIds" },
  logit_bias: { field: "logitBias" },
  logit_scale: { field: "logitScale" },
  normalize: { field: "useActivation", deprecated: "normalize" },
  softmax: { field: "useActivation", deprecated: "softmax" },
  activation: { field: "useActivation", deprecated: "activation" },
  enable_chunked_processing: { field: "enableChunkedProcessing" },
  max_embed_len: { field: "maxEmbedLen" },
};

const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

const KEY_BY_SPELLING = new Map<string, string>(
  Object.keys(POOLER_CONFIG_KEYS).flatMap((k) => [
    [k, k],
    [camel(k), k],
  ]),
);

/** Warnings a caller may show (deprecated keys); errors are thrown. */
export type WarningSink = (message: string) => void;

/**
 * Parse a pooler config from JSON (`--pooler-config`), accepting vLLM's snake_case or camelCase.
 * Unknown keys and keys edgepool does not implement are refused by name: nothing is dropped.
 */
export function parsePoolerConfig(value: unknown, warn: WarningSink = () => {}): PoolerConfig {
  if (value === undefined || value === null) return {};
  if (!isJsonObject(value)) throw new ModelConfigError("pooler config must be a JSON object");
  const out: Record<string, unknown> = {};
  const from = new Map<string, string>();
  for (const [given, v] of Object.entries(value)) {
    const key = KEY_BY_SPELLING.get(given);
    const spec = key === undefined ? undefined : POOLER_CONFIG_KEYS[key];
    if (!spec) {
      throw new ModelConfigError(
        `Unknown pooler config key '${given}'; known keys: ${Object.keys(POOLER_CONFIG_KEYS).join(", ")}`,
      );
    }
    // Turning an unsupported feature off (false / null) asks for what edgepool does anyway.
    if (v === null || v === undefined || ("unsupported" in spec && v === false)) continue;
    if ("unsupported" in spec) {
      throw new ModelConfigError(`pooler config key '${given}': ${spec.unsupported}`);
    }
    if (spec.deprecated) {
      warn(
        `pooler config '${given}' is deprecated (removed in vLLM 0.15); use 'use_activation' instead`,
      );
    }
    const earlier = from.get(spec.field);
    if (earlier !== undefined && out[spec.field] !== v) {
      throw new ModelConfigError(`pooler config '${given}' contradicts '${earlier}'`);
    }
    from.set(spec.field, given);
    out[spec.field] = v;
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
  for (const key of ["logitBias", "logitScale"] as const) {
    const v = cfg[key];
    if (v !== undefined && !(typeof v === "number" && Number.isFinite(v))) {
      throw new ModelConfigError(`pooler config ${key} must be a finite number`);
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

/**
 * vLLM's per-architecture pooler defaults (the pooler fields its `MODELS_CONFIG_MAP` in
 * `model_executor/models/config.py` fills in when the pooler config leaves them unset).
 */
export const ARCHITECTURE_POOLER_DEFAULTS: Readonly<Record<string, PoolerConfig>> = {
  /** Qwen2.5-Math-PRM: a step ends at `<extra_0>`. */
  Qwen2ForProcessRewardModel: { stepTagId: 151651 },
  /** Qwen2.5-Math-RM: raw rewards, no softmax. */
  Qwen2ForRewardModel: { useActivation: false },
  JambaForSequenceClassification: { useActivation: false },
  JinaVLForRanking: { logitBias: 2.65 },
};

/** The defaults of the model's architecture (the first listed, which vLLM resolves to). */
export function architecturePoolerDefaults(architectures: readonly string[] = []): PoolerConfig {
  return ARCHITECTURE_POOLER_DEFAULTS[architectures[0] ?? ""] ?? {};
}

export interface PoolerConfigSources {
  explicit?: PoolerConfig;
  sentenceTransformers?: SentenceTransformersPooling | null;
  decoder: boolean;
  /** `config.json`'s `architectures`: their vLLM pooler defaults apply to unset fields. */
  architectures?: readonly string[];
  /** Process reward models (`*ForProcessRewardModel`) pool STEP by default, as vLLM. */
  processReward?: boolean;
  /**
   * An embedding model: its `use_activation` default (normalize) follows `modules.json` — on only
   * with a `Normalize` module — as in vLLM and sentence-transformers.
   */
  embedding?: boolean;
}

/** Precedence as vLLM: explicit > sentence-transformers files > architecture default. */
export function resolvePoolerConfig(
  sources: PoolerConfigSources,
): Required<Pick<PoolerConfig, "poolingType" | "useActivation">> & PoolerConfig {
  const explicit = sources.explicit ?? {};
  const st = sources.sentenceTransformers;
  const byArchitecture = architecturePoolerDefaults(sources.architectures);
  const architectureDefault = sources.processReward ? "STEP" : sources.decoder ? "LAST" : "CLS";
  const poolingType = explicit.poolingType ?? st?.poolingType ?? architectureDefault;
  const normalize = sources.embedding && st ? st.normalize : undefined;
  return {
    ...byArchitecture,
    ...explicit,
    poolingType,
    useActivation: explicit.useActivation ?? normalize ?? byArchitecture.useActivation ?? true,
  };
}
