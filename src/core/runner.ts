import { classifierFromToken } from "./classifier-from-token.js";
import { ModelConfigError } from "./errors.js";
import type { ModelConfig } from "./model-config.js";
import type { ModelOutputKind } from "./tasks.js";

export type Runner = "auto" | "pooling";
export type Convert = "auto" | "embed" | "classify" | "none";

/** What the pooler does with the graph's output: vLLM's converted model types. */
export type PoolerKind = "embed" | "classify" | "token_classify";

const SUFFIXES: Array<[RegExp, PoolerKind]> = [
  [/ForSequenceClassification$|ClassificationModel$|ForCrossEncoding$/, "classify"],
  [/ForTokenClassification$/, "token_classify"],
  [/ForRewardModeling$|RewardModel$|ForProcessRewardModel$/, "token_classify"],
  [/Model$|ForTextEncoding$|EmbeddingModel$|ForMaskedLM$|ForCausalLM$/, "embed"],
];

/** A process reward model (Qwen2.5-Math-PRM style), whose default pooling is STEP. */
export function isProcessRewardModel(config: ModelConfig): boolean {
  return (config.architectures ?? []).some((a) => /ForProcessRewardModel$/.test(a));
}

/** The pooler kind an architecture name implies, or null when the suffix is unknown. */
export function poolerKindOfArchitecture(architecture: string): PoolerKind | null {
  for (const [pattern, kind] of SUFFIXES) if (pattern.test(architecture)) return kind;
  return null;
}

/** The output kind each pooler kind needs from the ONNX graph. */
const NEEDS: Record<PoolerKind, ModelOutputKind> = {
  embed: "hidden",
  classify: "sequence_logits",
  token_classify: "token_logits",
};

/**
 * Resolve runner and convert (as vLLM does from the architecture suffix), then check the graph
 * outputs what that pooler needs.
 */
export function resolvePoolerKind(
  config: ModelConfig,
  available: readonly ModelOutputKind[],
  runner: Runner = "auto",
  convert: Convert = "auto",
): PoolerKind {
  if (runner !== "auto" && runner !== "pooling") {
    throw new ModelConfigError(
      `Unsupported runner '${String(runner)}': edgepool runs pooling models only`,
    );
  }
  let kind: PoolerKind | null = null;
  if (convert === "embed" || convert === "classify") kind = convert;
  else {
    for (const arch of config.architectures ?? []) {
      kind = poolerKindOfArchitecture(arch);
      if (kind) break;
    }
  }
  if (!kind) {
    // No recognised architecture: take what the graph gives.
    if (available.includes("hidden")) kind = "embed";
    else if (available.includes("sequence_logits")) kind = "classify";
    else if (available.includes("token_logits")) kind = "token_classify";
    else throw new ModelConfigError("The ONNX graph has no output that a pooling model can use");
  }
  const needed = NEEDS[kind];
  // An LLM reranker: a causal LM's vocabulary logits, read at the last position.
  const fromToken =
    kind === "classify" &&
    classifierFromToken(config) !== null &&
    available.includes("token_logits");
  if (!available.includes(needed) && !fromToken) {
    const arch = (config.architectures ?? []).join(", ") || "unknown architecture";
    const what = needed === "hidden" ? "`last_hidden_state`" : "`logits`";
    const llm =
      needed === "hidden" && available.includes("token_logits")
        ? `. This graph outputs vocabulary logits (a causal LM): to serve it as an LLM reranker, set --hf-overrides '{"architectures":["<Name>ForSequenceClassification"],"classifier_from_token":["no","yes"]}'`
        : "";
    throw new ModelConfigError(
      `Cannot run ${arch} as a '${kind}' model: its ONNX graph has no ${what} output of the right shape (outputs: ${available.join(", ") || "none"})${llm}`,
    );
  }
  return kind;
}
