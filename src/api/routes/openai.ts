import { z } from "@hono/zod-openapi";
import { binaryResponse, isBinaryFormat } from "../bytes.js";
import type { App } from "../context.js";
import { postRoute } from "../route.js";
import { type RouteDeps, usage } from "../route-deps.js";
import { EmbeddingFields, ListResponse, PromptFields } from "../schemas.js";
import { embeddingsJson, envelope, runEmbeddings } from "./openai-run.js";

export const EmbeddingRequest = z
  .object({ ...PromptFields, ...EmbeddingFields })
  .openapi("EmbeddingRequest");

const EmbeddingResponse = ListResponse(
  "EmbeddingResponse",
  z.object({
    index: z.number().int(),
    object: z.literal("embedding"),
    embedding: z.union([z.array(z.number()), z.string()]),
  }),
);

export type EmbeddingBody = z.infer<typeof EmbeddingRequest>;

/** OpenAI `/v1/embeddings` (and `/embeddings`), with vLLM's extensions. */
export function registerOpenAI(app: App, deps: RouteDeps): void {
  postRoute(
    app,
    {
      paths: ["/v1/embeddings", "/embeddings"],
      summary: "Create embeddings (OpenAI)",
      tag: "OpenAI",
      body: EmbeddingRequest,
      examples: {
        batch: {
          summary: "Two texts",
          value: {
            input: ["What is deep learning?", "Deep learning is a subset of machine learning."],
          },
        },
        text: {
          summary: "One text, base64 floats",
          value: { input: "What is deep learning?", encoding_format: "base64" },
        },
      },
      response: EmbeddingResponse,
    },
    async (c, body) => {
      const { results } = await runEmbeddings(c, deps, body);
      if (isBinaryFormat(body.encoding_format)) {
        const outputs = results.map((r) => r.output);
        const meta = { ...envelope(c, deps, body), usage: usage(results) };
        return binaryResponse(c, body.encoding_format, meta, outputs, body);
      }
      c.header("content-type", "application/json");
      return c.body(embeddingsJson(c, deps, body, results));
    },
  );
}
