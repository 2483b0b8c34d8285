import { ownValue, setOwn } from "./own.js";

/** The parts of a Hugging Face `config.json` that pooling depends on. Unknown keys are kept. */
export interface ModelConfig {
  architectures?: string[];
  model_type?: string;
  hidden_size?: number;
  num_attention_heads?: number;
  num_key_value_heads?: number;
  head_dim?: number;
  max_position_embeddings?: number;
  pad_token_id?: number | null;
  id2label?: Record<string, string>;
  num_labels?: number;
  problem_type?: string | null;
  is_matryoshka?: boolean;
  matryoshka_dimensions?: number[] | null;
  is_decoder?: boolean;
  [key: string]: unknown;
}

export type JsonObject = { [key: string]: unknown };

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `--hf-overrides`: a deep merge of `overrides` into `config`, returning a new object. */
export function applyHfOverrides<T extends JsonObject>(config: T, overrides: JsonObject = {}): T {
  const out: JsonObject = { ...config };
  for (const [key, value] of Object.entries(overrides)) {
    const current = ownValue(out, key);
    setOwn(
      out,
      key,
      isJsonObject(value) && isJsonObject(current) ? applyHfOverrides(current, value) : value,
    );
  }
  return out as T;
}

/** Number of labels: `id2label` size, else `num_labels`, else 1 (what transformers does, less its default of 2). */
export function numLabels(config: ModelConfig): number {
  if (config.id2label) return Object.keys(config.id2label).length;
  return config.num_labels ?? 1;
}

/** Label for an index, or null when the config has no `id2label`. */
export function labelOf(config: ModelConfig, index: number): string | null {
  return ownValue(config.id2label, String(index)) ?? null;
}

const DECODER_TYPES = new Set([
  "qwen2",
  "qwen3",
  "qwen2_moe",
  "qwen3_moe",
  "llama",
  "mistral",
  "mixtral",
  "gemma",
  "gemma2",
  "gemma3",
  "gemma3_text",
  "phi",
  "phi3",
  "gpt2",
  "gpt_neox",
  "gptj",
  "falcon",
  "olmo",
  "olmo2",
  "internlm2",
  "starcoder2",
  "stablelm",
  "granite",
  "deepseek_v2",
  "deepseek_v3",
]);

/** Causal decoder models pool LAST by default and usually pad on the left. */
export function isDecoder(config: ModelConfig): boolean {
  if (config.is_decoder === true) return true;
  if (config.model_type && DECODER_TYPES.has(config.model_type)) return true;
  return (config.architectures ?? []).some((a) => /ForCausalLM$/.test(a));
}

/** The `config.json` keys vLLM reads a model's maximum length from (the smallest one wins). */
export const MAX_LENGTH_KEYS = [
  "max_position_embeddings",
  "n_positions",
  "max_seq_len",
  "seq_length",
  "model_max_length",
  "max_target_positions",
  "max_sequence_length",
  "max_seq_length",
  "seq_len",
] as const;

/**
 * Longest prompt the model takes: the smallest of vLLM's length keys in `config.json`
 * (`max_position_embeddings` less the padding offset of RoBERTa-style position ids), capped by
 * sentence-transformers' `max_seq_length` when present.
 */
export function derivedMaxModelLen(config: ModelConfig, stMaxSeqLength?: number): number | null {
  let len: number | null = null;
  for (const key of MAX_LENGTH_KEYS) {
    let v = config[key];
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) continue;
    if (key === "max_position_embeddings" && /roberta|camembert/.test(config.model_type ?? "")) {
      v -= (config.pad_token_id ?? 1) + 1;
    }
    len = len === null ? v : Math.min(len, v);
  }
  if (stMaxSeqLength !== undefined && stMaxSeqLength > 0) {
    len = len === null ? stMaxSeqLength : Math.min(len, stMaxSeqLength);
  }
  return len;
}
