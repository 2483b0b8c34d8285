import type { LexicalWeight, PooledOutput, PoolingParams, PoolingTask } from "../core/index.js";
import type { SequenceInput } from "./batch.js";
import type { Prompt, PromptOptions } from "./prompts.js";

/**
 * The types of the engine's one entry point, `Engine.run(request, ctx)`, and of its results.
 * Collaborators (routes, plugins, the library) import this file, never `engine.ts`.
 */

/** A tokenized prompt ready to run. */
export interface TokenizedPrompt extends SequenceInput {
  ids: number[];
  /** The output rows that are its token vectors (ColBERT documents drop their skiplist). */
  keep?: number[] | null;
}

/** A pair of texts, tokenized together (cross-encoder classification). */
export type TextPair = readonly [string, string];

export interface PooledResult {
  promptTokenIds: number[];
  output: PooledOutput;
}

export interface ScoreResult {
  promptTokenIds: number[];
  score: number;
}

export interface LexicalResult {
  promptTokenIds: number[];
  weights: LexicalWeight[];
}

/**
 * How an embedding model scores a pair: cosine of the embeddings, ColBERT late interaction
 * (MaxSim over token vectors), or the lexical match of sparse weights (bge-m3's; SPLADE's sparse
 * dot product).
 */
export type ScoreMode = "cosine" | "maxsim" | "lexical";

export interface ScoreOptions extends PromptOptions, Pick<PoolingParams, "useActivation"> {
  /** LLM rerankers with a score template: the task instruction (the template's default when unset). */
  instruction?: string | null;
  /**
   * Embedding models only; default MaxSim for late-interaction models, the sparse dot product for
   * SPLADE, else cosine.
   */
  scoreMode?: ScoreMode | null;
}

type Params = PoolingParams & PromptOptions;

/** `embed`: one vector per prompt (chunked past `max_model_len` when the pooler config says so). */
export interface EmbedRequest {
  task: "embed";
  prompts: readonly Prompt[];
  params?: Params;
}

/** `classify`: class probabilities per prompt, or per pair of texts (TEI's `/predict`). */
export interface ClassifyRequest {
  task: "classify";
  prompts: readonly (Prompt | TextPair)[];
  params?: Params;
}

/** The token tasks: one vector (`token_embed`) or one set of class scores (`token_classify`) per token. */
export interface TokenTaskRequest {
  task: "token_embed" | "token_classify";
  prompts: readonly Prompt[];
  params?: Params;
}

/** Scores of pairs, 1:1, 1:N or N:N: a cross-encoder's, or an embedding model's similarity. */
export interface ScoreRequest {
  task: "score";
  queries: readonly string[];
  documents: readonly string[];
  options?: ScoreOptions;
}

/** Sparse (lexical) weights of a model with a sparse head (bge-m3). */
export interface LexicalRequest {
  task: "lexical";
  prompts: readonly Prompt[];
  options?: PromptOptions;
}

/** vLLM's `task: "plugin"`: `data` goes through the loaded IO-processor plugin. */
export interface PluginRequest {
  task: "plugin";
  data: unknown;
}

export type EngineRequest =
  | EmbedRequest
  | ClassifyRequest
  | TokenTaskRequest
  | ScoreRequest
  | LexicalRequest
  | PluginRequest;

/** One call's context: cancellation and the response limit. Required: a run without one is a bug. */
export interface RunContext {
  /** Aborted when the caller goes away: queued work is dropped and the run rejects (`CancelledError`). */
  signal?: AbortSignal | undefined;
  /** Refuse (413) before any compute a run whose JSON answer would be larger (`--max-response-bytes`). */
  maxResponseBytes?: number | undefined;
}

/** What a run did, returned with its results (TEI's `InferMetadata`). */
export interface RunMetadata {
  /** The served name of the model that ran. */
  model: string;
  /** Tokens of the prompts as run (pairs count both sides). */
  promptTokens: number;
  /** Inputs run: prompts, or pairs for scoring. */
  inputs: number;
  tokenizationMs: number;
  queueMs: number;
  inferenceMs: number;
  /** The estimated size of the JSON answer, checked against `maxResponseBytes`. */
  outputBytes: number;
}

export interface RunResult<T> {
  results: T[];
  metadata: RunMetadata;
}

/** A plugin run: the plugin's response, and the pooled outputs it was made from. */
export interface PluginRunResult extends RunResult<PooledResult> {
  response: unknown;
}

/** The result of running `R`. */
export type RunResultOf<R extends EngineRequest> = R extends PluginRequest
  ? PluginRunResult
  : R extends ScoreRequest
    ? RunResult<ScoreResult>
    : R extends LexicalRequest
      ? RunResult<LexicalResult>
      : RunResult<PooledResult>;

/** Every pooling task a request can name (`score` has its own request). */
export type PoolTask = Exclude<PoolingTask, "score">;
