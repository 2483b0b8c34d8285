import { rows, type TokenStates } from "./pooling.js";
import type { SparseVector } from "./splade.js";
import type { LexicalWeight } from "./token-heads.js";

/** One sequence's slice of the graph output: its real tokens only, and their ids. */
export interface SequenceOutput {
  states: TokenStates;
  tokenIds: readonly number[];
  /** A read reduced in the session (SPLADE): the sequence's sparse vector; `states` is empty. */
  sparse?: SparseVector;
  /** The rows that are token vectors (ColBERT documents leave out their skiplist), else all. */
  keep?: readonly number[] | null;
}

export type PooledOutput = Float32Array | Float32Array[];

/** The rows of a sequence that are token vectors. */
export function keptRows(seq: SequenceOutput): Float32Array[] {
  const all = rows(seq.states);
  return seq.keep ? seq.keep.map((i) => all[i]!) : all;
}

/** A sparse vector as lexical weights (index = token id). */
export function sparseWeights(v: SparseVector): LexicalWeight[] {
  return Array.from(v.indices, (tokenId, k) => ({ tokenId, weight: v.values[k]! }));
}
