import {
  type ModelConfig,
  type Pooler,
  type PoolingTask,
  ResponseTooLargeError,
  UnsupportedTaskError,
} from "../core/index.js";
import type { Backend } from "./backend.js";
import type { ChatMessage, ChatOptions } from "./chat.js";
import type { IOProcessor, IOProcessorInput } from "./io-processor.js";
import type { RunDevice } from "./onnx-model.js";
import { pluginPlan } from "./plugin.js";
import { lexicalPlan, type Plan, poolPlan, withoutForward } from "./pool.js";
import { type PrepareParts, Preparer } from "./prepare.js";
import type { Prompt, PromptOptions, PromptRole } from "./prompts.js";
import { checkRequestTokens } from "./request-tokens.js";
import type { Scheduler } from "./scheduler.js";
import { scorePlan } from "./score.js";
import type { TextTokenizer } from "./tokenizer.js";
import type { EngineRequest, RunContext, RunResultOf, TokenizedPrompt } from "./types.js";

/** Upper bound of one float in a JSON answer: sign, `0.`, 17 significant digits, separator. */
export const JSON_BYTES_PER_VALUE = 24;

/** What an engine is made of (see `assembleEngine`). */
export interface EngineParts extends PrepareParts {
  config: ModelConfig;
  backend: Backend;
  scheduler: Scheduler;
  /** Where deprecation and compatibility warnings go. */
  warn: (message: string) => void;
  /** The ONNX file served. */
  onnxPath: string;
  /** The IO-processor plugin serving `task: "plugin"`, when one is loaded. */
  ioProcessor: IOProcessor | null;
}

/** The plan's results, before the run's metadata is added. */
type Finished<R extends EngineRequest> = Omit<RunResultOf<R>, "metadata">;

/**
 * A loaded pooling model: tokenizer, ONNX session (behind a backend) and pooler. `run` is its one
 * entry point for inference: capacity, tokenization (timed), the response-size check, the shared
 * scheduler, then pooling — the same for every kind of request.
 */
export class Engine {
  readonly modelName: string;
  readonly config: ModelConfig;
  readonly maxModelLen: number;
  readonly tokenizer: TextTokenizer;
  readonly pooler: Pooler;
  readonly scheduler: Scheduler;
  /** sentence-transformers prompts by name (`query`, `document`, …). */
  readonly prompts: Readonly<Record<string, string>>;
  readonly warn: (message: string) => void;
  readonly onnxPath: string;
  readonly ioProcessor: IOProcessor | null;
  private readonly backend: Backend;
  private readonly prep: Preparer;
  private readonly templated: boolean;

  constructor(parts: EngineParts) {
    this.modelName = parts.modelName;
    this.config = parts.config;
    this.maxModelLen = parts.maxModelLen;
    this.tokenizer = parts.tokenizer;
    this.pooler = parts.pooler;
    this.scheduler = parts.scheduler;
    this.prompts = parts.prompts;
    this.warn = parts.warn;
    this.onnxPath = parts.onnxPath;
    this.ioProcessor = parts.ioProcessor;
    this.backend = parts.backend;
    this.templated = parts.scoreTemplate !== null;
    this.prep = new Preparer(parts);
  }

  get tasks(): PoolingTask[] {
    return this.pooler.tasks;
  }

  /** The execution provider the model runs on (what `--device auto` chose). */
  get device(): RunDevice {
    return this.backend.device;
  }

  /** Why `--device auto` fell back to the CPU, or null. */
  get deviceFallback(): string | null {
    return this.backend.fallback;
  }

  /** Whether a small request that runs alone computes on the calling thread (else in a worker). */
  get loneOnCallingThread(): boolean {
    return this.backend.loneHere === true;
  }

  /**
   * Run one request. Every error that a request can cause (capacity, task, parameters, lengths,
   * response size) is thrown before any compute; a request whose `ctx.signal` aborts while it
   * waits is dropped and rejects with `CancelledError`. The results come with what the run did.
   */
  async run<R extends EngineRequest>(req: R, ctx: RunContext): Promise<RunResultOf<R>> {
    this.scheduler.checkCapacity();
    const start = performance.now();
    const plan = this.plan(req);
    const tokenizationMs = performance.now() - start;
    checkRequestTokens(plan.inputs, this.prep.maxRequestTokens);
    const outputBytes = plan.values * JSON_BYTES_PER_VALUE;
    const limit = ctx.maxResponseBytes;
    if (limit !== undefined && outputBytes > limit) {
      throw new ResponseTooLargeError(outputBytes, limit, "input");
    }
    const { outputs, timings } = await this.scheduler.submit(
      plan.inputs,
      ctx.signal,
      plan.read,
      plan.consume,
    );
    const finished = plan.finish(outputs);
    const results = finished.results as ReadonlyArray<{ promptTokenIds: number[] }>;
    const metadata = {
      model: this.modelName,
      promptTokens: results.reduce((n, r) => n + r.promptTokenIds.length, 0),
      inputs: results.length,
      tokenizationMs,
      queueMs: timings.queueMs,
      inferenceMs: timings.inferenceMs,
      outputBytes,
    };
    return { ...finished, metadata } as RunResultOf<R>;
  }

  /**
   * Refuse a request now exactly as running it would (task, parameters, lengths), without running
   * it: a rerank job is checked so when it is submitted.
   */
  check(req: EngineRequest): void {
    this.plan(req);
  }

  /** Check and tokenize a request; say how its forward outputs become its results. */
  private plan<R extends EngineRequest>(req: EngineRequest): Plan<Finished<R>> {
    const pooled = (task: PoolingTask, tokenized: TokenizedPrompt[], params = {}) =>
      poolPlan(this.pooler, this.maxModelLen, task, tokenized, params);
    const wrap = <T>(plan: Plan<T>, shape: (t: T) => unknown) =>
      ({ ...plan, finish: (o) => shape(plan.finish(o)) }) as Plan<Finished<R>>;
    switch (req.task) {
      case "score":
        return wrap(scorePlan(this.scoreModel(), req), (results) => ({ results }));
      case "lexical": {
        if (!this.pooler.sparse) throw new UnsupportedTaskError("embed_sparse", this.tasks);
        // SPLADE's sparse vector is its embedding; bge-m3's comes from its per-token weights.
        const task = this.pooler.spec.splade ? "embed" : "token_classify";
        const tokenized = this.prep.prepare(task, req.prompts, req.options);
        const isSpecial = (id: number) => this.tokenizer.isSpecial(id);
        const plan = lexicalPlan(this.pooler, isSpecial, tokenized);
        return wrap(this.forwardFor(plan, tokenized, req.options), (results) => ({ results }));
      }
      case "plugin": {
        const view = {
          modelName: this.modelName,
          tasks: this.tasks,
          maxModelLen: this.maxModelLen,
        };
        const prepare = (input: IOProcessorInput) => {
          const params = input.params ?? {};
          const tokenized = this.prep.prepare(input.task, input.prompts, params);
          return poolPlan(this.pooler, this.maxModelLen, input.task, tokenized, params);
        };
        return wrap(pluginPlan(this.ioProcessor, view, req.data, prepare), (out) => out);
      }
      default: {
        const tokenized = this.prep.prepare(req.task, req.prompts, req.params);
        const plan = this.forwardFor(
          pooled(req.task, tokenized, req.params),
          tokenized,
          req.params,
        );
        return wrap(plan, (results) => ({ results }));
      }
    }
  }

  /** Inference-free SPLADE queries run no model: their outputs are their tokens' IDF weights. */
  private forwardFor<T>(
    plan: Plan<T>,
    tokenized: TokenizedPrompt[],
    options: PromptOptions = {},
  ): Plan<T> {
    return this.prep.isStaticQuery(options) ? withoutForward(plan, this.pooler, tokenized) : plan;
  }

  private scoreModel() {
    const { modelName, pooler, tokenizer, prep, templated } = this;
    return {
      modelName,
      pooler,
      tokenizer,
      prep,
      templated,
      maxRequestTokens: prep.maxRequestTokens,
    };
  }

  /** Tokenize one prompt, truncating or refusing it by the model's length, with vLLM's messages. */
  tokenize(prompt: Prompt, opts: PromptOptions = {}): TokenizedPrompt {
    return this.prep.tokenize(prompt, opts);
  }

  /** Tokenize a sentence pair for a cross-encoder. */
  tokenizePair(first: string, second: string, opts: PromptOptions = {}): TokenizedPrompt {
    return this.prep.tokenizePair(first, second, opts);
  }

  /**
   * The side (query or document) a prompt name selects on a model that encodes them differently
   * (ColBERT, inference-free SPLADE): pass it as the prompts' `role`. Undefined for other models.
   */
  roleOf(name?: string | null): PromptRole | undefined {
    return this.prep.roleOf(name);
  }

  /** Text prompts with the named (or default) sentence-transformers prompt in front. */
  withPrompt(prompts: readonly Prompt[], name?: string | null): Prompt[] {
    return this.prep.withPrompt(prompts, name);
  }

  /** Render chat messages with the model's chat template into one text prompt. */
  renderChat(messages: readonly ChatMessage[], opts: ChatOptions = {}): string {
    return this.prep.renderChat(messages, opts);
  }

  /** Refuse a text too long to tokenize within the request's bounded work. */
  checkInputLength(text: string): void {
    this.prep.checkInputLength(text);
  }

  /** Refuse token ids outside the vocabulary. */
  checkTokenIds(ids: readonly number[]): number[] {
    return this.prep.checkTokenIds(ids);
  }

  async close(): Promise<void> {
    await this.backend.close();
  }
}
