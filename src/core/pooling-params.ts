import { BadRequestError } from "./errors.js";
import type { PoolingTask } from "./tasks.js";

/** Per-request pooling parameters; null/undefined mean "the model's default". */
export interface PoolingParams {
  dimensions?: number | null;
  useActivation?: boolean | null;
  /** STEP pooling (token_classify): the token id that ends a step. */
  stepTagId?: number | null;
  /** token_classify: which label columns to keep. */
  returnedTokenIds?: number[] | null;
}

/** vLLM's names of the per-request parameters, and the tasks each applies to. */
const PARAMETERS: ReadonlyArray<[keyof PoolingParams, string]> = [
  ["dimensions", "dimensions"],
  ["useActivation", "use_activation"],
  ["stepTagId", "step_tag_id"],
  ["returnedTokenIds", "returned_token_ids"],
];

const VALID_PARAMETERS: Readonly<Record<PoolingTask, readonly string[]>> = {
  embed: ["dimensions", "use_activation"],
  token_embed: ["dimensions", "use_activation"],
  classify: ["use_activation"],
  score: ["use_activation"],
  token_classify: ["use_activation", "step_tag_id", "returned_token_ids"],
};

const pyList = (items: readonly string[]) => `[${items.map((i) => `'${i}'`).join(", ")}]`;

/** Refuse parameters that do not apply to the task, with vLLM's message. */
export function checkTaskParameters(task: PoolingTask, params: PoolingParams): void {
  const valid = VALID_PARAMETERS[task];
  const invalid = PARAMETERS.filter(
    ([key, name]) => params[key] !== undefined && params[key] !== null && !valid.includes(name),
  ).map(([, name]) => name);
  if (invalid.length > 0) {
    throw new BadRequestError(
      `Task ${task} only supports ${pyList(valid)} parameters, does not support ${pyList(invalid)} parameters`,
      invalid[0]!,
    );
  }
}
