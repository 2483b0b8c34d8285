import { z } from "@hono/zod-openapi";
import { BadRequestError, type LexicalWeight } from "../core/index.js";
import type { Engine } from "../engine/engine.js";

/**
 * Forms of a sparse embedding: TEI's `[{index, value}]` (index = token id), or
 * `[{token_id, token, weight}]` for reading without a second call to `/tokenize`.
 */
export const SparseFormat = z.enum(["index_value", "token_weight"]).openapi({
  description:
    "index_value: TEI's [{index, value}] (index = token id); token_weight: [{token_id, token, weight}]",
});
export type SparseFormat = z.infer<typeof SparseFormat>;

export const SparseEntry = z.union([
  z.object({ index: z.number().int(), value: z.number() }),
  z.object({ token_id: z.number().int(), token: z.string(), weight: z.number() }),
]);

export function formatSparse(
  engine: Engine,
  weights: readonly LexicalWeight[],
  format: SparseFormat,
) {
  if (format === "index_value") return weights.map((w) => ({ index: w.tokenId, value: w.weight }));
  const tokens = engine.tokenizer.tokenStrings(weights.map((w) => w.tokenId));
  return weights.map((w, i) => ({ token_id: w.tokenId, token: tokens[i]!, weight: w.weight }));
}

/** Refuse a sparse form on a model without a sparse head, rather than ignore it. */
export function requireSparse(engine: Engine, param = "sparse_format"): void {
  if (!engine.pooler.sparse) {
    throw new BadRequestError(
      `Model "${engine.modelName}" has no sparse head (bge-m3: serve with --hf-overrides '{"architectures":["BgeM3EmbeddingModel"]}')`,
      param,
    );
  }
}
