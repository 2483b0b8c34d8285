import { BadRequestError, cosineSimilarity } from "../core/index.js";
import type { IOProcessor } from "../engine/io-processor.js";

/** `data` of a nearest-label request. */
export interface NearestLabelData {
  /** Texts to classify. */
  texts: string[];
  /** Candidate labels, embedded with `label_prefix` in front. */
  labels: string[];
  /** How many labels to return per text (default 1). */
  top_k: number;
  label_prefix: string;
}

export interface NearestLabelResponse {
  results: Array<{ index: number; labels: Array<{ label: string; score: number }> }>;
}

function strings(value: unknown, name: string): string[] {
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === "string" && x)) {
    throw new BadRequestError(`data.${name} must be a non-empty string or list of strings`, "data");
  }
  return list as string[];
}

/**
 * Zero-shot classification with an embedding model: each text gets the `top_k` labels whose
 * embeddings are nearest (cosine), with their similarities. One pooling pass embeds texts and
 * labels together.
 */
export const nearestLabel: IOProcessor<NearestLabelData, NearestLabelResponse> = {
  name: "nearest-label",
  parseRequest(data, ctx) {
    if (!ctx.tasks.includes("embed")) {
      throw new BadRequestError(
        `The nearest-label plugin needs an embedding model; "${ctx.modelName}" serves ${ctx.tasks.join(", ")}`,
        "task",
      );
    }
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      throw new BadRequestError("data must be an object {texts, labels, top_k?}", "data");
    }
    const d = data as Record<string, unknown>;
    const texts = strings(d.texts, "texts");
    const labels = strings(d.labels, "labels");
    const topK = d.top_k ?? 1;
    if (!Number.isInteger(topK) || (topK as number) < 1) {
      throw new BadRequestError("data.top_k must be a positive integer", "data");
    }
    const prefix = d.label_prefix ?? "";
    if (typeof prefix !== "string")
      throw new BadRequestError("data.label_prefix must be a string", "data");
    const parsed = {
      texts,
      labels,
      top_k: Math.min(topK as number, labels.length),
      label_prefix: prefix,
    };
    return {
      data: parsed,
      task: "embed",
      prompts: [...texts, ...labels.map((l) => prefix + l)],
    };
  },
  outputToResponse(outputs, input) {
    const { texts, labels, top_k } = input.data;
    const vectors = outputs.map((o) => o.output as Float32Array);
    const labelVectors = vectors.slice(texts.length);
    return {
      results: texts.map((_, index) => ({
        index,
        labels: labelVectors
          .map((v, j) => ({ label: labels[j]!, score: cosineSimilarity(vectors[index]!, v) }))
          .sort((a, b) => b.score - a.score)
          .slice(0, top_k),
      })),
    };
  },
};
