import { z } from "@hono/zod-openapi";
import {
  BadRequestError,
  encodeBase64,
  ownValue,
  packBits,
  quantizeInt8,
  quantizeUint8,
  toNumbers,
} from "../../core/index.js";
import type { Engine } from "../../engine/engine.js";
import type { PromptOptions } from "../../engine/prompts.js";
import type { App, Ctx } from "../context.js";
import { infer } from "../inference.js";
import { checkBatchSize } from "../prompts.js";
import { postRoute } from "../route.js";
import { type RouteDeps, requestId } from "../route-deps.js";

const EmbeddingType = z.enum(["float", "int8", "uint8", "binary", "ubinary", "base64"]);

const ContentPart = z.looseObject({ type: z.string(), text: z.string().nullish() });

export const CohereEmbedRequest = z
  .object({
    model: z.string().nullish(),
    texts: z.array(z.string()).nullish(),
    inputs: z
      .array(z.looseObject({ content: z.array(ContentPart) }))
      .nullish()
      .openapi({ description: "v2: inputs of content parts; text parts only" }),
    images: z.array(z.string()).nullish().openapi({ description: "Refused: text models only" }),
    input_type: z.string().nullish(),
    embedding_types: z.array(EmbeddingType).nullish(),
    truncate: z.enum(["NONE", "START", "END"]).nullish(),
    output_dimension: z.number().int().nullish(),
    max_tokens: z.number().int().min(1).nullish(),
  })
  .openapi("CohereEmbedRequest");

const CohereEmbedV1Response = z
  .object({
    id: z.string(),
    response_type: z.enum(["embeddings_floats", "embeddings_by_type"]),
    embeddings: z.union([
      z.array(z.array(z.number())),
      z.record(z.string(), z.union([z.array(z.array(z.number())), z.array(z.string())])),
    ]),
    texts: z.array(z.string()),
    meta: z.object({}).passthrough(),
  })
  .openapi("CohereEmbedV1Response");

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

/** The side an `input_type` selects on a model that encodes queries and documents differently. */
function roleOf(engine: Engine, inputType: string | null | undefined): PromptOptions {
  if (inputType !== "search_query" && inputType !== "search_document") return {};
  const role = engine.roleOf(inputType === "search_query" ? "query" : "document");
  return role ? { role } : {};
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

type EmbedBody = z.infer<typeof CohereEmbedRequest>;

/** The texts of a request: `texts`, or v2's `inputs` (the text parts of each input, joined). */
function textsOf(body: EmbedBody): string[] {
  if (body.images?.length) {
    throw new BadRequestError("images are not supported: this server embeds text", "images");
  }
  if (body.texts && body.inputs) {
    throw new BadRequestError("Give either texts or inputs, not both", "inputs");
  }
  const texts =
    body.inputs?.map((input, i) =>
      input.content
        .map((part, j) => {
          if (part.type !== "text" || typeof part.text !== "string") {
            throw new BadRequestError(
              `inputs[${i}].content[${j}] is of type '${part.type}': only text parts are supported`,
              "inputs",
            );
          }
          return part.text;
        })
        .join("\n"),
    ) ??
    body.texts ??
    [];
  if (texts.length === 0) throw new BadRequestError("texts must not be empty", "texts");
  return texts;
}

/** Embed a Cohere request's texts into the requested types; shared by v1 and v2. */
async function embedByType(c: Ctx, deps: RouteDeps, body: EmbedBody) {
  let texts: string[] = [];
  const { results } = await infer(c, deps, {
    model: body.model,
    needs: "embed",
    request: (engine) => {
      texts = textsOf(body);
      checkBatchSize(texts.length, deps.limits, "texts");
      texts.forEach((t, i) => {
        if (t.length === 0) throw new BadRequestError(`texts[${i}] must not be empty`, "texts");
      });
      const prefix = promptFor(engine, body.input_type);
      return {
        task: "embed",
        prompts: texts.map((t) => prefix + t),
        params: {
          ...truncation(body.truncate, body.max_tokens),
          ...roleOf(engine, body.input_type),
          dimensions: body.output_dimension ?? null,
        },
      };
    },
  });
  const vectors = results.map((r) => r.output as Float32Array);
  const embeddings: Record<string, number[][] | string[]> = {};
  for (const type of body.embedding_types ?? ["float"]) {
    switch (type) {
      case "float":
        embeddings.float = vectors.map(toNumbers);
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
  return { texts, embeddings, tokens };
}

/** Cohere v1: plain float lists unless `embedding_types` asks for types. */
async function cohereV1(c: Ctx, deps: RouteDeps, body: z.infer<typeof CohereEmbedRequest>) {
  const { texts, embeddings, tokens } = await embedByType(c, deps, body);
  const meta = { api_version: { version: "1" }, billed_units: { input_tokens: tokens } };
  // Without embedding_types, v1 answers plain float lists.
  if (!body.embedding_types) {
    return c.json({
      id: requestId(c),
      response_type: "embeddings_floats",
      embeddings: embeddings.float,
      texts,
      meta,
    });
  }
  return c.json({
    id: requestId(c),
    response_type: "embeddings_by_type",
    embeddings,
    texts,
    meta,
  });
}

/** Cohere Embed v2 (`/v2/embed`) and v1 (`/v1/embed`). */
export function registerCohere(app: App, deps: RouteDeps): void {
  postRoute(
    app,
    {
      paths: ["/v2/embed"],
      summary: "Embed (Cohere v2)",
      tag: "Cohere",
      body: CohereEmbedRequest,
      examples: {
        inputs: {
          summary: "v2 inputs of content parts",
          value: {
            inputs: [{ content: [{ type: "text", text: "Paris is the capital of France." }] }],
            input_type: "search_document",
            embedding_types: ["float"],
          },
        },
        texts: {
          summary: "Documents to index",
          value: {
            texts: ["Paris is the capital of France.", "The Eiffel Tower is in Paris."],
            input_type: "search_document",
            embedding_types: ["float"],
          },
        },
        int8: {
          summary: "A query, int8 and binary",
          value: {
            texts: ["What is the capital of France?"],
            input_type: "search_query",
            embedding_types: ["int8", "ubinary"],
          },
        },
      },
      response: CohereEmbedResponse,
    },
    async (c, body) => {
      const { texts, embeddings, tokens } = await embedByType(c, deps, body);
      return c.json({
        id: requestId(c),
        response_type: "embeddings_by_type",
        embeddings,
        texts,
        meta: { api_version: { version: "2" }, billed_units: { input_tokens: tokens } },
      });
    },
  );

  postRoute(
    app,
    {
      paths: ["/v1/embed"],
      summary: "Embed (Cohere v1: cohere-ai v7's CohereClient, LangChain's CohereEmbeddings)",
      tag: "Cohere",
      body: CohereEmbedRequest,
      examples: {
        texts: {
          summary: "Plain float lists",
          value: { texts: ["Paris is the capital of France."], input_type: "search_document" },
        },
        types: {
          summary: "By type",
          value: { texts: ["What is the capital of France?"], embedding_types: ["float", "int8"] },
        },
      },
      response: CohereEmbedV1Response,
    },
    (c, body) => cohereV1(c, deps, body),
  );
}
