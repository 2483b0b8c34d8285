import type { SequenceOutput } from "../core/index.js";
import type { OutputTensor } from "./batch.js";
import type { SchedulerRead } from "./scheduler-types.js";

/**
 * One sequence's part of a read's result: its sparse vector; its rows of a per-token output
 * (`[batch, seq', dim]`, or `[batch, seq']` for a per-token read; a graph that drops the first
 * `seq - seq'` positions, as bge-m3's `colbert_vecs`, gives that many fewer rows); or its row of
 * a pooled `[batch, dim]` output.
 */
export function sliceOutput(
  result: OutputTensor,
  read: SchedulerRead,
  b: number,
  seqLen: number,
  start: number,
  ids: readonly number[],
): SequenceOutput {
  const { data, dims, sparse } = result;
  if (sparse) {
    const [from, to] = [sparse.offsets[b]!, sparse.offsets[b + 1]!];
    return {
      states: { data: new Float32Array(0), tokens: 0, dim: dims[1]! },
      tokenIds: ids,
      sparse: { indices: sparse.indices.slice(from, to), values: data.slice(from, to) },
    };
  }
  const perToken = dims.length === 3 || (read.perToken === true && dims.length === 2);
  if (!perToken) {
    const dim = dims[dims.length - 1]!;
    return {
      states: { data: data.slice(b * dim, (b + 1) * dim), tokens: 1, dim },
      tokenIds: ids,
    };
  }
  const rows = dims[1]!;
  const dim = dims.length === 3 ? dims[2]! : 1;
  const skip = Math.max(0, seqLen - rows);
  const tokens = Math.max(0, ids.length - skip);
  const first = (b * rows + start) * dim;
  return { states: { data: data.slice(first, first + tokens * dim), tokens, dim }, tokenIds: ids };
}
