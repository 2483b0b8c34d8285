import { BadRequestError } from "./errors.js";
import type { ModelConfig } from "./model-config.js";

/** Whether the model was trained for truncated (matryoshka) embeddings. */
export function isMatryoshka(config: ModelConfig): boolean {
  return config.is_matryoshka === true || (config.matryoshka_dimensions?.length ?? 0) > 0;
}

/**
 * Check a requested `dimensions` against the model, with vLLM's messages.
 * The model's native size is always accepted.
 */
export function validateDimensions(
  modelName: string,
  config: ModelConfig,
  nativeDim: number,
  dimensions: number | undefined | null,
): void {
  if (dimensions === undefined || dimensions === null) return;
  if (dimensions < 1) throw new BadRequestError("Dimensions must be greater than 0", "dimensions");
  if (dimensions === nativeDim) return;
  if (!isMatryoshka(config)) {
    throw new BadRequestError(
      `Model "${modelName}" does not support matryoshka representation, changing output dimensions will lead to poor results.`,
      "dimensions",
    );
  }
  const allowed = config.matryoshka_dimensions;
  if (allowed && allowed.length > 0 && !allowed.includes(dimensions)) {
    throw new BadRequestError(
      `Model "${modelName}" only supports [${allowed.join(", ")}] matryoshka dimensions, use other output dimensions will lead to poor results.`,
      "dimensions",
    );
  }
  if (dimensions > nativeDim) {
    throw new BadRequestError(
      `Dimensions must be less than or equal to the model's embedding size ${nativeDim}`,
      "dimensions",
    );
  }
}
