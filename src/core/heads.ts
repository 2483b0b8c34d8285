import { type ActivationName, activate, l2Normalize } from "./activation.js";
import { applyDense, type DenseLayer } from "./dense.js";
import { type ModelConfig, numLabels } from "./model-config.js";

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

/** Token embedding head: each token vector truncated to `dimensions`, normalized when asked. */
export function tokenEmbeddingHead(
  tokens: readonly Float32Array[],
  dimensions: number | undefined,
  normalize: boolean,
): Float32Array[] {
  return tokens.map((t) => embeddingHead(t, [], dimensions, normalize));
}

/**
 * Classifier activation by `problem_type` and label count, as transformers and vLLM:
 * regression → identity; multi-label → sigmoid; one label → sigmoid; else softmax.
 */
export function classifierActivation(config: ModelConfig): ActivationName {
  if (config.problem_type === "regression") return "identity";
  if (config.problem_type === "multi_label_classification") return "sigmoid";
  return numLabels(config) === 1 ? "sigmoid" : "softmax";
}

/** Classification head: logits → activation when `useActivation`, else raw logits. */
export function classifierHead(
  logits: ArrayLike<number>,
  activation: ActivationName,
  useActivation: boolean,
): Float32Array {
  return activate(useActivation ? activation : "identity", logits);
}
