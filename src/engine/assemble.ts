import {
  type Convert,
  classifierFromToken,
  derivedMaxModelLen,
  isDecoder,
  isProcessRewardModel,
  type JsonObject,
  type ModelConfig,
  ModelConfigError,
  type ModelOutputKind,
  outputForKind,
  Pooler,
  type PoolerConfig,
  type PoolerKind,
  parsePoolerConfig,
  type Runner,
  resolvePoolerConfig,
  resolvePoolerKind,
  spladeReduce,
  type TokenHeads,
} from "../core/index.js";
import type { Backend } from "./backend.js";
import { padBatch } from "./batch.js";
import {
  defaultBatchTokensPerRequest,
  defaultMaxBatchTokens,
  ENGINE_DEFAULTS,
} from "./defaults.js";
import { Engine } from "./engine.js";
import { detectFamily, type Family, familyPrompts, staticQueryWeights } from "./families.js";
import type { ModelFolder } from "./folder.js";
import { checkConfigAgainstGraph, type GraphCheckMemo } from "./graph-limits.js";
import type { IOProcessor } from "./io-processor.js";
import type { ModelOutput } from "./onnx-model.js";
import { Scheduler, type SchedulerRead } from "./scheduler.js";
import { resolveScoreTemplate } from "./score-template.js";
import { readTokenHeads } from "./token-heads.js";
import type { TextTokenizer } from "./tokenizer.js";

/**
 * What assembling an engine reads, in any runtime. The Node loader's `EngineOptions`
 * (`node/load.ts`) adds where the model comes from and how its session runs.
 */
export interface AssembleOptions {
  /** The model as named by the caller (a folder, a pinned URI, a Hub id): the default served name. */
  model: string;
  /** Name used in responses and messages; defaults to `model`. */
  servedModelName?: string;
  runner?: Runner;
  convert?: Convert;
  /** vLLM's `--pooler-config`, camelCase or snake_case keys. */
  poolerConfig?: PoolerConfig | JsonObject;
  maxModelLen?: number;
  /**
   * TEI's `--auto-truncate`: a prompt over the limit is cut (right side, special tokens kept)
   * instead of refused, when the request does not set its own truncation.
   */
  autoTruncate?: boolean;
  /** Most sequences in one ONNX run. */
  maxBatchSize?: number;
  /** Most padded tokens (longest × count) in one ONNX run. Default: `defaultMaxBatchTokens` of the device. */
  maxBatchTokens?: number;
  /**
   * Most tokens one request puts into one ONNX run: a larger request runs as several,
   * interleaved with other requests', which wait for about one such share, not the whole request.
   * Default: a quarter of `maxBatchTokens`.
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
  /**
   * How `score` renders a pair for an LLM reranker: `qwen3_reranker`, or a Jinja template whose
   * `messages` are the instruction (role system), the query and the document. Default: the
   * qwen3_reranker template when `config.json` has `is_original_qwen3_reranker`.
   */
  scoreTemplate?: string | null;
  /** Told how long each load phase took (fetch, verify, session, tokenizer, first_run), in ms. */
  onPhase?: (phase: LoadPhase, ms: number) => void;
  /** Deprecation and compatibility warnings (default: `process.emitWarning` where there is one). */
  onWarning?: (message: string) => void;
}

export type LoadPhase =
  | "fetch"
  | "verify"
  | "mapped_weights"
  | "session"
  | "tokenizer"
  | "first_run";

/** Where warnings go when the caller gives no `onWarning`: Node's warnings, else the console. */
export function defaultWarning(message: string): void {
  const proc = (globalThis as { process?: { emitWarning?: (m: string, type: string) => void } })
    .process;
  if (proc?.emitWarning) proc.emitWarning(message, "DeprecationWarning");
  else console.warn(message);
}

/**
 * The vocabulary ids of `classifier_from_token` when a classifier is read from a causal LM's
 * logits (no sequence `logits` output); null otherwise.
 */
function classifierColumns(
  kind: PoolerKind,
  config: ModelConfig,
  tokenizer: TextTokenizer,
  backend: Backend,
): number[] | null {
  const tokens = kind === "classify" ? classifierFromToken(config) : null;
  if (!tokens || backend.outputs.some((o) => o.kind === "sequence_logits")) return null;
  return tokens.map((t) => {
    const id = tokenizer.tokenId(t);
    if (id === null) {
      throw new ModelConfigError(`classifier_from_token: '${t}' is not a token of this tokenizer`);
    }
    return id;
  });
}

interface Pooling {
  pooler: Pooler;
  output: ModelOutput;
  padId: number;
  /** `classifier_from_token`'s columns, gathered at the last token. */
  fromToken: number[] | null;
  family: Family;
}

/** The pooler kind and the graph output it reads: the family's when it decides them. */
function kindAndOutput(
  opts: AssembleOptions,
  config: ModelConfig,
  backend: Backend,
  family: Family,
): { kind: PoolerKind; output: ModelOutput; outputKind: ModelOutputKind } {
  // SPLADE reads the vocabulary logits; a bge-m3 graph its dense_vecs (by default).
  if (family.splade) return { kind: "embed", output: family.logits!, outputKind: "token_logits" };
  if (family.m3) return { kind: "embed", output: family.m3.dense, outputKind: "hidden" };
  const kinds = backend.outputs.map((o) => o.kind);
  const kind = resolvePoolerKind(config, kinds, opts.runner, opts.convert);
  const outputKind = outputForKind(kind, kinds)!;
  return { kind, output: backend.outputs.find((o) => o.kind === outputKind)!, outputKind };
}

/** bge-m3's heads: applied by the graph, or read from safetensors beside it (the override). */
async function tokenHeadsOf(
  family: Family,
  folder: ModelFolder,
  config: ModelConfig,
  tokenizer: TextTokenizer,
  outputSize: number,
): Promise<TokenHeads | null> {
  const bos = tokenizer.tokenId(tokenizer.specialTokens.cls_token ?? "") ?? null;
  const eos = tokenizer.tokenId(tokenizer.specialTokens.eos_token ?? "") ?? null;
  if (family.m3) {
    const id = (v: unknown, fallback: number | null) => (typeof v === "number" ? v : fallback);
    return {
      sparse: "graph",
      colbert: "graph",
      bosTokenId: id(config.bos_token_id, bos),
      eosTokenId: id(config.eos_token_id, eos),
      graphOutputs: { sparse: family.m3.sparse.name, colbert: family.m3.colbert.name },
    };
  }
  if (family.splade) return null;
  return readTokenHeads(folder.reader, config, outputSize, { bos, eos });
}

/** The pooler: its task from the family, the architecture and the graph, its width from one probe run. */
async function resolvePooling(
  opts: AssembleOptions,
  folder: ModelFolder,
  config: ModelConfig,
  tokenizer: TextTokenizer,
  backend: Backend,
): Promise<Pooling> {
  const family = detectFamily(folder, config, backend.outputs);
  const { kind, output, outputKind } = kindAndOutput(opts, config, backend, family);
  if (
    family.colbert &&
    (kind !== "embed" || outputKind !== "hidden" || folder.dense.length === 0)
  ) {
    throw new ModelConfigError(
      "A ColBERT checkpoint is an encoder (last_hidden_state) with its projection beside it (PyLate's 1_Dense, or linear.weight in a Stanford checkpoint's model.safetensors): this folder lacks one",
    );
  }
  const fromToken = classifierColumns(kind, config, tokenizer, backend);
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
  const tokenHeads =
    kind === "embed" ? await tokenHeadsOf(family, folder, config, tokenizer, outputSize) : null;
  const pooler = new Pooler({
    modelName: opts.servedModelName ?? opts.model,
    config,
    kind,
    poolerConfig,
    dense: folder.dense,
    outputSize,
    tokenHeads,
    splade: family.splade !== null,
    staticWeights: staticQueryWeights(family, folder, tokenizer, outputSize),
    colbert: family.colbert !== null,
    // Gathered at the last position: one row of the tokens' logits per sequence.
    ...(fromToken ? { fromTokens: fromToken.length } : {}),
    output: fromToken ? "sequence_logits" : outputKind,
  });
  return { pooler, output, padId, fromToken, family };
}

/** The scheduler's reads besides the default output: a bge-m3 graph's sparse and ColBERT outputs. */
function familyReads(family: Family): Record<string, SchedulerRead> {
  if (!family.m3) return {};
  const { sparse, colbert } = family.m3;
  return {
    [sparse.name]: { name: sparse.name, perToken: true },
    [colbert.name]: { name: colbert.name },
  };
}

/** `--max-model-len`, refused above what the model takes; the model's own length when unset. */
function maxModelLenOf(
  opts: AssembleOptions,
  config: ModelConfig,
  folder: ModelFolder,
  tokenizer: TextTokenizer,
): number {
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
  return opts.maxModelLen ?? derived;
}

/**
 * Build an engine from a parsed folder and a started backend, in any runtime: the Node loader
 * (`node/load.ts`) and the edge Worker's local model both come here. `graphChecks` remembers the
 * config-against-graph checks that passed for this ONNX file.
 */
export async function assembleEngine(
  opts: AssembleOptions,
  folder: ModelFolder,
  config: ModelConfig,
  tokenizer: TextTokenizer,
  backend: Backend,
  extras: { graphChecks?: GraphCheckMemo; ioProcessor?: IOProcessor | null } = {},
): Promise<Engine> {
  const { pooler, output, padId, fromToken, family } = await resolvePooling(
    opts,
    folder,
    config,
    tokenizer,
    backend,
  );
  const maxModelLen = maxModelLenOf(opts, config, folder, tokenizer);
  const vocabSize = typeof config.vocab_size === "number" ? config.vocab_size : tokenizer.vocabSize;
  await checkConfigAgainstGraph(
    { backend, output: output.name, padId, side: tokenizer.paddingSide },
    { maxModelLen, vocabSize },
    extras.graphChecks,
  );
  const maxBatchTokens = opts.maxBatchTokens ?? defaultMaxBatchTokens(backend.device);
  const scheduler = new Scheduler(backend, {
    maxBatchSize: opts.maxBatchSize ?? ENGINE_DEFAULTS.maxBatchSize,
    maxBatchTokens,
    quadraticFrom: ENGINE_DEFAULTS.quadraticFrom,
    maxBatchTokensPerRequest:
      opts.maxBatchTokensPerRequest ?? defaultBatchTokensPerRequest(maxBatchTokens),
    maxConcurrentRequests: opts.maxConcurrentRequests ?? ENGINE_DEFAULTS.maxConcurrentRequests,
    minBatchEfficiency: opts.minBatchEfficiency ?? ENGINE_DEFAULTS.minBatchEfficiency,
    padId,
    paddingSide: tokenizer.paddingSide,
    output: output.name,
    ...(fromToken ? { lastTokenColumns: fromToken } : {}),
    ...(family.splade ? { splade: spladeReduce(family.splade, config) } : {}),
    reads: familyReads(family),
  });
  return new Engine({
    modelName: opts.servedModelName ?? opts.model,
    config,
    maxModelLen,
    tokenizer,
    pooler,
    backend,
    scheduler,
    prompts: folder.prompts,
    defaultPromptName: folder.defaultPromptName,
    scoreTemplate: resolveScoreTemplate(opts.scoreTemplate, config),
    autoTruncate: opts.autoTruncate ?? false,
    maxInputChars: opts.maxInputChars ?? ENGINE_DEFAULTS.maxInputChars,
    maxRequestTokens: opts.maxRequestTokens ?? ENGINE_DEFAULTS.maxRequestTokens,
    vocabSize,
    warn: opts.onWarning ?? defaultWarning,
    onnxPath: folder.onnxPath,
    ioProcessor: extras.ioProcessor ?? null,
    ...familyPrompts(family, folder, config, tokenizer, pooler.spec.staticWeights != null),
  });
}
