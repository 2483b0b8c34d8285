/**
 * SPLADE sparse embeddings, as sentence-transformers' `SpladePooling` and vLLM's
 * `SPLADESparsePooler` compute them from a masked-LM's vocabulary logits. No imports: the session
 * worker reduces logits with it before anything leaves its thread.
 */

/** `SpladePooling.pooling_strategy`: max (SPLADE v2 and later) or sum (the original SPLADE). */
export type SpladePoolingStrategy = "max" | "sum";

/**
 * `SpladePooling.activation_function`: `relu` gives log(1 + relu(x)); `log1p_relu` (OpenSearch's
 * models) applies log1p once more.
 */
export type SpladeActivation = "relu" | "log1p_relu";

export interface SpladeReduce {
  pooling: SpladePoolingStrategy;
  activation: SpladeActivation;
  /**
   * vLLM's `remove_cls_sep`: a first token equal to `clsTokenId` and a last one equal to
   * `sepTokenId` are left out (only when `config.json` names them, as vLLM reads them).
   */
  clsTokenId: number | null;
  sepTokenId: number | null;
}

/** A sparse vector: ascending indices and their non-zero values. */
export interface SparseVector {
  indices: Int32Array;
  values: Float32Array;
}

/** The rows `[start, end)` of one sequence that SPLADE pools, after vLLM's [CLS]/[SEP] removal. */
export function spladeRows(
  tokenIds: ArrayLike<number>,
  reduce: Pick<SpladeReduce, "clsTokenId" | "sepTokenId">,
): [number, number] {
  let start = 0;
  let end = tokenIds.length;
  if (reduce.clsTokenId !== null && end > 0 && tokenIds[0] === reduce.clsTokenId) start = 1;
  if (reduce.sepTokenId !== null && end > start && tokenIds[end - 1] === reduce.sepTokenId) end--;
  return [start, end];
}

/**
 * Pool vocabulary logits into a sparse vector: `log1p(relu(x))` (twice log1p for `log1p_relu`),
 * max or sum over the rows `rows` of `logits` (row-major `[*, vocab]`, `rowStart` the offset of
 * the sequence's first row). Only the non-zero entries are returned.
 */
export function spladePool(
  logits: Float32Array,
  vocab: number,
  rowStart: number,
  rows: number,
  reduce: Pick<SpladeReduce, "pooling" | "activation">,
  acc: Float32Array = new Float32Array(vocab),
): SparseVector {
  acc.fill(0);
  const twice = reduce.activation === "log1p_relu";
  const sum = reduce.pooling === "sum";
  for (let r = 0; r < rows; r++) {
    const base = (rowStart + r) * vocab;
    for (let v = 0; v < vocab; v++) {
      const x = logits[base + v]!;
      if (!(x > 0)) continue;
      let y = Math.log1p(x);
      if (twice) y = Math.log1p(y);
      if (sum) acc[v]! += y;
      else if (y > acc[v]!) acc[v] = y;
    }
  }
  return nonZero(acc);
}

/** The non-zero entries of a dense vector. */
export function nonZero(dense: ArrayLike<number>): SparseVector {
  let n = 0;
  for (let i = 0; i < dense.length; i++) if (dense[i] !== 0) n++;
  const indices = new Int32Array(n);
  const values = new Float32Array(n);
  let k = 0;
  for (let i = 0; i < dense.length; i++) {
    const x = dense[i]!;
    if (x === 0) continue;
    indices[k] = i;
    values[k++] = x;
  }
  return { indices, values };
}

/** A sparse vector as a dense one of `size` entries. */
export function toDense(v: SparseVector, size: number): Float32Array {
  const out = new Float32Array(size);
  for (let k = 0; k < v.indices.length; k++) out[v.indices[k]!] = v.values[k]!;
  return out;
}

/** Dot product of two sparse vectors (both with ascending indices). */
export function sparseDot(a: SparseVector, b: SparseVector): number {
  let i = 0;
  let j = 0;
  let s = 0;
  while (i < a.indices.length && j < b.indices.length) {
    const x = a.indices[i]!;
    const y = b.indices[j]!;
    if (x === y) s += a.values[i++]! * b.values[j++]!;
    else if (x < y) i++;
    else j++;
  }
  return s;
}

/** Cosine similarity of two sparse vectors. */
export function sparseCosine(a: SparseVector, b: SparseVector): number {
  const na = Math.sqrt(sparseDot(a, a));
  const nb = Math.sqrt(sparseDot(b, b));
  return sparseDot(a, b) / Math.max(na * nb, 1e-12);
}

/**
 * Inference-free SPLADE's query side (sentence-transformers' `SparseStaticEmbedding`): each token
 * present in the query (tokenized without special tokens) weighs its static weight, usually its
 * IDF; tokens without a weight are left out. No model runs.
 */
export function staticSparse(tokenIds: readonly number[], weights: Float32Array): SparseVector {
  const present = [...new Set(tokenIds)].filter((id) => id >= 0 && id < weights.length);
  present.sort((a, b) => a - b);
  const kept = present.filter((id) => weights[id] !== 0);
  return {
    indices: Int32Array.from(kept),
    values: Float32Array.from(kept, (id) => weights[id]!),
  };
}
