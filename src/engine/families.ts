import {
  type ColbertSettings,
  type ColbertSpec,
  idfWeights,
  isBgeM3,
  isSpladeArchitecture,
  type ModelConfig,
  ModelConfigError,
  resolveColbert,
  SPLADE_DEFAULTS,
  type SpladePoolingConfig,
} from "../core/index.js";
import type { ModelFolder } from "./folder.js";
import type { ModelOutput } from "./onnx-model.js";
import type { PromptRole } from "./prompts.js";
import type { TextTokenizer } from "./tokenizer.js";

/** bge-m3's three outputs, when the graph applies its heads itself. */
export interface M3Outputs {
  dense: ModelOutput;
  sparse: ModelOutput;
  colbert: ModelOutput;
}

/**
 * The model families whose serving differs from their architecture's default, as the folder and
 * the graph show them: SPLADE (vocabulary logits reduced to sparse vectors), bge-m3 as one graph,
 * and ColBERT checkpoints.
 */
export interface Family {
  /** SPLADE: its pooling (sentence-transformers' `SpladePooling`, or vLLM's architecture). */
  splade: SpladePoolingConfig | null;
  /** The graph's per-token vocabulary logits (SPLADE reads them). */
  logits: ModelOutput | null;
  m3: M3Outputs | null;
  colbert: ColbertSettings | null;
}

/** Recognize the family from the folder's modules, the (overridden) config and the graph's outputs. */
export function detectFamily(
  folder: ModelFolder,
  config: ModelConfig,
  outputs: readonly ModelOutput[],
): Family {
  const byKind = (kind: ModelOutput["kind"]) => outputs.find((o) => o.kind === kind) ?? null;
  const [dense, sparse, colbert] = [byKind("m3_dense"), byKind("m3_sparse"), byKind("m3_colbert")];
  const some = [dense, sparse, colbert].filter((o) => o !== null);
  if (some.length > 0 && some.length < 3) {
    throw new ModelConfigError(
      `The ONNX graph has ${some.map((o) => o.name).join(", ")} but not all three of bge-m3's outputs (dense_vecs, sparse_vecs, colbert_vecs)`,
    );
  }
  const splade = folder.splade?.pooling ?? (isSpladeArchitecture(config) ? SPLADE_DEFAULTS : null);
  const logits = byKind("token_logits");
  if (splade && !logits) {
    throw new ModelConfigError(
      `SPLADE pools a masked LM's vocabulary logits: the ONNX graph has no per-token logits output (outputs: ${outputs.map((o) => o.name).join(", ") || "none"})`,
    );
  }
  return {
    splade,
    logits,
    m3: dense && sparse && colbert ? { dense, sparse, colbert } : null,
    colbert: folder.colbert,
  };
}

/** How the family's prompts are prepared: the engine's `PrepareParts` for it. */
export interface FamilyPrompts {
  defaultRole: PromptRole | null;
  colbert: ColbertSpec | null;
  staticQueries: boolean;
  refuseSpecialOnly: boolean;
}

/**
 * Inference-free SPLADE's query weights by token id: the Router's `SparseStaticEmbedding`
 * weights, else the folder's `idf.json`; null when the model has neither.
 */
export function staticQueryWeights(
  family: Family,
  folder: ModelFolder,
  tokenizer: TextTokenizer,
  vocabSize: number,
): Float32Array | null {
  if (!family.splade) return null;
  const weights =
    folder.splade?.queryWeights ??
    (folder.idf !== undefined
      ? idfWeights(
          folder.idf,
          (t) => tokenizer.tokenId(t),
          vocabSize,
          folder.reader.locate("idf.json"),
        )
      : null);
  if (!weights && folder.splade?.inferenceFreeQueries) {
    throw new ModelConfigError(
      `The Router's query route is a SparseStaticEmbedding, but ${folder.reader.locate("")} has neither its model.safetensors nor idf.json`,
    );
  }
  return weights;
}

export function familyPrompts(
  family: Family,
  folder: ModelFolder,
  config: ModelConfig,
  tokenizer: TextTokenizer,
  staticQueries: boolean,
): FamilyPrompts {
  const colbert = family.colbert
    ? resolveColbert(family.colbert, {
        tokenId: (t) => tokenizer.tokenId(t),
        mask: tokenizer.specialTokenId("mask_token"),
        eos: tokenizer.specialTokenId("eos_token"),
        pad: tokenizer.padTokenId,
        unk: tokenizer.unkTokenId,
      })
    : null;
  const defaultRole: PromptRole | null = colbert
    ? "document"
    : staticQueries
      ? (folder.splade?.defaultRoute ?? "document")
      : null;
  return {
    defaultRole,
    colbert,
    staticQueries,
    refuseSpecialOnly:
      family.splade !== null ||
      family.m3 !== null ||
      colbert !== null ||
      isBgeM3(config) ||
      config.model_type === "modernbert",
  };
}
