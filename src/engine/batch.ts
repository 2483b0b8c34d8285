import { type SpladeReduce, spladePool, spladeRows } from "../core/splade.js";

/** One tokenized sequence ready for the model. */
export interface SequenceInput {
  ids: readonly number[];
  typeIds: readonly number[] | null;
  /**
   * Only the first `attended` tokens are attended to (attention mask 1); the rest (ColBERT's
   * [MASK] query expansion) are run but not attended. All of them when unset.
   */
  attended?: number;
}

/**
 * What to read from one graph output for a micro-batch. What leaves the session's thread is
 * only what the read keeps: the output as it is, some columns at each sequence's last token, or
 * each sequence's SPLADE vector (its non-zero entries).
 */
export interface OutputRead {
  name: string;
  /**
   * Keep only these columns of a `[batch, seq, n]` output at each sequence's last real token
   * (an LLM reranker needs two vocabulary entries at the last position, not `seq × vocab`):
   * the result is `[batch, columns]`.
   */
  lastTokenColumns?: readonly number[];
  /** Reduce `[batch, seq, vocab]` logits to each sequence's SPLADE vector. */
  splade?: SpladeReduce;
}

/**
 * A read's result: a dense tensor, or (SPLADE) one sparse vector per sequence: sequence b's
 * entries are `indices`/`data` from `offsets[b]` to `offsets[b + 1]`, `dims` `[batch, vocab]`.
 */
export interface OutputTensor {
  data: Float32Array;
  dims: readonly number[];
  sparse?: { offsets: Int32Array; indices: Int32Array };
}

/** Row-major token positions and columns to copy out of a `[batch, seq, n]` tensor. */
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
  /** Each sequence's token count. */
  lengths: number[];
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
  const lengths: number[] = new Array(batch);
  for (let b = 0; b < batch; b++) {
    const s = seqs[b]!;
    const n = s.ids.length;
    const attended = s.attended ?? n;
    const start = side === "left" ? seqLen - n : 0;
    starts[b] = start;
    lengths[b] = n;
    const base = 2 * (b * seqLen + start);
    const types = s.typeIds;
    for (let t = 0; t < n; t++) {
      const at = base + 2 * t;
      ids32[at] = s.ids[t]!;
      mask32[at] = t < attended ? 1 : 0;
      types32[at] = types ? (types[t] ?? 0) : 0;
      pos32[at] = t;
    }
  }
  return { batch, seqLen, inputIds, attentionMask, tokenTypeIds, positionIds, starts, lengths };
}

/** Each sequence's SPLADE vector from `[batch, seq, vocab]` logits, packed as one sparse result. */
export function spladeOutput(
  data: Float32Array,
  dims: readonly number[],
  batch: PaddedBatch,
  reduce: SpladeReduce,
): OutputTensor {
  if (dims.length !== 3) {
    throw new RangeError(
      `SPLADE reads [batch, seq, vocab] logits; this output has ${dims.length} axes`,
    );
  }
  const vocab = dims[2]!;
  const ids32 = new Int32Array(
    batch.inputIds.buffer,
    batch.inputIds.byteOffset,
    batch.batch * batch.seqLen * 2,
  );
  const acc = new Float32Array(vocab);
  const parts = batch.starts.map((start, b) => {
    const first = b * batch.seqLen + start;
    const ids = Array.from({ length: batch.lengths[b]! }, (_, t) => ids32[2 * (first + t)]!);
    const [s, e] = spladeRows(ids, reduce);
    return spladePool(data, vocab, first + s, e - s, reduce, acc);
  });
  const offsets = new Int32Array(parts.length + 1);
  parts.forEach((p, b) => {
    offsets[b + 1] = offsets[b]! + p.indices.length;
  });
  const indices = new Int32Array(offsets[parts.length]!);
  const values = new Float32Array(offsets[parts.length]!);
  parts.forEach((p, b) => {
    indices.set(p.indices, offsets[b]!);
    values.set(p.values, offsets[b]!);
  });
  return { data: values, dims: [batch.batch, vocab], sparse: { offsets, indices } };
}

/** Apply a read to the output it names (the graph's buffer; the result never aliases a gather). */
export function applyRead(
  data: Float32Array,
  dims: readonly number[],
  batch: PaddedBatch,
  read: OutputRead,
): OutputTensor {
  if (read.splade) return spladeOutput(data, dims, batch, read.splade);
  if (read.lastTokenColumns) {
    const positions = batch.starts.map(
      (start, b) => b * batch.seqLen + start + batch.lengths[b]! - 1,
    );
    return gatherOutput(data, dims, { positions, columns: read.lastTokenColumns });
  }
  return { data, dims };
}
