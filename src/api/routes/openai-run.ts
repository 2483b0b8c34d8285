import type { RequestScope } from "../context.js";
import { pooledJson } from "../format.js";
import { infer } from "../inference.js";
import { poolingInputs } from "../prompts.js";
import { created, type RouteDeps, requestId, servedName, usage } from "../route-deps.js";
import type { EmbeddingBody } from "./openai.js";

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

export function envelope(c: RequestScope, deps: RouteDeps, body: EmbeddingBody) {
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
