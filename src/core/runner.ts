import { ModelConfigError } from "./errors.js";
import type { ModelConfig } from "./model-config.js";
import type { ModelOutputKind } from "./tasks.js";

export type Runner = "auto" | "pooling";
export type Convert = "auto" | "embed" | "classify" | "none" | "reward";

/** What the pooler does with the graph's output: vLLM's converted model types. */
export type PoolerKind = "embed" | "classify" | "token_classify";

const REWARD = /ForRewardModeling$|RewardModel$|ForProcessRewardModel$/;

const SUFFIXES: Array<[RegExp, PoolerKind]> = [
  [/For\w*Classification$|ClassificationModel$|ForCrossEncoding$/, "classify"],
  [/ForTokenClassification$/, "token_classify"],
  [REWARD, "token_classify"],
  [/Model$|ForTextEncoding$|EmbeddingModel$|ForMaskedLM$|ForCausalLM$/, "embed"],
];

/** A process reward model (Qwen2.5-Math-PRM style), whose default pooling is STEP. */
export function isProcessRewardModel(config: ModelConfig): boolean {
  return (config.architectures ?? []).some((a) => /ForProcessRewardModel$/.test(a));
}

/** The pooler kind an architecture name implies, or null when the suffix is unknown. */
export function poolerKindOfArchitecture(architecture: string): PoolerKind | null {
  if (/ForTokenClassification$/.test(architecture)) return "token_classify";
  for (const [pattern, kind] of SUFFIXES) if (pattern.test(architecture)) return kind;
  return null;
}

/**
 * The graph output a pooler kind reads: embed → `last_hidden_state`; classify → pooled `logits`
 * `[batch, labels]`, or per-token `logits` `[batch, seq, labels]` (then pooled here, and
 * token_classify is served too); token_classify → per-token `logits`. Null when the graph lacks it.
 */
export function outputForKind(
  kind: PoolerKind,
  available: readonly ModelOutputKind[],
): ModelOutputKind | null {
  const order: Record<PoolerKind, ModelOutputKind[]> = {
    embed: ["hidden"],
    classify: ["sequence_logits", "token_logits"],
    token_classify: ["token_logits"],
  };
  return order[kind].find((k) => available.includes(k)) ?? null;
}

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
  const reward = convert === "reward" || (config.architectures ?? []).some((a) => REWARD.test(a));
  if (convert === "embed" || convert === "classify") kind = convert;
  else if (reward) {
    // vLLM serves reward models with token_classify when they carry a reward head (per-token
    // logits in the graph); its table converts them to embed (hidden states) otherwise.
    kind = available.includes("token_logits") ? "token_classify" : "embed";
  } else {
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
  if (!outputForKind(kind, available)) {
    const arch = (config.architectures ?? []).join(", ") || "unknown architecture";
    const what = kind === "embed" ? "`last_hidden_state`" : "`logits`";
    const mlm = (config.architectures ?? []).some((a) => /ForMaskedLM$/.test(a));
    const llm =
      kind === "embed" && available.includes("token_logits")
        ? mlm
          ? `. This graph outputs vocabulary logits (a masked LM): to serve it as SPLADE, set --hf-overrides '{"architectures":["BertSpladeSparseEmbeddingModel"]}', or give the folder sentence-transformers' SpladePooling module`
          : `. This graph outputs vocabulary logits (a causal LM): to serve it as an LLM reranker, set --hf-overrides '{"architectures":["<Name>ForSequenceClassification"],"classifier_from_token":["no","yes"]}'`
        : "";
    throw new ModelConfigError(
      `Cannot run ${arch} as a '${kind}' model: its ONNX graph has no ${what} output of the right shape (outputs: ${available.join(", ") || "none"})${llm}`,
    );
  }
  return kind;
}
