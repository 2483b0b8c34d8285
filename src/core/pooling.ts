/**
 * Pooling methods over the real (unpadded) token states of one sequence:
 * `states` is row-major `[tokens, dim]`.
 */
export interface TokenStates {
  data: Float32Array;
  tokens: number;
  dim: number;
}

export function row(states: TokenStates, index: number): Float32Array {
  return states.data.subarray(index * states.dim, (index + 1) * states.dim);
}

export function rows(states: TokenStates): Float32Array[] {
  return Array.from({ length: states.tokens }, (_, i) => row(states, i));
}

export function clsPool(states: TokenStates): Float32Array {
  return row(states, 0).slice();
}

export function lastPool(states: TokenStates): Float32Array {
  return row(states, states.tokens - 1).slice();
}

export function meanPool(states: TokenStates): Float32Array {
  const { data, tokens, dim } = states;
  const acc = new Float64Array(dim);
  for (let t = 0; t < tokens; t++) {
    const base = t * dim;
    for (let d = 0; d < dim; d++) acc[d]! += data[base + d]!;
  }
  const out = new Float32Array(dim);
  for (let d = 0; d < dim; d++) out[d] = acc[d]! / tokens;
  return out;
}

/** STEP pooling: the rows at positions whose token id is `stepTagId` (all rows when unset). */
export function stepPool(
  states: TokenStates,
  tokenIds: readonly number[],
  stepTagId: number | undefined,
): Float32Array[] {
  const all = rows(states);
  if (stepTagId === undefined) return all;
  return all.filter((_, i) => tokenIds[i] === stepTagId);
}

/** Keep only the given columns of a row (STEP pooling's `returned_token_ids`). */
export function selectColumns(
  values: Float32Array,
  columns: readonly number[] | undefined,
): Float32Array {
  if (!columns || columns.length === 0) return values;
  return Float32Array.from(columns, (c) => values[c] ?? Number.NaN);
}
