/**
 * Chunked processing of long inputs (vLLM's `enable_chunked_processing`): token ids are split
 * into chunks of `max_model_len`, each chunk is pooled on its own, and the chunks' pooled vectors
 * are averaged weighted by their token counts — for MEAN pooling, the mean over every token.
 */
export function chunkRanges(length: number, size: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let start = 0; start < length; start += size)
    out.push([start, Math.min(start + size, length)]);
  return out;
}

/** Σ wᵢ·vᵢ / Σ wᵢ over vectors of one size. */
export function weightedMean(
  vectors: readonly Float32Array[],
  weights: readonly number[],
): Float32Array {
  const dim = vectors[0]!.length;
  const acc = new Float64Array(dim);
  let total = 0;
  vectors.forEach((v, i) => {
    const w = weights[i]!;
    total += w;
    for (let d = 0; d < dim; d++) acc[d]! += w * v[d]!;
  });
  return Float32Array.from(acc, (x) => x / total);
}
