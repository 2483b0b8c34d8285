import { type ActivationName, activate, l2Normalize } from "./activation.js";
import { applyDense, type DenseLayer } from "./dense.js";
import { ModelConfigError } from "./errors.js";
import { isJsonObject, type ModelConfig, numLabels } from "./model-config.js";

/** Embedding head: (Dense layers) → truncate to `dimensions` → L2-normalize when `normalize`. */
export function embeddingHead(
  pooled: Float32Array,
  dense: readonly DenseLayer[],
  dimensions: number | undefined,
  normalize: boolean,
): Float32Array {
  let v = pooled;
  for (const layer of dense) v = applyDense(layer, v);
  if (dimensions !== undefined && dimensions < v.length) v = v.subarray(0, dimensions);
  return normalize ? l2Normalize(v) : Float32Array.from(v);
}

/** Token embedding head: each token vector through the Dense layers, truncated, normalized when asked. */
export function tokenEmbeddingHead(
  tokens: readonly Float32Array[],
  dense: readonly DenseLayer[],
  dimensions: number | undefined,
  normalize: boolean,
): Float32Array[] {
  return tokens.map((t) => embeddingHead(t, dense, dimensions, normalize));
}

/** sentence-transformers activation classes (torch.nn.modules only, as vLLM) by qualified name. */
const TORCH_ACTIVATIONS: ReadonlyMap<string, ActivationName> = new Map([
  ["torch.nn.modules.linear.Identity", "identity"],
  ["torch.nn.modules.activation.Sigmoid", "sigmoid"],
  ["torch.nn.modules.activation.Softmax", "softmax"],
  ["torch.nn.modules.activation.Tanh", "tanh"],
  ["torch.nn.modules.activation.ReLU", "relu"],
  ["torch.nn.modules.activation.GELU", "gelu"],
]);

/**
 * A cross-encoder's own activation from `config.json`, as vLLM reads it:
 * `sentence_transformers.activation_fn` (sentence-transformers ≥ 4), else
 * `sbert_ce_default_activation_function`; null when neither is set.
 */
export function crossEncoderActivation(config: ModelConfig): ActivationName | null {
  const st = config.sentence_transformers;
  const name =
    isJsonObject(st) && typeof st.activation_fn === "string"
      ? st.activation_fn
      : config.sbert_ce_default_activation_function;
  if (name === undefined || name === null) return null;
  const activation = typeof name === "string" ? TORCH_ACTIVATIONS.get(name) : undefined;
  if (!activation) {
    throw new ModelConfigError(
      `config.json names the activation '${String(name)}', which is not supported; supported: ${[...TORCH_ACTIVATIONS.keys()].join(", ")}`,
    );
  }
  return activation;
}

/**
 * Classifier activation: the cross-encoder's configured one when `config.json` names it, else by
 * `problem_type` and label count, as transformers and vLLM: regression → identity;
 * multi-label → sigmoid; one label → sigmoid; else softmax.
 */
export function classifierActivation(config: ModelConfig): ActivationName {
  const configured = crossEncoderActivation(config);
  if (configured) return configured;
  if (config.problem_type === "regression") return "identity";
  if (config.problem_type === "multi_label_classification") return "sigmoid";
  return numLabels(config) === 1 ? "sigmoid" : "softmax";
}

/** vLLM's `logit_bias` (subtracted) and edgepool's `logit_scale` (multiplied), in that order. */
export interface LogitAdjustment {
  logitBias?: number | undefined;
  logitScale?: number | undefined;
}

/** Classification head: logits (− bias, × scale) → activation when `useActivation`, else as they are. */
export function classifierHead(
  logits: ArrayLike<number>,
  activation: ActivationName,
  useActivation: boolean,
  adjust: LogitAdjustment = {},
): Float32Array {
  const bias = adjust.logitBias ?? 0;
  const scale = adjust.logitScale ?? 1;
  const adjusted =
    bias === 0 && scale === 1 ? logits : Float32Array.from(logits, (x) => (x - bias) * scale);
  return activate(useActivation ? activation : "identity", adjusted);
}
