import type { ActivationName } from "./activation.js";
import { weightedMean } from "./chunked.js";
import { fromTokenLabels, fromTokenLogits } from "./classifier-from-token.js";
import type { DenseLayer } from "./dense.js";
import { BadRequestError, ModelConfigError, UnsupportedTaskError } from "./errors.js";
import {
  classifierActivation,
  classifierHead,
  embeddingHead,
  tokenEmbeddingHead,
} from "./heads.js";
import { validateDimensions } from "./matryoshka.js";
import { type ModelConfig, numLabels } from "./model-config.js";
import type { PoolerConfig, PoolingType } from "./pooler-config.js";
import {
  clsPool,
  lastPool,
  meanPool,
  rows,
  selectColumns,
  stepPool,
  type TokenStates,
} from "./pooling.js";
import type { PoolerKind } from "./runner.js";
import { type ModelOutputKind, type PoolingTask, supportedTasks } from "./tasks.js";
import {
  colbertVectors,
  type LexicalWeight,
  lexicalWeights,
  sparseTokenWeights,
  type TokenHeads,
} from "./token-heads.js";

export interface PoolerSpec {
  modelName: string;
  config: ModelConfig;
  kind: PoolerKind;
  poolerConfig: PoolerConfig & { poolingType: PoolingType; useActivation: boolean };
  dense: DenseLayer[];
  /** Last dimension of the graph output (hidden size or number of labels). */
  outputSize: number;
  /** `classifier_from_token`: the graph output holds these tokens' logits at the last position. */
  fromTokens?: number;
  /** bge-m3's sparse and ColBERT heads, when the architecture enables them. */
  tokenHeads?: TokenHeads | null;
}

/** Per-request pooling parameters; null/undefined mean "the model's default". */
export interface PoolingParams {
  dimensions?: number | null;
  useActivation?: boolean | null;
  /** STEP pooling, per request (vLLM's PoolingParams): the step tag's token id. */
  stepTagId?: number | null;
  /** STEP pooling, per request: which label columns to keep. */
  returnedTokenIds?: readonly number[] | null;
}

/** One sequence's slice of the graph output: its real tokens only, and their ids. */
export interface SequenceOutput {
  states: TokenStates;
  tokenIds: readonly number[];
}

export type PooledOutput = Float32Array | Float32Array[];

const OUTPUT_OF: Record<PoolerKind, ModelOutputKind> = {
  embed: "hidden",
  classify: "sequence_logits",
  token_classify: "token_logits",
};

/** Pooling methods and heads composed per task for one model (vLLM's DispatchPooler). */
export class Pooler {
  readonly tasks: PoolingTask[];
  readonly spec: PoolerSpec;
  private readonly activation: ActivationName;

  constructor(spec: PoolerSpec) {
    this.spec = spec;
    const labels =
      spec.kind === "embed"
        ? 0
        : spec.fromTokens
          ? fromTokenLabels(spec.fromTokens)
          : spec.outputSize;
    this.tasks = supportedTasks(OUTPUT_OF[spec.kind], labels);
    if (spec.kind === "embed" && spec.tokenHeads?.sparse) this.tasks.push("token_classify");
    this.activation = classifierActivation({
      ...spec.config,
      num_labels: labels || numLabels(spec.config),
    });
    const { poolingType, returnedTokenIds } = spec.poolerConfig;
    if (spec.kind === "embed" && (poolingType === "ALL" || poolingType === "STEP")) {
      throw new ModelConfigError(
        `pooling_type ${poolingType} gives one vector per token; an embedding model needs CLS, MEAN or LAST (token vectors come from the token_embed task)`,
      );
    }
    const bad = this.badColumn(returnedTokenIds);
    if (bad !== null) {
      throw new ModelConfigError(
        `returned_token_ids has ${bad}, outside the model's ${spec.outputSize} labels`,
      );
    }
    for (const [i, layer] of spec.dense.entries()) {
      const expected = i === 0 ? spec.outputSize : spec.dense[i - 1]!.outFeatures;
      if (layer.inFeatures !== expected) {
        throw new ModelConfigError(
          `Dense layer ${i} takes ${layer.inFeatures} features, expected ${expected}`,
        );
      }
    }
  }

  /** Size of an embedding before any matryoshka truncation. */
  get embeddingSize(): number {
    const last = this.spec.dense.at(-1);
    return last ? last.outFeatures : this.spec.outputSize;
  }

  /** Whether `token_embed` gives ColBERT vectors and `score` defaults to MaxSim. */
  get lateInteraction(): boolean {
    return Boolean(this.spec.tokenHeads?.colbert);
  }

  /** Whether the model has a sparse (lexical) head. */
  get sparse(): boolean {
    return this.spec.kind === "embed" && Boolean(this.spec.tokenHeads?.sparse);
  }

  private badColumn(columns: readonly number[] | null | undefined): number | null {
    for (const c of columns ?? []) if (c < 0 || c >= this.spec.outputSize) return c;
    return null;
  }

  supports(task: PoolingTask): boolean {
    return this.tasks.includes(task);
  }

  /** Throw the documented errors for a task the model lacks or parameters it refuses. */
  validate(task: PoolingTask, params: PoolingParams = {}): void {
    if (!this.supports(task)) throw new UnsupportedTaskError(task, this.tasks);
    if (task === "embed" || task === "token_embed") {
      const colbert = this.spec.tokenHeads?.colbert;
      const native =
        task === "embed" ? this.embeddingSize : (colbert?.outFeatures ?? this.spec.outputSize);
      validateDimensions(this.spec.modelName, this.spec.config, native, params.dimensions);
    }
    const bad = this.badColumn(params.returnedTokenIds);
    if (bad !== null) {
      throw new BadRequestError(
        `returned_token_ids has ${bad}, outside the model's ${this.spec.outputSize} labels`,
        "returned_token_ids",
      );
    }
  }

  private useActivation(params: PoolingParams): boolean {
    return params.useActivation ?? this.spec.poolerConfig.useActivation;
  }

  private dimensions(params: PoolingParams): number | undefined {
    return params.dimensions ?? this.spec.poolerConfig.dimensions;
  }

  private pool(states: TokenStates): Float32Array {
    switch (this.spec.poolerConfig.poolingType) {
      case "CLS":
        return clsPool(states);
      case "MEAN":
        return meanPool(states);
      default:
        return lastPool(states);
    }
  }

  /** Apply the task's pooling and head to one sequence. `score` is pooled as `embed` or `classify`. */
  run(task: PoolingTask, seq: SequenceOutput, params: PoolingParams = {}): PooledOutput {
    const act = this.useActivation(params);
    switch (task) {
      case "embed":
        return embeddingHead(this.pool(seq.states), this.spec.dense, this.dimensions(params), act);
      case "token_embed": {
        const heads = this.spec.tokenHeads;
        const vectors = heads?.colbert
          ? colbertVectors(seq.states, seq.tokenIds, heads)
          : rows(seq.states);
        return tokenEmbeddingHead(vectors, params.dimensions ?? undefined, act);
      }
      case "classify":
        return classifierHead(this.logits(seq), this.activation, act);
      case "score":
        return this.spec.kind === "classify"
          ? classifierHead(this.logits(seq), this.activation, act)
          : embeddingHead(this.pool(seq.states), this.spec.dense, undefined, true);
      case "token_classify": {
        if (this.sparse)
          return sparseTokenWeights(seq.states, seq.tokenIds, this.spec.tokenHeads!, act).weights;
        const cfg = this.spec.poolerConfig;
        const stepTagId = params.stepTagId ?? cfg.stepTagId;
        const returnedTokenIds = params.returnedTokenIds ?? cfg.returnedTokenIds;
        const step = cfg.poolingType === "STEP" || (params.stepTagId ?? null) !== null;
        const picked = step ? stepPool(seq.states, seq.tokenIds, stepTagId) : rows(seq.states);
        return picked.map((r) =>
          classifierHead(selectColumns(r, returnedTokenIds), this.activation, act),
        );
      }
    }
  }

  private logits(seq: SequenceOutput): ArrayLike<number> {
    return this.spec.fromTokens ? fromTokenLogits(seq.states.data) : seq.states.data;
  }

  /**
   * `embed` over the chunks of one long input: each chunk pooled, the pooled vectors averaged
   * weighted by chunk token counts, then the embedding head (Dense, dimensions, normalize).
   */
  runChunked(chunks: readonly SequenceOutput[], params: PoolingParams = {}): Float32Array {
    const pooled = chunks.map((c) => this.pool(c.states));
    const mean = weightedMean(
      pooled,
      chunks.map((c) => c.states.tokens),
    );
    return embeddingHead(
      mean,
      this.spec.dense,
      this.dimensions(params),
      this.useActivation(params),
    );
  }

  /** A sparse model's lexical weights for one sequence (special tokens dropped, repeats max-pooled). */
  lexical(seq: SequenceOutput, isSpecial: (id: number) => boolean): LexicalWeight[] {
    if (!this.sparse) throw new UnsupportedTaskError("token_classify", this.tasks);
    const { weights, tokenIds } = sparseTokenWeights(
      seq.states,
      seq.tokenIds,
      this.spec.tokenHeads!,
      true,
    );
    return lexicalWeights(tokenIds, weights, isSpecial);
  }
}
