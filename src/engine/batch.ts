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
  const seqLen = Math.max(...seqs.map((s) => s.ids.length));
  const size = batch * seqLen;
  const inputIds = new BigInt64Array(size).fill(BigInt(padId));
  const attentionMask = new BigInt64Array(size);
  const tokenTypeIds = new BigInt64Array(size);
  const positionIds = new BigInt64Array(size).fill(1n);
  const starts: number[] = [];
  seqs.forEach((s, b) => {
    const start = side === "left" ? seqLen - s.ids.length : 0;
    starts.push(start);
    const base = b * seqLen + start;
    for (let t = 0; t < s.ids.length; t++) {
      inputIds[base + t] = BigInt(s.ids[t]!);
      attentionMask[base + t] = 1n;
      tokenTypeIds[base + t] = BigInt(s.typeIds?.[t] ?? 0);
      positionIds[base + t] = BigInt(t);
    }
  });
  return { batch, seqLen, inputIds, attentionMask, tokenTypeIds, positionIds, starts };
}
