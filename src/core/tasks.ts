/** The pooling tasks of vLLM's pooling runner. */
export const POOLING_TASKS = [
  "embed",
  "classify",
  "score",
  "token_embed",
  "token_classify",
] as const;
export type PoolingTask = (typeof POOLING_TASKS)[number];

export function isPoolingTask(value: string): value is PoolingTask {
  return (POOLING_TASKS as readonly string[]).includes(value);
}

/** What a model's ONNX graph produces, which decides the tasks it can serve. */
export type ModelOutputKind =
  /** `last_hidden_state` `[batch, seq, hidden]` */
  | "hidden"
  /** sequence `logits` `[batch, num_labels]` */
  | "sequence_logits"
  /** token `logits` `[batch, seq, num_labels]` */
  | "token_logits"
  /**
   * bge-m3's three-output exports: `dense_vecs` `[batch, hidden]` (normalized CLS),
   * `sparse_vecs` `[batch, seq, 1]` (relu(sparse_linear(h))), `colbert_vecs` `[batch, seq - 1, dim]`.
   */
  | "m3_dense"
  | "m3_sparse"
  | "m3_colbert";

/**
 * Tasks a model supports (vLLM's architecture table, as far as the graph allows), given whether it
 * is a sequence classifier, what its graph outputs and its number of labels.
 */
export function supportedTasks(
  kind: ModelOutputKind,
  numLabels: number,
  sequenceClassifier = kind === "sequence_logits",
): PoolingTask[] {
  if (kind === "hidden") return ["embed", "token_embed", "score"];
  if (!sequenceClassifier) return ["token_classify"];
  const tasks: PoolingTask[] = ["classify"];
  if (kind === "token_logits") tasks.push("token_classify");
  if (numLabels === 1) tasks.push("score");
  return tasks;
}
