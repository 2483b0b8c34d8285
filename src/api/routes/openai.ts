import { z } from "@hono/zod-openapi";
import { binaryResponse, isBinaryFormat } from "../bytes.js";
import type { App, RequestScope } from "../context.js";
import { pooledJson } from "../format.js";
import { infer } from "../inference.js";
import { poolingInputs } from "../prompts.js";
import { created, postRoute, type RouteDeps, requestId, servedName, usage } from "../route.js";
import { EmbeddingFields, ListResponse, PromptFields } from "../schemas.js";

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

/** Run an embeddings request (the app's route and the server's direct path). */
export function runEmbeddings(c: RequestScope, deps: RouteDeps, body: EmbeddingBody) {
  return infer(c, deps, {
    model: body.model,
    needs: "embed",
    request: (engine) => ({
      task: "embed",
      ...poolingInputs(c, body, engine, deps.limits),
    }),
  });
}

function envelope(c: RequestScope, deps: RouteDeps, body: EmbeddingBody) {
  return {
    id: `embd-${requestId(c)}`,
    object: "list",
    created: created(),
    model: servedName(deps, body.model),
  };
}

/**
 * The JSON answer of an embeddings request in a JSON encoding (`float`, `base64`), built as text:
 * float vectors go straight from Float32Array to JSON.
 */
export function embeddingsJson(
  c: RequestScope,
  deps: RouteDeps,
  body: EmbeddingBody,
  results: Awaited<ReturnType<typeof runEmbeddings>>["results"],
): string {
  const head = JSON.stringify(envelope(c, deps, body));
  const data = results.map(
    (r, index) =>
      `{"index":${index},"object":"embedding","embedding":${pooledJson(r.output, body)}}`,
  );
  return `${head.slice(0, -1)},"data":[${data.join(",")}],"usage":${JSON.stringify(usage(results))}}`;
}

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
