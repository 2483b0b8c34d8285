import {
  BadRequestError,
  type Convert,
  chunkRanges,
  classifierFromToken,
  cosineSimilarity,
  derivedMaxModelLen,
  isDecoder,
  isProcessRewardModel,
  type JsonObject,
  type LexicalWeight,
  lexicalScore,
  type ModelConfig,
  ModelConfigError,
  maxSim,
  outputForKind,
  ownValue,
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
  UnsupportedTaskError,
} from "../core/index.js";
import type { Dtype, ModelSourceOptions } from "../models/index.js";
import type { Backend } from "./backend.js";
import { padBatch, type SequenceInput } from "./batch.js";
import { type ChatMessage, type ChatOptions, renderChat } from "./chat.js";
import { ENGINE_DEFAULTS } from "./defaults.js";
import type { ModelFolder } from "./folder.js";
import { checkConfigAgainstGraph, type GraphCheckMemo } from "./graph-limits.js";
import type { IOProcessor } from "./io-processor.js";
import type { SessionOptions } from "./node/session.js";
import type { Device, RunDevice } from "./onnx-model.js";
import {
  contextLengthError,
  embedLengthError,
  type Prompt,
  type PromptOptions,
  truncationLimit,
} from "./prompts.js";
import { checkRequestTokens, tokenizeWithin } from "./request-tokens.js";
import { type RequestTimings, Scheduler } from "./scheduler.js";
import { resolveScoreTemplate, type ScoreTemplate } from "./score-template.js";
import { readTokenHeads } from "./token-heads.js";
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
  store?: Omit<ModelSourceOptions, "dtype">;
  /** Name used in responses and messages; defaults to `model`. */
  servedModelName?: string;
  runner?: Runner;
  convert?: Convert;
  /** vLLM's `--pooler-config`, camelCase or snake_case keys. */
  poolerConfig?: PoolerConfig | JsonObject;
  /** vLLM's `--hf-overrides`: merged into config.json in memory. */
  hfOverrides?: JsonObject;
  maxModelLen?: number;
  /**
   * TEI's `--auto-truncate`: a prompt over the limit is cut (right side, special tokens kept)
   * instead of refused, when the request does not set its own truncation.
   */
  autoTruncate?: boolean;
  device?: Device;
  /** ONNX file inside the folder, e.g. `onnx/model_quantized.onnx`. */
  onnxFile?: string;
  /** Most sequences in one ONNX run. */
  maxBatchSize?: number;
  /** Most padded tokens (longest × count) in one ONNX run. */
  maxBatchTokens?: number;
  /**
   * Most tokens one request puts into one ONNX run: a larger request runs as several,
   * interleaved with other requests', which wait for about one such share, not the whole request.
   */
  maxBatchTokensPerRequest?: number;
  /** Most requests queued or running before new ones are refused (429). */
  maxConcurrentRequests?: number;
  /** Keep micro-batches at least this efficient (real / computed tokens); 0 packs by budget alone. */
  minBatchEfficiency?: number;
  /** Longest text prompt in characters, refused (400) before it is tokenized. */
  maxInputChars?: number;
  /**
   * Most prompt tokens one request may run (summed over its inputs after tokenization; a
   * cross-encoder pair counts its joined tokens); more is refused (413) before any compute.
   */
  maxRequestTokens?: number;
  /** Worker threads, each with its own session; 0 runs the session on the calling thread. */
  workers?: number;
  session?: Omit<SessionOptions, "device">;
  /**
   * Create the session from a copy of the graph whose weights are in a page-aligned external
   * data file in the model cache (written at the first load), which ONNX Runtime maps instead of
   * copying: less memory and a faster session start, for one more copy of the weights on disk.
   * `auto` (the default) is on, except on AWS Lambda (whose instances start with an empty cache)
   * and for a folder verified against its manifest (pinned or downloaded: the copy would be read
   * unverified; pin with `--mapped-weights` instead). `true` maps a verified folder too, with a
   * warning.
   */
  mappedWeights?: boolean | "auto";
  /**
   * How `score` renders a pair for an LLM reranker: `qwen3_reranker`, or a Jinja template whose
   * `messages` are the instruction (role system), the query and the document. Default: the
   * qwen3_reranker template when `config.json` has `is_original_qwen3_reranker`.
   */
  scoreTemplate?: string | null;
  /**
   * An IO-processor plugin for `task: "plugin"`: a built-in name (`nearest-label`), a module
   * path, or the plugin itself. Default: `io_processor_plugin` in `config.json`, else none.
   */
  ioProcessorPlugin?: string | IOProcessor | null;
  /** Called once the ONNX session has started loading and the tokenizer is built (servers load their HTTP stack then). */
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

export type LoadPhase =
  | "fetch"
  | "verify"
  | "mapped_weights"
  | "session"
  | "tokenizer"
  | "first_run";

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

/**
 * How an embedding model scores a pair: cosine of the embeddings, ColBERT late interaction
 * (MaxSim over token vectors), or bge-m3's lexical match of sparse weights.
 */
export type ScoreMode = "cosine" | "maxsim" | "lexical";

export interface ScoreOptions extends PromptOptions, Pick<PoolingParams, "useActivation"> {
  /** LLM rerankers with a score template: the task instruction (the template's default when unset). */
  instruction?: string | null;
  /** Embedding models only; default MaxSim for late-interaction models, else cosine. */
  scoreMode?: ScoreMode | null;
}

export interface LexicalResult {
  promptTokenIds: number[];
  weights: LexicalWeight[];
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
  /** How pairs are rendered for an LLM reranker; null for cross-encoders and embedding models. */
  readonly scoreTemplate: ScoreTemplate | null;
  readonly autoTruncate: boolean;
  readonly maxInputChars: number;
  readonly maxRequestTokens: number;
  /** Where deprecation and compatibility warnings go. */
  readonly warn: (message: string) => void;
  /** The ONNX file served. */
  readonly onnxPath: string;
  /** The IO-processor plugin serving `task: "plugin"`, when one is loaded. */
  ioProcessor: IOProcessor | null = null;
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
    scoreTemplate: ScoreTemplate | null;
    autoTruncate: boolean;
    maxInputChars: number;
    maxRequestTokens: number;
    vocabSize: number;
    warn: (message: string) => void;
    onnxPath: string;
  }) {
    this.scoreTemplate = parts.scoreTemplate;
    this.autoTruncate = parts.autoTruncate;
    this.maxInputChars = parts.maxInputChars;
    this.maxRequestTokens = parts.maxRequestTokens;
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
    this.vocabSize = parts.vocabSize;
  }

  /**
   * Resolve, read and load a model with onnxruntime-node (Node only). Installed by
   * `./load.js`, which the engine's entry point imports; runtimes without a file system or
   * native modules (the edge Worker) build engines with `Engine.assemble` instead.
   */
  static load: (opts: EngineOptions) => Promise<Engine> = () =>
    Promise.reject(new Error("Engine.load needs the Node entry point (src/engine/index.js)"));

  /**
   * Build an engine from a parsed folder and a started backend (any runtime). `graphChecks`
   * remembers the config-against-graph checks that passed for this ONNX file.
   */
  static async assemble(
    opts: EngineOptions,
    folder: ModelFolder,
    config: ModelConfig,
    tokenizer: TextTokenizer,
    backend: Backend,
    graphChecks?: GraphCheckMemo,
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
    const fromToken = Engine.classifierColumns(kind, config, tokenizer, backend);
    const padId = tokenizer.padTokenId ?? config.pad_token_id ?? 0;
    const probeStart = performance.now();
    const [probe] = await backend.run(padBatch([{ ids: [padId], typeIds: null }], padId, "right"), [
      { name: output.name, ...(fromToken ? { lastTokenColumns: fromToken } : {}) },
    ]);
    opts.onPhase?.("first_run", performance.now() - probeStart);
    const outputSize = probe!.dims[probe!.dims.length - 1]!;
    const poolerConfig = resolvePoolerConfig({
      explicit: parsePoolerConfig(opts.poolerConfig, opts.onWarning ?? defaultWarning),
      sentenceTransformers: folder.stPooling,
      decoder: isDecoder(config),
      architectures: config.architectures ?? [],
      processReward: isProcessRewardModel(config),
      embedding: kind === "embed",
    });
    const modelName = opts.servedModelName ?? opts.model;
    const tokenHeads =
      kind === "embed"
        ? await readTokenHeads(folder.reader, config, outputSize, {
            bos: tokenizer.tokenId(tokenizer.specialTokens.cls_token ?? "") ?? null,
            eos: tokenizer.tokenId(tokenizer.specialTokens.eos_token ?? "") ?? null,
          })
        : null;
    const pooler = new Pooler({
      modelName,
      config,
      kind,
      poolerConfig,
      dense: folder.dense,
      outputSize,
      tokenHeads,
      // Gathered at the last position: one row of the tokens' logits per sequence.
      ...(fromToken ? { fromTokens: fromToken.length } : {}),
      output: fromToken ? "sequence_logits" : outputKind,
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
    const vocabSize =
      typeof config.vocab_size === "number" ? config.vocab_size : tokenizer.vocabSize;
    await checkConfigAgainstGraph(
      { backend, output: output.name, padId, side: tokenizer.paddingSide },
      { maxModelLen: opts.maxModelLen ?? derived, vocabSize },
      graphChecks,
    );
    const scheduler = new Scheduler(backend, {
      maxBatchSize: opts.maxBatchSize ?? ENGINE_DEFAULTS.maxBatchSize,
      maxBatchTokens: opts.maxBatchTokens ?? ENGINE_DEFAULTS.maxBatchTokens,
      maxBatchTokensPerRequest:
        opts.maxBatchTokensPerRequest ?? ENGINE_DEFAULTS.maxBatchTokensPerRequest,
      maxConcurrentRequests: opts.maxConcurrentRequests ?? ENGINE_DEFAULTS.maxConcurrentRequests,
      minBatchEfficiency: opts.minBatchEfficiency ?? ENGINE_DEFAULTS.minBatchEfficiency,
      padId,
      paddingSide: tokenizer.paddingSide,
      output: output.name,
      ...(fromToken ? { lastTokenColumns: fromToken } : {}),
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
      scoreTemplate: resolveScoreTemplate(opts.scoreTemplate, config),
      autoTruncate: opts.autoTruncate ?? false,
      maxInputChars: opts.maxInputChars ?? ENGINE_DEFAULTS.maxInputChars,
      maxRequestTokens: opts.maxRequestTokens ?? ENGINE_DEFAULTS.maxRequestTokens,
      vocabSize,
      warn: opts.onWarning ?? defaultWarning,
      onnxPath: folder.onnxPath,
    });
  }

  /**
   * The vocabulary ids of `classifier_from_token` when a classifier is read from a causal LM's
   * logits (no sequence `logits` output); null otherwise.
   */
  private static classifierColumns(
    kind: string,
    config: ModelConfig,
    tokenizer: TextTokenizer,
    backend: Backend,
  ): number[] | null {
    const tokens = kind === "classify" ? classifierFromToken(config) : null;
    if (!tokens || backend.outputs.some((o) => o.kind === "sequence_logits")) return null;
    return tokens.map((t) => {
      const id = tokenizer.tokenId(t);
      if (id === null) {
        throw new ModelConfigError(
          `classifier_from_token: '${t}' is not a token of this tokenizer`,
        );
      }
      return id;
    });
  }

  get tasks(): PoolingTask[] {
    return this.pooler.tasks;
  }

  /**
   * The sentence-transformers prompt (instruction prefix) named `name`, or the model's
   * `default_prompt_name` when unset; "" when neither. An unknown name is a 400.
   */
  promptText(name?: string | null): string {
    const chosen = name ?? this.defaultPromptName;
    if (!chosen) return "";
    const text = ownValue(this.prompts, chosen);
    if (text === undefined) {
      const known = Object.keys(this.prompts);
      throw new BadRequestError(
        `Unknown prompt_name '${chosen}'; this model has ${known.length ? known.join(", ") : "no prompts"}`,
        "prompt_name",
      );
    }
    return text;
  }

  /** Text prompts with the named (or default) sentence-transformers prompt in front; token ids as they are. */
  withPrompt(prompts: readonly Prompt[], name?: string | null): Prompt[] {
    const prefix = this.promptText(name);
    return prompts.map((p) => (typeof p === "string" && prefix ? prefix + p : p));
  }

  /** Render chat messages with the model's chat template into one text prompt. */
  renderChat(messages: readonly ChatMessage[], opts: ChatOptions = {}): string {
    return renderChat(this.tokenizer.chatTemplate, messages, {
      ...opts,
      specialTokens: this.tokenizer.specialTokens,
    });
  }

  /** Tokenize one prompt, truncating or refusing it by the model's length, with vLLM's messages. */
  tokenize(
    prompt: Prompt,
    opts: PromptOptions = {},
    maxLen = this.maxModelLen,
    tooLong = contextLengthError,
  ): TokenizedPrompt {
    const requested =
      opts.truncatePromptTokens ?? (this.autoTruncate && Number.isFinite(maxLen) ? -1 : null);
    const limit = truncationLimit(requested, maxLen);
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
    if (ids.length > maxLen) throw tooLong(maxLen, ids.length);
    return { ids, typeIds };
  }

  /**
   * Longest prompt a task takes, and the error past it: with chunked processing, embeddings take
   * `max_embed_len` tokens (any length when unset); everything else `max_model_len`.
   */
  promptLimit(task: PoolingTask): {
    maxLen: number;
    tooLong: (max: number, tokens: number) => BadRequestError;
  } {
    const cfg = this.pooler.spec.poolerConfig;
    if (task !== "embed" || !cfg.enableChunkedProcessing)
      return { maxLen: this.maxModelLen, tooLong: contextLengthError };
    return { maxLen: cfg.maxEmbedLen ?? Number.POSITIVE_INFINITY, tooLong: embedLengthError };
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
   * A pair rendered with the score template (LLM rerankers). Over a truncation limit, the
   * document is cut (from `truncationSide`), never the template around it.
   */
  tokenizeTemplated(query: string, document: string, opts: ScoreOptions = {}): TokenizedPrompt {
    const template = this.scoreTemplate!;
    const instruction = opts.instruction ?? null;
    const render = (doc: string) =>
      this.tokenizer.encode(template(query, doc, instruction), { addSpecialTokens: false }).ids;
    const limit = truncationLimit(opts.truncatePromptTokens, this.maxModelLen);
    let ids = render(document);
    if (limit !== undefined && ids.length > limit) {
      const doc = this.tokenizer.encode(document, { addSpecialTokens: false }).ids;
      let keep = doc.length - (ids.length - limit);
      // Re-tokenizing a cut text can merge differently at the edge: cut until it fits.
      while (keep > 0 && ids.length > limit) {
        const kept =
          opts.truncationSide === "left" ? doc.slice(doc.length - keep) : doc.slice(0, keep);
        ids = render(this.tokenizer.decode(kept));
        keep--;
      }
    }
    if (ids.length > this.maxModelLen) throw contextLengthError(this.maxModelLen, ids.length);
    return { ids, typeIds: null };
  }

  /**
   * Run the graph over tokenized prompts through the shared scheduler (cross-request,
   * length-sorted micro-batches) and return each prompt's real-token slice, in input order.
   */
  async forward(
    inputs: readonly TokenizedPrompt[],
    ctx: RunContext = {},
  ): Promise<SequenceOutput[]> {
    checkRequestTokens(inputs, this.maxRequestTokens);
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
    const { maxLen, tooLong } = this.promptLimit(task);
    return tokenizeWithin(prompts, this.maxRequestTokens, (p) =>
      this.tokenize(p, params, maxLen, tooLong),
    );
  }

  async poolTokenized(
    task: PoolingTask,
    tokenized: readonly TokenizedPrompt[],
    params: PoolingParams = {},
    ctx: RunContext = {},
  ): Promise<PooledResult[]> {
    if (tokenized.some((t) => t.ids.length > this.maxModelLen)) {
      return this.poolChunked(task, tokenized, params, ctx);
    }
    const outputs = await this.forward(tokenized, ctx);
    return outputs.map((o, i) => ({
      promptTokenIds: tokenized[i]!.ids,
      output: this.pooler.run(task, o, params),
    }));
  }

  /**
   * Tokenize what `score` runs — each pair for a cross-encoder, else each text — refusing what it
   * refuses (task, parameters, lengths), without running the graph: a request checked this way
   * (a rerank job at submission) is refused exactly as it would be when run.
   */
  tokenizeScore(
    left: readonly string[],
    right: readonly string[],
    opts: ScoreOptions = {},
  ): TokenizedPrompt[] {
    this.pooler.validate("score");
    if (this.scoreMode(opts.scoreMode) === "cosine") {
      if ((opts.instruction ?? null) !== null && !this.scoreTemplate) {
        throw new BadRequestError(
          `instruction needs an LLM reranker with a score template; "${this.modelName}" has none`,
          "instruction",
        );
      }
      if (this.pooler.spec.kind === "classify") {
        return tokenizeWithin(
          pairIndices(left.length, right.length),
          this.maxRequestTokens,
          ([i, j]) =>
            this.scoreTemplate
              ? this.tokenizeTemplated(left[i]!, right[j]!, opts)
              : this.tokenizePair(left[i]!, right[j]!, opts),
        );
      }
    }
    return tokenizeWithin([...left, ...right], this.maxRequestTokens, (t) =>
      this.tokenize(t, opts),
    );
  }

  /**
   * Scores for 1:1, 1:N or N:N pairs: a cross-encoder's activated logit, or the cosine
   * similarity of the two embeddings for an embedding model.
   */
  async score(
    left: readonly string[],
    right: readonly string[],
    opts: ScoreOptions = {},
    ctx: RunContext = {},
  ): Promise<ScoreResult[]> {
    const tokenized = this.tokenizeScore(left, right, opts);
    const pairs = pairIndices(left.length, right.length);
    const mode = this.scoreMode(opts.scoreMode);
    if (mode !== "cosine") return this.scoreByTokens(left.length, tokenized, pairs, mode, ctx);
    if (this.pooler.spec.kind === "classify") {
      const pooled = await this.poolTokenized("score", tokenized, {
        useActivation: opts.useActivation ?? null,
      });
      return pooled.map((p) => ({
        promptTokenIds: p.promptTokenIds,
        score: (p.output as Float32Array)[0]!,
      }));
    }
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

  /**
   * Chunked processing: prompts over `max_model_len` run as chunks of `max_model_len` (all
   * chunks of all prompts share the scheduler's micro-batches), then each prompt's chunks are
   * combined by the pooler; results keep the input order.
   */
  private async poolChunked(
    task: PoolingTask,
    tokenized: readonly TokenizedPrompt[],
    params: PoolingParams,
    ctx: RunContext,
  ): Promise<PooledResult[]> {
    if (task !== "embed") {
      const longest = Math.max(...tokenized.map((t) => t.ids.length));
      throw contextLengthError(this.maxModelLen, longest);
    }
    const owners: number[][] = [];
    const chunks: TokenizedPrompt[] = [];
    tokenized.forEach((t, i) => {
      owners[i] = chunkRanges(t.ids.length, this.maxModelLen).map(([a, b]) => {
        chunks.push({ ids: t.ids.slice(a, b), typeIds: t.typeIds?.slice(a, b) ?? null });
        return chunks.length - 1;
      });
    });
    const outputs = await this.forward(chunks, ctx);
    return tokenized.map((t, i) => {
      const mine = owners[i]!.map((k) => outputs[k]!);
      return {
        promptTokenIds: t.ids,
        output:
          mine.length === 1
            ? this.pooler.run(task, mine[0]!, params)
            : this.pooler.runChunked(mine, params),
      };
    });
  }

  /**
   * `task: "plugin"`: the IO-processor plugin turns `data` into prompts for a pooling task, and
   * the pooled outputs into the response's `data`.
   */
  async runPlugin(
    data: unknown,
    ctx: RunContext = {},
  ): Promise<{ response: unknown; results: PooledResult[] }> {
    const plugin = this.ioProcessor;
    if (!plugin) {
      throw new BadRequestError(
        `Unsupported task: 'plugin'. No IO processor plugin is loaded for "${this.modelName}" (serve it with --io-processor-plugin NAME|MODULE)`,
        "task",
      );
    }
    const view = { modelName: this.modelName, tasks: this.tasks, maxModelLen: this.maxModelLen };
    const input = plugin.parseRequest(data, view);
    const params = input.params ?? {};
    const tokenized = this.prepare(input.task, input.prompts, params);
    const results = await this.poolTokenized(input.task, tokenized, params, ctx);
    return { response: plugin.outputToResponse(results, input, view), results };
  }

  /** The score mode a request gets, refusing modes the model cannot compute. */
  private scoreMode(requested: ScoreMode | null | undefined): ScoreMode {
    if (this.pooler.spec.kind === "classify") {
      if (requested && requested !== "cosine") {
        throw new BadRequestError(
          `score_mode '${requested}' needs an embedding model; "${this.modelName}" is a cross-encoder`,
          "score_mode",
        );
      }
      return "cosine";
    }
    if (requested === "lexical" && !this.pooler.sparse) {
      throw new BadRequestError(
        `score_mode 'lexical' needs a model with a sparse head (bge-m3 with --hf-overrides '{"architectures":["BgeM3EmbeddingModel"]}'); "${this.modelName}" has none`,
        "score_mode",
      );
    }
    return requested ?? (this.pooler.lateInteraction ? "maxsim" : "cosine");
  }

  /** MaxSim over ColBERT token vectors, or the lexical match of sparse weights. */
  private async scoreByTokens(
    leftCount: number,
    tokenized: readonly TokenizedPrompt[],
    pairs: Array<[number, number]>,
    mode: "maxsim" | "lexical",
    ctx: RunContext,
  ): Promise<ScoreResult[]> {
    const outputs = await this.forward(tokenized, ctx);
    const score: (i: number, j: number) => number =
      mode === "maxsim"
        ? (() => {
            const vectors = outputs.map((o) => this.pooler.run("token_embed", o) as Float32Array[]);
            return (i, j) => maxSim(vectors[i]!, vectors[j]!);
          })()
        : (() => {
            const weights = outputs.map((o) =>
              this.pooler.lexical(o, (id) => this.tokenizer.isSpecial(id)),
            );
            return (i, j) => lexicalScore(weights[i]!, weights[j]!);
          })();
    return pairs.map(([i, j]) => ({
      promptTokenIds: [...tokenized[i]!.ids, ...tokenized[leftCount + j]!.ids],
      score: score(i, leftCount + j),
    }));
  }

  /** Sparse (lexical) embeddings: `{tokenId, weight}` per distinct non-special token. */
  async lexical(
    prompts: readonly Prompt[],
    opts: PromptOptions = {},
    ctx: RunContext = {},
  ): Promise<LexicalResult[]> {
    if (!this.pooler.sparse) throw new UnsupportedTaskError("embed_sparse", this.tasks);
    const tokenized = this.prepare("token_classify", prompts, opts);
    return this.lexicalTokenized(tokenized, ctx);
  }

  async lexicalTokenized(
    tokenized: readonly TokenizedPrompt[],
    ctx: RunContext = {},
  ): Promise<LexicalResult[]> {
    const outputs = await this.forward(tokenized, ctx);
    return outputs.map((o, i) => ({
      promptTokenIds: tokenized[i]!.ids,
      weights: this.pooler.lexical(o, (id) => this.tokenizer.isSpecial(id)),
    }));
  }

  async close(): Promise<void> {
    await this.backend.close();
  }
}
