import {
  BadRequestError,
  type PoolingParams,
  type PoolingTask,
  resolveUseActivation,
  toNumbers,
} from "../core/index.js";
import type { Engine } from "./engine.js";
import { type EngineOptions, loadEngine } from "./node/load.js";
import { asPromptList, type Prompt, type PromptOptions, type PromptRole } from "./prompts.js";
import type { EngineRequest, PooledResult, RunResultOf, ScoreOptions } from "./types.js";

export type LLMOptions = EngineOptions;

/** What every offline result carries, as vLLM's PoolingRequestOutput. */
export interface PoolingRequestOutput<T> {
  promptTokenIds: number[];
  outputs: T;
  finished: true;
}

/** Deprecated spellings of `useActivation` (vLLM's `PoolingParams`), read as it with a warning. */
export interface DeprecatedActivationOptions {
  /** @deprecated use `useActivation` */
  normalize?: boolean | null;
  /** @deprecated use `useActivation` */
  softmax?: boolean | null;
  /** @deprecated use `useActivation` */
  activation?: boolean | null;
}

/** A prompt by name: its text (sentence-transformers' prompts) and, on two-sided models, its side. */
export interface PromptNameOption {
  /**
   * A sentence-transformers prompt (`query`, …) put in front of text prompts; default: the
   * model's default prompt. On ColBERT and inference-free SPLADE models, `query` encodes the
   * prompts as queries (others as documents).
   */
  promptName?: string | null;
}

export type EmbedOptions = PromptOptions &
  PoolingParams &
  DeprecatedActivationOptions &
  PromptNameOption;
export type ClassifyOptions = PromptOptions &
  Pick<PoolingParams, "useActivation"> &
  DeprecatedActivationOptions;
/** Token-level rewards; STEP pooling's `stepTagId` and `returnedTokenIds` may be set per call. */
export type RewardOptions = ClassifyOptions & Pick<PoolingParams, "stepTagId" | "returnedTokenIds">;
export type EncodeOptions = PromptOptions &
  PoolingParams &
  DeprecatedActivationOptions &
  PromptNameOption & { poolingTask: Exclude<PoolingTask, "score"> | "plugin" };
export type SparseOptions = PromptOptions & PromptNameOption;

export type TokenData = number[] | number[][];

/** One entry of a sparse embedding. */
export interface SparseEntry {
  tokenId: number;
  token: string;
  weight: number;
}

function toData(output: Float32Array | Float32Array[]): TokenData {
  return Array.isArray(output) ? output.map(toNumbers) : toNumbers(output);
}

function wrap<T>(
  results: PooledResult[],
  shape: (r: PooledResult) => T,
): PoolingRequestOutput<T>[] {
  return results.map((r) => ({
    promptTokenIds: r.promptTokenIds,
    outputs: shape(r),
    finished: true,
  }));
}

/**
 * The offline API of vLLM's pooling runner:
 * `const llm = await LLM.load({ model }); await llm.embed(["text"])`.
 */
export class LLM {
  readonly engine: Engine;

  private constructor(engine: Engine) {
    this.engine = engine;
  }

  static async load(options: LLMOptions): Promise<LLM> {
    return new LLM(await loadEngine(options));
  }

  /** Tasks this model serves, e.g. `["embed", "token_embed", "score"]`. */
  get supportedTasks(): PoolingTask[] {
    return [...this.engine.tasks];
  }

  get maxModelLen(): number {
    return this.engine.maxModelLen;
  }

  /** The library has no caller to lose: its runs have no signal and no response limit. */
  private run<R extends EngineRequest>(req: R): Promise<RunResultOf<R>> {
    return this.engine.run(req, {});
  }

  /** Options with the deprecated activation spellings folded into `useActivation`. */
  private params<T extends DeprecatedActivationOptions & { useActivation?: boolean | null }>(
    options: T,
  ): T {
    const { normalize, softmax, activation, ...rest } = options;
    const useActivation = resolveUseActivation(
      { use_activation: options.useActivation, normalize, softmax, activation },
      this.engine.warn,
    );
    return { ...rest, useActivation } as T;
  }

  /** Prompts with the named sentence-transformers prompt in front (token ids as they are). */
  private named(prompts: Prompt | readonly Prompt[], name: string | null | undefined) {
    return { prompts: this.engine.withPrompt(asPromptList(prompts), name) };
  }

  /** The side a prompt name selects, on models that encode queries and documents differently. */
  private roleFor(name: string | null | undefined): { role?: PromptRole } {
    const role = this.engine.roleOf(name);
    return role ? { role } : {};
  }

  async embed(
    prompts: Prompt | readonly Prompt[],
    options: EmbedOptions = {},
  ): Promise<PoolingRequestOutput<{ embedding: number[] }>[]> {
    const { promptName, ...rest } = options;
    const { results } = await this.run({
      task: "embed",
      ...this.named(prompts, promptName),
      params: this.params({ ...rest, ...this.roleFor(promptName) }),
    });
    return wrap(results, (r) => ({ embedding: toNumbers(r.output as Float32Array) }));
  }

  async classify(
    prompts: Prompt | readonly Prompt[],
    options: ClassifyOptions = {},
  ): Promise<PoolingRequestOutput<{ probs: number[] }>[]> {
    const { results } = await this.run({
      task: "classify",
      prompts: asPromptList(prompts),
      params: this.params(options),
    });
    return wrap(results, (r) => ({ probs: toNumbers(r.output as Float32Array) }));
  }

  /** Token-level rewards / classes (`token_classify`). */
  async reward(
    prompts: Prompt | readonly Prompt[],
    options: RewardOptions = {},
  ): Promise<PoolingRequestOutput<{ data: TokenData }>[]> {
    return this.encode(prompts, { ...options, poolingTask: "token_classify" });
  }

  /** `task: "plugin"`: `data` goes to the loaded IO-processor plugin (see `plugin()`). */
  encode(
    data: unknown,
    options: { poolingTask: "plugin" },
  ): Promise<PoolingRequestOutput<{ data: unknown }>[]>;
  encode(
    prompts: Prompt | readonly Prompt[],
    options: EncodeOptions,
  ): Promise<PoolingRequestOutput<{ data: TokenData }>[]>;
  async encode(
    input: unknown,
    options: EncodeOptions,
  ): Promise<PoolingRequestOutput<{ data: unknown }>[]> {
    const prompts = input as Prompt | readonly Prompt[];
    const task = (options as Partial<EncodeOptions> | undefined)?.poolingTask;
    if (task === undefined || task === null) {
      const tasks = this.engine.tasks.filter((t) => t !== "score");
      throw new BadRequestError(
        `poolingTask is required for encode(): pass { poolingTask: ${tasks.map((t) => `"${t}"`).join(" | ")} } (this model's tasks), or use embed(), classify() or reward()`,
        "poolingTask",
      );
    }
    if (task === "plugin") return this.plugin(input);
    const { poolingTask: _, promptName, ...rest } = options;
    const { results } = await this.run({
      task,
      ...this.named(prompts, promptName),
      params: this.params({ ...rest, ...this.roleFor(promptName) }),
    });
    return wrap(results, (r) => ({ data: toData(r.output) }));
  }

  /**
   * `task: "plugin"` (also `encode(data, { poolingTask: "plugin" })`): the loaded IO-processor
   * plugin turns `data` into prompts and the pooled outputs into `outputs.data`.
   */
  async plugin(data: unknown): Promise<PoolingRequestOutput<{ data: unknown }>[]> {
    const { response, results } = await this.run({ task: "plugin", data });
    return [
      {
        promptTokenIds: results.flatMap((r) => r.promptTokenIds),
        outputs: { data: response },
        finished: true,
      },
    ];
  }

  /**
   * Sparse (lexical) embeddings: a SPLADE vector's non-zero entries, or a sparse head's (bge-m3)
   * weights, one per distinct non-special token; `{tokenId, token, weight}`, sorted by token id.
   * `promptName: "query"` on an inference-free SPLADE model weighs the query's tokens' IDF.
   */
  async embedSparse(
    prompts: Prompt | readonly Prompt[],
    options: SparseOptions = {},
  ): Promise<PoolingRequestOutput<{ weights: SparseEntry[] }>[]> {
    const { promptName, ...rest } = options;
    const { results } = await this.run({
      task: "lexical",
      ...this.named(prompts, promptName),
      options: { ...rest, ...this.roleFor(promptName) },
    });
    const tok = this.engine.tokenizer;
    return results.map((r) => ({
      promptTokenIds: r.promptTokenIds,
      outputs: {
        weights: r.weights.map((w) => ({
          tokenId: w.tokenId,
          token: tok.tokenStrings([w.tokenId])[0]!,
          weight: w.weight,
        })),
      },
      finished: true,
    }));
  }

  /**
   * Pair scores (1:1, 1:N, N:N): cross-encoder relevance; for embedding models cosine, or
   * MaxSim for late-interaction models (`scoreMode` picks cosine, maxsim or lexical).
   */
  async score(
    text1: string | readonly string[],
    text2: string | readonly string[],
    options: ScoreOptions = {},
  ): Promise<PoolingRequestOutput<{ score: number }>[]> {
    const left = typeof text1 === "string" ? [text1] : [...text1];
    const right = typeof text2 === "string" ? [text2] : [...text2];
    const { results } = await this.run({
      task: "score",
      queries: left,
      documents: right,
      options: this.params(options),
    });
    return results.map((r) => ({
      promptTokenIds: r.promptTokenIds,
      outputs: { score: r.score },
      finished: true,
    }));
  }

  async close(): Promise<void> {
    await this.engine.close();
  }
}
