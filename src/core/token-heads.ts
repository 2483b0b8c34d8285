import { applyDense, type DenseLayer } from "./dense.js";
import type { ModelConfig } from "./model-config.js";
import { rows, type TokenStates } from "./pooling.js";

/**
 * Per-token heads on top of an encoder's hidden states, as bge-m3 (FlagEmbedding) defines them:
 * `sparse` (hidden → 1, ReLU) gives lexical weights, `colbert` (hidden → dim) ColBERT vectors.
 * `"graph"`: the ONNX graph applies the head itself (bge-m3's three-output exports: `sparse_vecs`
 * holds relu(sparse_linear(h)) per token, `colbert_vecs` the normalized vectors of every token
 * but the first), and its output is read as it is.
 */
export interface TokenHeads {
  sparse: DenseLayer | "graph" | null;
  colbert: DenseLayer | "graph" | null;
  /** The tokens vLLM's BOS/EOS filter drops (bge-m3: `<s>` and `</s>`). */
  bosTokenId: number | null;
  eosTokenId: number | null;
  /** When the graph applies the heads: the outputs holding the sparse weights and ColBERT vectors. */
  graphOutputs?: { sparse: string; colbert: string };
}

/** The architecture name that turns bge-m3's extra heads on, as vLLM. */
export const BGE_M3_ARCHITECTURE = "BgeM3EmbeddingModel";

export function isBgeM3(config: ModelConfig): boolean {
  return (config.architectures ?? []).includes(BGE_M3_ARCHITECTURE);
}

/** Token positions kept after dropping a leading BOS and (when `eos` is given) a trailing EOS. */
export function keptRange(
  tokenIds: readonly number[],
  bos: number | null,
  eos: number | null,
): [number, number] {
  let start = 0;
  let end = tokenIds.length;
  if (bos !== null && tokenIds[0] === bos) start = 1;
  if (eos !== null && end > start && tokenIds[end - 1] === eos) end--;
  return [start, end];
}

/** ColBERT multi-vectors, before normalization: the head on every token but the first (BOS). */
export function colbertVectors(
  states: TokenStates,
  tokenIds: readonly number[],
  heads: TokenHeads,
): Float32Array[] {
  const head = heads.colbert!;
  // The graph's output has dropped the first position already.
  if (head === "graph") return rows(states);
  const [start, end] = keptRange(tokenIds, heads.bosTokenId, null);
  return rows(states)
    .slice(start, end)
    .map((h) => applyDense(head, h));
}

/**
 * Sparse weights, one per token with BOS and EOS dropped (vLLM's `token_classify` output):
 * ReLU of the head when `activate`, its raw output otherwise.
 */
export function sparseTokenWeights(
  states: TokenStates,
  tokenIds: readonly number[],
  heads: TokenHeads,
  activate: boolean,
): { weights: Float32Array; tokenIds: number[] } {
  const [start, end] = keptRange(tokenIds, heads.bosTokenId, heads.eosTokenId);
  const head = heads.sparse!;
  const kept = rows(states).slice(start, end);
  const weights = Float32Array.from(kept, (h) => {
    // The graph's sparse_vecs are relu(sparse_linear(h)) already.
    if (head === "graph") return h[0]!;
    const w = applyDense(head, h)[0]!;
    return activate ? Math.max(0, w) : w;
  });
  return { weights, tokenIds: tokenIds.slice(start, end) };
}

/** One entry of a sparse (lexical) embedding. */
export interface LexicalWeight {
  tokenId: number;
  weight: number;
}

/**
 * FlagEmbedding's lexical weights: special tokens dropped, the largest weight kept for a token
 * that repeats, zero weights dropped; sorted by token id.
 */
export function lexicalWeights(
  tokenIds: readonly number[],
  weights: ArrayLike<number>,
  isSpecial: (id: number) => boolean,
): LexicalWeight[] {
  const best = new Map<number, number>();
  tokenIds.forEach((id, i) => {
    const w = weights[i]!;
    if (isSpecial(id) || !(w > 0)) return;
    if (w > (best.get(id) ?? 0)) best.set(id, w);
  });
  return [...best.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([tokenId, weight]) => ({ tokenId, weight }));
}

/** bge-m3's lexical matching score: Σ over shared tokens of w_q · w_d. */
export function lexicalScore(a: readonly LexicalWeight[], b: readonly LexicalWeight[]): number {
  const other = new Map(b.map((e) => [e.tokenId, e.weight]));
  let s = 0;
  for (const e of a) {
    const w = other.get(e.tokenId);
    if (w !== undefined) s += e.weight * w;
  }
  return s;
}
