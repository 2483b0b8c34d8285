/**
 * Chunked processing of long inputs (vLLM's `enable_chunked_processing`): token ids are split
 * into chunks of `max_model_len`, each chunk is embedded on its own (pooling and the whole head),
 * and the chunk embeddings are averaged weighted by their token counts.
 */
export function chunkRanges(length: number, size: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let start = 0; start < length; start += size)
    out.push([start, Math.min(start + size, length)]);
  return out;
}

/**
 * Σ wᵢ·vᵢ / Σ wᵢ over vectors of one size, in float32 arithmetic as vLLM aggregates chunks
 * (each product and running sum rounded to float32, then one division).
 */
export function weightedMean(
  vectors: readonly Float32Array[],
  weights: readonly number[],
): Float32Array {
  const dim = vectors[0]!.length;
  const acc = new Float32Array(dim);
  let total = 0;
  vectors.forEach((v, i) => {
    const w = weights[i]!;
    total += w;
    for (let d = 0; d < dim; d++) acc[d] = acc[d]! + Math.fround(w * v[d]!);
  });
  for (let d = 0; d < dim; d++) acc[d] = acc[d]! / total;
  return acc;
}

/** A chunk's embedding and its token count (its weight). */
export interface EmbeddedChunk {
  vector: Float32Array;
  tokens: number;
}

/**
 * A long input's embedding from its chunks' (`Pooler.embedChunk`): their mean weighted by token
 * counts, not normalized again (so not unit length); one chunk is its own embedding.
 */
export function mergeChunks(chunks: readonly EmbeddedChunk[]): Float32Array {
  if (chunks.length === 1) return chunks[0]!.vector;
  return weightedMean(
    chunks.map((c) => c.vector),
    chunks.map((c) => c.tokens),
  );
}
