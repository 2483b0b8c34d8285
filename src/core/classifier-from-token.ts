import { ModelConfigError } from "./errors.js";
import type { ModelConfig } from "./model-config.js";

/**
 * vLLM's `classifier_from_token` (set with `--hf-overrides`): a causal LM becomes a classifier
 * whose labels are the logits of these vocabulary tokens at the last position, e.g.
 * `["no", "yes"]` for Qwen3-Reranker. Null when unset.
 */
export function classifierFromToken(config: ModelConfig): string[] | null {
  const tokens = config.classifier_from_token;
  if (tokens === undefined || tokens === null) return null;
  if (
    !Array.isArray(tokens) ||
    tokens.length === 0 ||
    !tokens.every((t) => typeof t === "string")
  ) {
    throw new ModelConfigError("classifier_from_token must be a non-empty list of tokens");
  }
  return tokens as string[];
}

/** Labels a `classifier_from_token` model has: one for two tokens (a 2-way softmax), else one per token. */
export function fromTokenLabels(count: number): number {
  return count === 2 ? 1 : count;
}

/**
 * Logits of the `classifier_from_token` tokens → label logits. Two tokens `[false, true]` give
 * one logit `true − false`, so that sigmoid(logit) equals softmax over the pair (vLLM's
 * `from_2_way_softmax`); any other count keeps each token's logit as a label.
 */
export function fromTokenLogits(values: ArrayLike<number>): Float32Array {
  if (values.length === 2) return Float32Array.of(values[1]! - values[0]!);
  return Float32Array.from(values);
}
