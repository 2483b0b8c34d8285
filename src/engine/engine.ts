import {
  BadRequestError,
  type Convert,
  cosineSimilarity,
  derivedMaxModelLen,
  isDecoder,
  type JsonObject,
  type ModelConfig,
  ModelConfigError,
  outputForKind,
  type PooledOutput,
  Pooler,
  type PoolerConfig,
  type PoolingParams,
  type PoolingTask,
  pairIndices,
  parsePoolerConfig,
  type Runner,
  resolvePoolerConfig,
  resolvePoolerKind,
  type SequenceOutput,
} from "../core/index.js";
import type { Dtype, StoreOptions } from "../models/index.js";
import type { Backend } from "./backend.js";
import { padBatch, type SequenceInput } from "./batch.js";
import { type ChatMessage, type ChatOptions, renderChat } from "./chat.js";
import { ENGINE_DEFAULTS } from "./defaults.js";
import type { ModelFolder } from "./folder.js";
import type { Device, RunDevice } from "./onnx-model.js";
import { contextLengthError, type Prompt, type PromptOptions, truncationLimit } from "./prompts.js";
import { type RequestTimings, Scheduler } from "./scheduler.js";
import type { SessionOptions } from "./session.js";
import type { TextTokenizer } from "./tokenizer.js";

export interface EngineOptions {
  /**
   * A local model folder (Hugging Face / optimum layout), a pinned `s3://` / `r2://` URI, or a
   * Hub id `org/name[@revision]` (downloaded into the cache).
   */
  model: string;
  /** ONNX variant: fp32 (`onnx/model.onnx`), fp16 or q8 (`model_fp16.onnx`, `model_quantized.onnx`). */
  dtype?: Dtype;
  /** Cache folder, bucket endpoint and Hub settings for non-local models. */
  store?: Omit<StoreOptions, "dtype">;
  /** Name used in responses and messages; defaults to `model`. */
  servedModelName?: string;
  runner?: Runner;
  convert?: Convert;
  /** vLLM's `--pooler-config`, camelCase or snake_case keys. */
  poolerConfig?: PoolerConfig | JsonObject;
  /** vLLM's `--hf-overrides`: merged into config.json in memory. */
  hfOverrides?: JsonObject;
  maxModelLen?: number;
  device?: Device;
  /** ONNX file inside the folder, e.g. `onnx/model_quantized.onnx`. */
  onnxFile?: string;
  /** Most sequences in one ONNX run. */
  maxBatchSize?: number;
  /** Most padded tokens (longest × count) in one ONNX run. */
  maxBatchTokens?: number;
  /** Most requests queued or running before new ones are refused (429). */
  maxConcurrentRequests?: number;
  /** Keep micro-batches at least this efficient (real / computed tokens); 0 packs by budget alone. */
  minBatchEfficiency?: number;
  /** Longest text prompt in characters, refused (400) before it is tokenized. */
  maxInputChars?: number;
  /** Worker threads, each with its own session; 0 runs the session on the calling thread. */
  workers?: number;
  session?: Omit<SessionOptions, "device">;
  /** Called once the ONNX session has started loading (servers use it to order their start-up). */
  onSessionLoading?: () => void;
  /** Told how long each load phase took (fetch, verify, session, tokenizer, first_run), in ms. */
  onPhase?: (phase: LoadPhase, ms: number) => void;
  /** Deprecation and compatibility warnings (default: `process.emitWarning`). */
  onWarning?: (message: string) => void;
}

/** Where warnings go when the caller gives no `onWarning`. */
export function defaultWarning(message: string): void {
  process.emitWarning(message, "DeprecationWarning");
}

export type LoadPhase = "fetch" | "verify" | "session" | "tokenizer" | "first_run";

/** Per-call context: cancellation, and where to add the call's queue and inference times. */
export interface RunContext {
  signal?: AbortSignal;
  timings?: RequestTimings;
}

/** A tokenized prompt ready to run. */
export interface TokenizedPrompt extends SequenceInput {
  ids: number[];
}

export interface PooledResult {
  promptTokenIds: number[];
  output: PooledOutput;
}

export interface ScoreResult {
  promptTokenIds: number[];
  score: number;
}

/** A loaded pooling model: tokenizer, ONNX session and pooler. */
export class Engine {
  readonly modelName: string;
  readonly config: ModelConfig;
  readonly maxModelLen: number;
  readonly tokenizer: TextTokenizer;
  readonly pooler: Pooler;
  /** The execution provider the model runs on (what `--device auto` chose). */
  readonly device: RunDevice;
  /** Why `--device auto` fell back to the CPU, or null. */
  readonly deviceFallback: string | null;
  /** sentence-transformers prompts by name (`query`, `document`, …) and the default one. */
  readonly prompts: Readonly<Record<string, string>>;
  readonly defaultPromptName: string | null;
  readonly scheduler: Scheduler;
  readonly maxInputChars: number;
  /** Where deprecation and compatibility warnings go. */
  readonly warn: (message: string) => void;
  /** The ONNX file served. */
  readonly onnxPath: string;
  private readonly backend: Backend;
  private readonly vocabSize: number;

  private constructor(parts: {
    modelName: string;
    config: ModelConfig;
    maxModelLen: number;
    tokenizer: TextTokenizer;
    pooler: Pooler;
    backend: Backend;
    scheduler: Scheduler;
    device: RunDevice;
    deviceFallback: string | null;
    prompts: Record<string, string>;
    defaultPromptName: string | null;
    maxInputChars: number;
    warn: (message: string) => void;
    onnxPath: string;
  }) {
    this.maxInputChars = parts.maxInputChars;
    this.warn = parts.warn;
    this.onnxPath = parts.onnxPath;
    this.prompts = parts.prompts;
    this.defaultPromptName = parts.defaultPromptName;
    this.modelName = parts.modelName;
    this.config = parts.config;
    this.maxModelLen = parts.maxModelLen;
    this.tokenizer = parts.tokenizer;
    this.pooler = parts.pooler;
    this.backend = parts.backend;
    this.scheduler = parts.scheduler;
    this.device = parts.device;
    this.deviceFallback = parts.deviceFallback;
    const vocab = parts.config.vocab_size;
    this.vocabSize = typeof vocab === "number" ? vocab : parts.tokenizer.vocabSize;
  }

  /**
   * Resolve, read and load a model with onnxruntime-node (Node only). Installed by
   * `./load.js`, which the engine's entry point imports; runtimes without a file system or
   * native modules (the edge Worker) build engines with `Engine.assemble` instead.
   */
  static load: (opts: EngineOptions) => Promise<Engine> = () =>
    Promise.reject(new Error("Engine.load needs the Node entry point (src/engine/index.js)"));

  /** Build an engine from a parsed folder and a started backend (any runtime). */
  static async assemble(
    opts: EngineOptions,
    folder: ModelFolder,
    config: ModelConfig,
    tokenizer: TextTokenizer,
    backend: Backend,
  ): Promise<Engine> {
    const device = backend.device;
    const kind = resolvePoolerKind(
      config,
      backend.outputs.map((o) => o.kind),
      opts.runner,
      opts.convert,
    );
    const outputKind = outputForKind(
      kind,
      backend.outputs.map((o) => o.kind),
    )!;
    const output = backend.outputs.find((o) => o.kind === outputKind)!;
    const padId = tokenizer.padTokenId ?? config.pad_token_id ?? 0;
    const probeStart = performance.now();
    const probe = await backend.run(
      padBatch([{ ids: [padId], typeIds: null }], padId, "right"),
      output.name,
    );
    opts.onPhase?.("first_run", performance.now() - probeStart);
    const outputSize = probe.dims[probe.dims.length - 1]!;
    const poolerConfig = resolvePoolerConfig({
      explicit: parsePoolerConfig(opts.poolerConfig, opts.onWarning ?? defaultWarning),
      sentenceTransformers: folder.stPooling,
      decoder: isDecoder(config),
      embedding: kind === "embed",
    });
    const modelName = opts.servedModelName ?? opts.model;
    const pooler = new Pooler({
      modelName,
      config,
      kind,
      poolerConfig,
      dense: folder.dense,
      outputSize,
      output: outputKind,
    });
    const derived =
      derivedMaxModelLen(config, folder.stMaxSeqLength) ?? tokenizer.modelMaxLength ?? 512;
    if (opts.maxModelLen !== undefined && opts.maxModelLen > derived) {
      throw new ModelConfigError(
        `max_model_len ${opts.maxModelLen} is greater than the model's maximum of ${derived} tokens`,
      );
    }
    if (opts.maxModelLen !== undefined && opts.maxModelLen < 1) {
      throw new ModelConfigError("max_model_len must be a positive integer");
    }
    const scheduler = new Scheduler(backend, {
      maxBatchSize: opts.maxBatchSize ?? ENGINE_DEFAULTS.maxBatchSize,
      maxBatchTokens: opts.maxBatchTokens ?? ENGINE_DEFAULTS.maxBatchTokens,
      maxConcurrentRequests: opts.maxConcurrentRequests ?? ENGINE_DEFAULTS.maxConcurrentRequests,
      minBatchEfficiency: opts.minBatchEfficiency ?? ENGINE_DEFAULTS.minBatchEfficiency,
      padId,
      paddingSide: tokenizer.paddingSide,
      output: output.name,
    });
    return new Engine({
      modelName,
      config,
      maxModelLen: opts.maxModelLen ?? derived,
      tokenizer,
      pooler,
      backend,
      scheduler,
      device,
      deviceFallback: backend.fallback,
      prompts: folder.prompts,
      defaultPromptName: folder.defaultPromptName,
      maxInputChars: opts.maxInputChars ?? ENGINE_DEFAULTS.maxInputChars,
      warn: opts.onWarning ?? defaultWarning,
      onnxPath: folder.onnxPath,
    });
  }

  get tasks(): PoolingTask[] {
    return this.pooler.tasks;
  }

  /** Render chat messages with the model's chat template into one text prompt. */
  renderChat(messages: readonly ChatMessage[], opts: ChatOptions = {}): string {
    return renderChat(this.tokenizer.chatTemplate, messages, {
      ...opts,
      specialTokens: this.tokenizer.specialTokens,
    });
  }

  /** Tokenize one prompt, truncating or refusing it by the model's length, with vLLM's messages. */
  tokenize(prompt: Prompt, opts: PromptOptions = {}): TokenizedPrompt {
    const limit = truncationLimit(opts.truncatePromptTokens, this.maxModelLen);
    const side = opts.truncationSide ?? "right";
    let ids: number[];
    let typeIds: number[] | null = null;
    if (typeof prompt === "string") {
      this.checkInputLength(prompt);
      const enc = this.tokenizer.encode(prompt, {
        addSpecialTokens: opts.addSpecialTokens ?? true,
        ...(limit !== undefined ? { maxTokens: limit, side } : {}),
      });
      ids = enc.ids;
      typeIds = enc.typeIds;
    } else {
      ids = this.checkTokenIds(prompt.promptTokenIds);
      if (limit !== undefined && ids.length > limit) {
        ids = side === "left" ? ids.slice(ids.length - limit) : ids.slice(0, limit);
      }
    }
    if (ids.length === 0) throw new BadRequestError("The prompt is empty", "input");
    if (ids.length > this.maxModelLen) throw contextLengthError(this.maxModelLen, ids.length);
    return { ids, typeIds };
  }

  /** Refuse a text too long to tokenize within the request's bounded work (before tokenizing it). */
  checkInputLength(text: string): void {
    if (text.length > this.maxInputChars) {
      throw new BadRequestError(
        `An input has ${text.length} characters; the limit is ${this.maxInputChars} (--max-input-chars)`,
        "input",
      );
    }
  }

  /** Refuse token ids outside the vocabulary (a 400, not a crash in the graph). */
  checkTokenIds(ids: readonly number[]): number[] {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new BadRequestError(
          `Token id ${String(id)} is out of vocabulary (0 to ${this.vocabSize - 1})`,
          "input",
        );
      }
    }
    return [...ids];
  }

  /** Tokenize a sentence pair for a cross-encoder. */
  tokenizePair(first: string, second: string, opts: PromptOptions = {}): TokenizedPrompt {
    const limit = truncationLimit(opts.truncatePromptTokens, this.maxModelLen);
    this.checkInputLength(first);
    this.checkInputLength(second);
    const enc = this.tokenizer.encodePair(first, second, {
      ...(limit !== undefined ? { maxTokens: limit, side: opts.truncationSide ?? "right" } : {}),
    });
    if (enc.ids.length > this.maxModelLen)
      throw contextLengthError(this.maxModelLen, enc.ids.length);
    return { ids: enc.ids, typeIds: enc.typeIds };
  }

  /**
   * Run the graph over tokenized prompts through the shared scheduler (cross-request,
   * length-sorted micro-batches) and return each prompt's real-token slice, in input order.
   */
  async forward(
    inputs: readonly TokenizedPrompt[],
    ctx: RunContext = {},
  ): Promise<SequenceOutput[]> {
    const { outputs, timings } = await this.scheduler.submit(inputs, ctx.signal);
    if (ctx.timings) {
      ctx.timings.queueMs += timings.queueMs;
      ctx.timings.inferenceMs += timings.inferenceMs;
    }
    return outputs;
  }

  /** Run a pooling task over prompts. Checks the task and parameters before any compute. */
  async pool(
    task: Exclude<PoolingTask, "score">,
    prompts: readonly Prompt[],
    params: PoolingParams & PromptOptions = {},
  ): Promise<PooledResult[]> {
    return this.poolTokenized(task, this.prepare(task, prompts, params), params);
  }

  /** Check the task and parameters, then tokenize: every error surfaces before any compute. */
  prepare(
    task: PoolingTask,
    prompts: readonly Prompt[],
    params: PoolingParams & PromptOptions = {},
  ): TokenizedPrompt[] {
    this.pooler.validate(task, params);
    return prompts.map((p) => this.tokenize(p, params));
  }

  async poolTokenized(
    task: PoolingTask,
    tokenized: readonly TokenizedPrompt[],
    params: PoolingParams = {},
    ctx: RunContext = {},
  ): Promise<PooledResult[]> {
    const outputs = await this.forward(tokenized, ctx);
    return outputs.map((o, i) => ({
      promptTokenIds: tokenized[i]!.ids,
      output: this.pooler.run(task, o, params),
    }));
  }

  /**
   * Scores for 1:1, 1:N or N:N pairs: a cross-encoder's activated logit, or the cosine
   * similarity of the two embeddings for an embedding model.
   */
  async score(
    left: readonly string[],
    right: readonly string[],
    opts: PromptOptions & Pick<PoolingParams, "useActivation"> = {},
    ctx: RunContext = {},
  ): Promise<ScoreResult[]> {
    this.pooler.validate("score");
    const pairs = pairIndices(left.length, right.length);
    if (this.pooler.spec.kind === "classify") {
      const tokenized = pairs.map(([i, j]) => this.tokenizePair(left[i]!, right[j]!, opts));
      const pooled = await this.poolTokenized("score", tokenized, {
        useActivation: opts.useActivation ?? null,
      });
      return pooled.map((p) => ({
        promptTokenIds: p.promptTokenIds,
        score: (p.output as Float32Array)[0]!,
      }));
    }
    const texts = [...left, ...right];
    const tokenized = texts.map((t) => this.tokenize(t, opts));
    const pooled = await this.poolTokenized("score", tokenized, {}, ctx);
    return pairs.map(([i, j]) => {
      const a = pooled[i]!;
      const b = pooled[left.length + j]!;
      return {
        promptTokenIds: [...a.promptTokenIds, ...b.promptTokenIds],
        score: cosineSimilarity(a.output as Float32Array, b.output as Float32Array),
      };
    });
  }

  async close(): Promise<void> {
    await this.backend.close();
  }
}
