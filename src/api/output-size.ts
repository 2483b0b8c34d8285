import type { PoolingParams, PoolingTask } from "../core/index.js";
import type { Engine, TokenizedPrompt } from "../engine/index.js";
import type { Ctx } from "./context.js";
import { ResponseTooLargeError } from "./errors.js";

/** Upper bound of one float in a JSON answer: sign, `0.`, 17 significant digits, separator. */
export const JSON_BYTES_PER_VALUE = 24;

/** How many numbers a task answers for these prompts (per prompt, or per token for token tasks). */
export function outputValues(
  engine: Engine,
  task: PoolingTask,
  tokenized: readonly TokenizedPrompt[],
  params: PoolingParams,
): number {
  const { outputSize, poolerConfig } = engine.pooler.spec;
  const tokens = () => tokenized.reduce((n, t) => n + t.ids.length, 0);
  switch (task) {
    case "embed":
      return tokenized.length * (params.dimensions ?? engine.pooler.embeddingSize);
    case "token_embed":
      return tokens() * (params.dimensions ?? outputSize);
    case "token_classify":
      return tokens() * (poolerConfig.returnedTokenIds?.length ?? outputSize);
    default:
      return tokenized.length * outputSize;
  }
}

/**
 * Refuse (413), before any compute, a request whose answer would exceed the response limit —
 * inputs × tokens × width × bytes per value — and record the estimate for the response writer.
 */
export function checkOutputSize(
  c: Ctx,
  engine: Engine,
  task: PoolingTask,
  tokenized: readonly TokenizedPrompt[],
  params: PoolingParams,
): void {
  const estimate = outputValues(engine, task, tokenized, params) * JSON_BYTES_PER_VALUE;
  const limit = c.get("maxResponseBytes");
  if (limit !== undefined && estimate > limit)
    throw new ResponseTooLargeError(estimate, limit, "input");
  c.set("outputBytes", estimate);
}
