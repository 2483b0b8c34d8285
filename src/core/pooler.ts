import type { ActivationName } from "./activation.js";
import type { EmbeddedChunk } from "./chunked.js";
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
import { checkTaskParameters, type PoolingParams } from "./pooling-params.js";
import type { PoolerKind } from "./runner.js";
import {
  keptRows,
  type PooledOutput,
  type SequenceOutput,
  sparseWeights,
} from "./sequence-output.js";
import { staticSparse, toDense } from "./splade.js";
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
  /** The graph output read; a classifier's may be per-token logits (then pooled here). */
  output?: ModelOutputKind;
  /**
   * `classifier_from_token`: the output holds these tokens' logits, gathered at the last
   * position (`[batch, tokens]`); two tokens make one label.
   */
  fromTokens?: number;
  /** bge-m3's sparse and ColBERT heads, when the architecture enables them. */
  tokenHeads?: TokenHeads | null;
  /**
   * SPLADE: the session reduces the vocabulary logits to each sequence's sparse vector
   * (`SequenceOutput.sparse`); `outputSize` is the vocabulary size.
   */
  splade?: boolean;
  /**
   * Inference-free SPLADE: each token's static (IDF) weight, by token id; a query's sparse vector
   * is its tokens' weights, with no model run.
   */
  staticWeights?: Float32Array | null;
  /** ColBERT: only per-token vectors (the Dense projection of the rows PyLate keeps), and MaxSim. */
  colbert?: boolean;
}

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
    this.tasks = supportedTasks(
      spec.output ?? OUTPUT_OF[spec.kind],
      labels,
      spec.kind === "classify",
    );
    if (spec.kind === "embed" && spec.tokenHeads?.sparse) this.tasks.push("token_classify");
    // vLLM's SPLADE model: embed (the vocabulary-sized vector); its graph has no hidden states.
    if (spec.splade) this.tasks = ["embed", "score"];
    // vLLM's ColBERTModel serves token_embed only; score is late interaction.
    if (spec.colbert) this.tasks = ["token_embed", "score"];
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
    this.checkColumns(returnedTokenIds ?? [], ModelConfigError);
    for (const [i, layer] of spec.dense.entries()) {
      const expected = i === 0 ? spec.outputSize : spec.dense[i - 1]!.outFeatures;
      if (layer.inFeatures !== expected) {
        throw new ModelConfigError(
          `Dense layer ${i} takes ${layer.inFeatures} features, expected ${expected}`,
        );
      }
    }
  }

  private checkColumns(
    columns: readonly number[],
    ErrorType: new (message: string) => Error,
  ): void {
    for (const c of columns) {
      if (!Number.isInteger(c) || c < 0 || c >= this.spec.outputSize) {
        throw new ErrorType(
          `returned_token_ids has ${c}, outside the model's ${this.spec.outputSize} labels`,
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
    return Boolean(this.spec.tokenHeads?.colbert) || this.spec.colbert === true;
  }

  /** Whether the model gives sparse (lexical) vectors: a sparse head, or SPLADE. */
  get sparse(): boolean {
    return (
      this.spec.kind === "embed" &&
      (Boolean(this.spec.tokenHeads?.sparse) || this.spec.splade === true)
    );
  }

  /**
   * The graph output a task reads when it is not the default one (a three-output bge-m3 graph:
   * ColBERT vectors for token_embed, sparse weights for token_classify and lexical weights).
   */
  readOf(task: PoolingTask | "lexical"): string | undefined {
    const graph = this.spec.tokenHeads?.graphOutputs;
    if (!graph) return undefined;
    if (task === "token_embed") return graph.colbert;
    if (task === "token_classify" || task === "lexical") return graph.sparse;
    return undefined;
  }

  /** An inference-free SPLADE query's output: its tokens' static weights, no model run. */
  staticOutput(tokenIds: readonly number[]): SequenceOutput {
    const weights = this.spec.staticWeights;
    if (!weights) throw new ModelConfigError("This model has no static query weights");
    return {
      states: { data: new Float32Array(0), tokens: 0, dim: this.spec.outputSize },
      tokenIds,
      sparse: staticSparse(tokenIds, weights),
    };
  }

  /** Whether the graph applies bge-m3's heads and normalization itself (a three-output export). */
  private get headsInGraph(): boolean {
    return this.spec.tokenHeads?.sparse === "graph";
  }

  supports(task: PoolingTask): boolean {
    return this.tasks.includes(task);
  }

  /** Throw the documented errors for a task the model lacks or parameters it refuses. */
  validate(task: PoolingTask, params: PoolingParams = {}): void {
    if (!this.supports(task)) throw new UnsupportedTaskError(task, this.tasks);
    checkTaskParameters(task, params);
    if (task === "embed" || task === "token_embed") {
      const colbert = task === "token_embed" ? this.spec.tokenHeads?.colbert : null;
      validateDimensions(
        this.spec.modelName,
        this.spec.config,
        colbert === "graph"
          ? this.spec.outputSize
          : colbert
            ? colbert.outFeatures
            : this.embeddingSize,
        params.dimensions,
      );
    }
    const act = params.useActivation;
    if (this.spec.splade && act !== undefined && act !== null) {
      throw new BadRequestError(
        `use_activation does not apply to a SPLADE model: its vectors are log(1 + relu(logits)) pooled, never normalized`,
        "use_activation",
      );
    }
    if (this.headsInGraph && act === false) {
      throw new BadRequestError(
        `"${this.spec.modelName}" is a bge-m3 graph whose outputs are activated and normalized inside it: use_activation false cannot be served (the safetensors heads can)`,
        "use_activation",
      );
    }
    if (task === "token_classify") {
      if (
        params.stepTagId !== undefined &&
        params.stepTagId !== null &&
        this.spec.poolerConfig.poolingType !== "STEP"
      ) {
        throw new BadRequestError(
          `step_tag_id applies to STEP pooling; this model pools ${this.spec.poolerConfig.poolingType} (serve it with --pooler-config '{"pooling_type":"STEP"}')`,
          "step_tag_id",
        );
      }
      this.checkColumns(params.returnedTokenIds ?? [], BadRequestError);
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

  /** A sequence classifier's logits: the graph's pooled row, or its per-token logits pooled here. */
  private logits(seq: SequenceOutput): Float32Array {
    if (this.spec.fromTokens) return fromTokenLogits(seq.states.data);
    return this.spec.output === "token_logits" ? this.pool(seq.states) : seq.states.data;
  }

  /** Apply the task's pooling and head to one sequence. `score` is pooled as `embed` or `classify`. */
  run(task: PoolingTask, seq: SequenceOutput, params: PoolingParams = {}): PooledOutput {
    const act = this.useActivation(params);
    if (this.spec.splade && (task === "embed" || task === "score")) {
      // vLLM's SPLADE embedding: the vocabulary-sized vector.
      return toDense(seq.sparse!, this.spec.outputSize);
    }
    // A three-output bge-m3 graph: dense_vecs is the normalized CLS vector already.
    if (this.headsInGraph && (task === "embed" || task === "score")) {
      return embeddingHead(seq.states.data, [], this.dimensions(params), false);
    }
    switch (task) {
      case "embed":
        return embeddingHead(this.pool(seq.states), this.spec.dense, this.dimensions(params), act);
      case "token_embed": {
        const heads = this.spec.tokenHeads;
        if (heads?.colbert === "graph") {
          return tokenEmbeddingHead(
            colbertVectors(seq.states, seq.tokenIds, heads),
            [],
            this.dimensions(params),
            false,
          );
        }
        // bge-m3's ColBERT vectors replace the Dense layers of the dense embedding.
        return heads?.colbert
          ? tokenEmbeddingHead(
              colbertVectors(seq.states, seq.tokenIds, heads),
              [],
              this.dimensions(params),
              act,
            )
          : tokenEmbeddingHead(keptRows(seq), this.spec.dense, this.dimensions(params), act);
      }
      case "classify":
        return classifierHead(this.logits(seq), this.activation, act, this.spec.poolerConfig);
      case "score":
        return this.spec.kind === "classify"
          ? classifierHead(this.logits(seq), this.activation, act, this.spec.poolerConfig)
          : embeddingHead(this.pool(seq.states), this.spec.dense, undefined, true);
      case "token_classify": {
        if (this.sparse) {
          return sparseTokenWeights(seq.states, seq.tokenIds, this.spec.tokenHeads!, act).weights;
        }
        const { poolingType } = this.spec.poolerConfig;
        const stepTagId = params.stepTagId ?? this.spec.poolerConfig.stepTagId;
        const columns = params.returnedTokenIds ?? this.spec.poolerConfig.returnedTokenIds;
        const picked =
          poolingType === "STEP" ? stepPool(seq.states, seq.tokenIds, stepTagId) : rows(seq.states);
        return picked.map((r) =>
          classifierHead(selectColumns(r, columns), this.activation, act, this.spec.poolerConfig),
        );
      }
    }
  }

  /**
   * One chunk of a long input through the whole embedding head (Dense, `dimensions`, normalize),
   * with its token count: `mergeChunks` averages them as vLLM's chunked processing does.
   */
  embedChunk(chunk: SequenceOutput, params: PoolingParams = {}): EmbeddedChunk {
    return {
      vector: this.run("embed", chunk, params) as Float32Array,
      tokens: chunk.states.tokens,
    };
  }

  /**
   * A sparse model's lexical weights for one sequence: a SPLADE vector's entries (index = token
   * id); a sparse head's weights with special tokens dropped and repeats max-pooled.
   */
  lexical(seq: SequenceOutput, isSpecial: (id: number) => boolean): LexicalWeight[] {
    if (!this.sparse) throw new UnsupportedTaskError("token_classify", this.tasks);
    if (this.spec.splade) return sparseWeights(seq.sparse!);
    const { weights, tokenIds } = sparseTokenWeights(
      seq.states,
      seq.tokenIds,
      this.spec.tokenHeads!,
      true,
    );
    return lexicalWeights(tokenIds, weights, isSpecial);
  }
}
