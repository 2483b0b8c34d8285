import type { PoolingParams, PoolingTask } from "../core/index.js";
import type { Prompt, PromptOptions } from "./prompts.js";
import type { PooledResult } from "./types.js";

/** What a plugin asks the engine to pool for one request. */
export interface IOProcessorInput {
  prompts: Prompt[];
  task: Exclude<PoolingTask, "score">;
  params?: PoolingParams & PromptOptions;
}

/** The engine as a plugin sees it: enough to validate inputs and read tokens. */
export interface IOProcessorContext {
  modelName: string;
  tasks: readonly PoolingTask[];
  maxModelLen: number;
}

/**
 * An IO-processor plugin (vLLM's `task: "plugin"`): turns a request's `data` into prompts for a
 * pooling task, and the pooled outputs into the response's `data`. Errors thrown as
 * `BadRequestError` become 400s.
 */
export interface IOProcessor<Data = unknown, Response = unknown> {
  readonly name: string;
  /** Validate `data` and say what to pool. */
  parseRequest(data: unknown, ctx: IOProcessorContext): IOProcessorInput & { data: Data };
  /** Build the response from the pooled outputs, in the order of `input.prompts`. */
  outputToResponse(
    outputs: readonly PooledResult[],
    input: IOProcessorInput & { data: Data },
    ctx: IOProcessorContext,
  ): Response;
}
