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
  | "token_logits";

/** Tasks a model supports, given what its graph outputs and its number of labels. */
export function supportedTasks(kind: ModelOutputKind, numLabels: number): PoolingTask[] {
  switch (kind) {
    case "hidden":
      return ["embed", "token_embed", "score"];
    case "sequence_logits":
      return numLabels === 1 ? ["classify", "score"] : ["classify"];
    case "token_logits":
      return ["token_classify"];
  }
}
