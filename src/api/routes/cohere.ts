import { z } from "@hono/zod-openapi";
import {
  BadRequestError,
  encodeBase64,
  ownValue,
  packBits,
  quantizeInt8,
  quantizeUint8,
} from "../../core/index.js";
import type { Engine, PromptOptions } from "../../engine/index.js";
import { runPool } from "../inference.js";
import { checkBatchSize } from "../prompts.js";
import {
  type App,
  engineFor,
  postRoute,
  type RouteDeps,
  requestId,
  requireTask,
} from "../route.js";

const EmbeddingType = z.enum(["float", "int8", "uint8", "binary", "ubinary", "base64"]);

export const CohereEmbedRequest = z
  .object({
    model: z.string().nullish(),
    texts: z.array(z.string()).nullish(),
    input_type: z.string().nullish(),
    embedding_types: z.array(EmbeddingType).nullish(),
    truncate: z.enum(["NONE", "START", "END"]).nullish(),
    output_dimension: z.number().int().nullish(),
    max_tokens: z.number().int().min(1).nullish(),
  })
  .openapi("CohereEmbedRequest");

const CohereEmbedResponse = z
  .object({
    id: z.string(),
    response_type: z.literal("embeddings_by_type"),
    embeddings: z.record(z.string(), z.union([z.array(z.array(z.number())), z.array(z.string())])),
    texts: z.array(z.string()),
    meta: z.object({}).passthrough(),
  })
  .openapi("CohereEmbedResponse");

const INPUT_TYPE_PROMPTS: Record<string, string[]> = {
  search_query: ["query", "search_query"],
  search_document: ["document", "passage", "search_document"],
  classification: ["classification"],
  clustering: ["clustering"],
};

/** The sentence-transformers prompt an `input_type` selects, if the model defines one. */
function promptFor(engine: Engine, inputType: string | null | undefined): string {
  if (!inputType) return "";
  const names = ownValue(INPUT_TYPE_PROMPTS, inputType) ?? [inputType];
  for (const n of names) {
    const prompt = ownValue(engine.prompts, n);
    if (prompt !== undefined) return prompt;
  }
  return "";
}

function truncation(
  truncate: string | null | undefined,
  maxTokens: number | null | undefined,
): PromptOptions {
  if (truncate === "NONE") return maxTokens ? { truncatePromptTokens: maxTokens } : {};
  return {
    truncatePromptTokens: maxTokens ?? -1,
    truncationSide: truncate === "START" ? "left" : "right",
  };
}

/** Cohere Embed v2 (`/v2/embed`). */
export function registerCohere(app: App, deps: RouteDeps): void {
  postRoute(
    app,
    {
      paths: ["/v2/embed"],
      summary: "Embed (Cohere v2)",
      tag: "Cohere",
      body: CohereEmbedRequest,
      response: CohereEmbedResponse,
    },
    async (c, body) => {
      const engine = engineFor(deps, body.model);
      requireTask(engine, "embed");
      const texts = body.texts ?? [];
      if (texts.length === 0) throw new BadRequestError("texts must not be empty", "texts");
      checkBatchSize(texts.length, deps.limits, "texts");
      texts.forEach((t, i) => {
        if (t.length === 0) throw new BadRequestError(`texts[${i}] must not be empty`, "texts");
      });
      const prefix = promptFor(engine, body.input_type);
      const results = await runPool(
        c,
        engine,
        "embed",
        texts.map((t) => prefix + t),
        {
          ...truncation(body.truncate, body.max_tokens),
          dimensions: body.output_dimension ?? null,
        },
      );
      const vectors = results.map((r) => r.output as Float32Array);
      const embeddings: Record<string, number[][] | string[]> = {};
      for (const type of body.embedding_types ?? ["float"]) {
        switch (type) {
          case "float":
            embeddings.float = vectors.map((v) => Array.from(v));
            break;
          case "int8":
            embeddings.int8 = vectors.map(quantizeInt8);
            break;
          case "uint8":
            embeddings.uint8 = vectors.map(quantizeUint8);
            break;
          case "binary":
            embeddings.binary = vectors.map((v) => packBits(v, true));
            break;
          case "ubinary":
            embeddings.ubinary = vectors.map((v) => packBits(v, false));
            break;
          case "base64":
            embeddings.base64 = vectors.map((v) => encodeBase64(v));
            break;
        }
      }
      const tokens = results.reduce((s, r) => s + r.promptTokenIds.length, 0);
      return c.json({
        id: requestId(c),
        response_type: "embeddings_by_type",
        embeddings,
        texts,
        meta: { api_version: { version: "2" }, billed_units: { input_tokens: tokens } },
      });
    },
  );
}
