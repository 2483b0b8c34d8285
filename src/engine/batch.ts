/** One tokenized sequence ready for the model. */
export interface SequenceInput {
  ids: readonly number[];
  typeIds: readonly number[] | null;
}

/**
 * Read only some rows and columns of a `[batch, seq, n]` output: `positions[b]` is the row-major
 * token index (`b * seqLen + t`) to keep for sequence b, `columns` the last-axis entries to keep.
 * The result is `[batch, columns.length]`, copied out of the graph's buffer without the rest
 * (an LLM reranker needs two vocabulary entries at the last position, not `seq × vocab`).
 */
export interface OutputGather {
  positions: number[];
  columns: readonly number[];
}

/** Gather `positions × columns` of a `[batch, seq, n]` tensor into `[batch, columns]`. */
export function gatherOutput(
  data: Float32Array,
  dims: readonly number[],
  gather: OutputGather,
): { data: Float32Array; dims: number[] } {
  const n = dims[dims.length - 1]!;
  const cols = gather.columns;
  for (const c of cols) {
    if (c < 0 || c >= n) throw new RangeError(`column ${c} is outside the output's ${n} entries`);
  }
  const out = new Float32Array(gather.positions.length * cols.length);
  gather.positions.forEach((p, b) => {
    for (let c = 0; c < cols.length; c++) out[b * cols.length + c] = data[p * n + cols[c]!]!;
  });
  return { data: out, dims: [gather.positions.length, cols.length] };
}

/** Padded int64 input arrays for one micro-batch, row-major `[batch, seq]`. */
export interface PaddedBatch {
  batch: number;
  seqLen: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  positionIds: BigInt64Array;
  /** Offset of each sequence's first real token within its row. */
  starts: number[];
}

/**
 * Pad a micro-batch on the tokenizer's side. Position ids count only real tokens
 * (`cumsum(mask) - 1`, padding set to 1), as transformers does for left-padded decoders.
 */
export function padBatch(
  seqs: readonly SequenceInput[],
  padId: number,
  side: "left" | "right",
): PaddedBatch {
  const batch = seqs.length;
  let seqLen = 0;
  for (const s of seqs) if (s.ids.length > seqLen) seqLen = s.ids.length;
  const size = batch * seqLen;
  const inputIds = new BigInt64Array(size);
  const attentionMask = new BigInt64Array(size);
  const tokenTypeIds = new BigInt64Array(size);
  const positionIds = new BigInt64Array(size);
  // Written through 32-bit views (low word, little-endian; ids are non-negative and < 2^31):
  // no BigInt per element.
  const ids32 = new Int32Array(inputIds.buffer);
  const mask32 = new Int32Array(attentionMask.buffer);
  const types32 = new Int32Array(tokenTypeIds.buffer);
  const pos32 = new Int32Array(positionIds.buffer);
  if (padId !== 0) for (let i = 0; i < size; i++) ids32[2 * i] = padId;
  for (let i = 0; i < size; i++) pos32[2 * i] = 1;
  const starts: number[] = new Array(batch);
  for (let b = 0; b < batch; b++) {
    const s = seqs[b]!;
    const n = s.ids.length;
    const start = side === "left" ? seqLen - n : 0;
    starts[b] = start;
    const base = 2 * (b * seqLen + start);
    const types = s.typeIds;
    for (let t = 0; t < n; t++) {
      const at = base + 2 * t;
      ids32[at] = s.ids[t]!;
      mask32[at] = 1;
      types32[at] = types ? (types[t] ?? 0) : 0;
      pos32[at] = t;
    }
  }
  return { batch, seqLen, inputIds, attentionMask, tokenTypeIds, positionIds, starts };
}
