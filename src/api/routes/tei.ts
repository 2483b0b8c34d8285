import { z } from "@hono/zod-openapi";
import { BadRequestError, cosineSimilarity, labelOf } from "../../core/index.js";
import type { App, Ctx } from "../context.js";
import { infer } from "../inference.js";
import { jsonResponse } from "../json-stream.js";
import { checkBatchSize } from "../prompts.js";
import { postRoute, type RequestExamples } from "../route.js";
import type { RouteDeps } from "../route-deps.js";
import { Input } from "../schemas.js";
import { formatSparse, SparseEntry, SparseFormat } from "../sparse.js";
import { teiEmbedVectors, teiInputs, truncation, withPrefix } from "./tei-run.js";

const Truncation = {
  truncate: z.boolean().nullish(),
  truncation_direction: z.enum(["Left", "Right", "left", "right"]).nullish(),
  prompt_name: z.string().nullish(),
};

export const TeiEmbedRequest = z
  .object({
    inputs: Input,
    normalize: z.boolean().nullish(),
    dimensions: z.number().int().nullish(),
    ...Truncation,
  })
  .openapi("TeiEmbedRequest");

const Sequence = z.union([z.string(), z.tuple([z.string(), z.string()])]);
/** TEI's batch item: `[text]` or `[text_a, text_b]` (plain strings accepted too). */
const BatchItem = z.union([z.string(), z.tuple([z.string()]), z.tuple([z.string(), z.string()])]);

export const TeiPredictRequest = z
  .object({
    inputs: z.union([Sequence, z.array(BatchItem)]),
    raw_scores: z.boolean().nullish(),
    ...Truncation,
  })
  .openapi("TeiPredictRequest");

export const TeiSimilarityRequest = z
  .object({
    inputs: z.object({ source_sentence: z.string(), sentences: z.array(z.string()) }),
    ...Truncation,
  })
  .openapi("TeiSimilarityRequest");

/** A TEI /similarity body (also an example of the Inference Endpoint root). */
export const SIMILARITY_EXAMPLE = {
  inputs: {
    source_sentence: "What is deep learning?",
    sentences: ["Deep learning is a subset of machine learning.", "The cat sat on the mat."],
  },
} satisfies z.input<typeof TeiSimilarityRequest>;

type Body<S extends z.ZodType> = z.infer<S>;
export type TeiEmbedBody = Body<typeof TeiEmbedRequest>;

/** TEI `/embed`. */
export async function teiEmbed(c: Ctx, deps: RouteDeps, body: Body<typeof TeiEmbedRequest>) {
  return c.json(await teiEmbedVectors(c, deps, body));
}

/** TEI `/predict`: one text, one pair, or a batch of `[text]` / `[text_a, text_b]`. */
export async function teiPredict(c: Ctx, deps: RouteDeps, body: Body<typeof TeiPredictRequest>) {
  const single =
    typeof body.inputs === "string" ||
    (body.inputs.length === 2 &&
      typeof body.inputs[0] === "string" &&
      typeof body.inputs[1] === "string");
  const items = (single ? [body.inputs] : body.inputs) as Array<string | string[]>;
  const batch = items.map((s) => (Array.isArray(s) && s.length === 1 ? s[0]! : s)) as Array<
    string | [string, string]
  >;
  const { results, engine } = await infer(c, deps, {
    needs: "classify",
    route: "predict",
    request: () => {
      if (batch.length === 0) throw new BadRequestError("inputs must not be empty", "inputs");
      checkBatchSize(batch.length, deps.limits, "inputs");
      if (batch.includes("")) {
        throw new BadRequestError("inputs must not hold empty texts", "inputs");
      }
      const params = { ...truncation(body), useActivation: body.raw_scores ? false : null };
      return { task: "classify", prompts: batch, params };
    },
  });
  const predictions = results.map((r) =>
    Array.from(r.output as Float32Array, (score, i) => ({
      score,
      label: labelOf(engine.config, i) ?? `LABEL_${i}`,
    })).sort((a, b) => b.score - a.score),
  );
  return c.json(single ? predictions[0] : predictions);
}

/** TEI `/similarity` (the Inference API's sentence-similarity shape). */
export async function teiSimilarity(
  c: Ctx,
  deps: RouteDeps,
  body: Body<typeof TeiSimilarityRequest>,
) {
  const { source_sentence, sentences } = body.inputs;
  const { results } = await infer(c, deps, {
    needs: "embed",
    route: "similarity",
    request: (engine) => {
      if (sentences.length === 0)
        throw new BadRequestError("sentences must not be empty", "inputs.sentences");
      const texts = [source_sentence, ...sentences];
      const prompts = withPrefix(engine, texts, deps.limits, body.prompt_name);
      return { task: "embed", prompts, params: truncation(body) };
    },
  });
  const [source, ...others] = results.map((r) => r.output as Float32Array);
  return c.json(others.map((v) => cosineSimilarity(source!, v)));
}

const TeiEmbedAllRequest = TeiEmbedRequest.omit({ normalize: true, dimensions: true });
const TeiEmbedSparseRequest = TeiEmbedAllRequest.extend({ sparse_format: SparseFormat.nullish() });

const Vectors = z.array(z.array(z.number()));
export const TeiPredictResponse = z.union([
  z.array(z.object({ score: z.number(), label: z.string() })),
  z.array(z.array(z.object({ score: z.number(), label: z.string() }))),
]);

/** TEI `/embed_all`: token embeddings, not normalized. */
async function teiEmbedAll(c: Ctx, deps: RouteDeps, body: Body<typeof TeiEmbedAllRequest>) {
  const { results } = await infer(c, deps, {
    needs: "token_embed",
    request: (engine) => {
      const { prompts, options } = teiInputs(engine, body, deps.limits);
      return { task: "token_embed", prompts, params: { ...options, useActivation: false } };
    },
  });
  return jsonResponse(
    c,
    results.map((r) => r.output as Float32Array[]),
  );
}

/** TEI `/embed_sparse`: sparse weights, TEI's `{index, value}` or `{token_id, token, weight}`. */
async function teiEmbedSparse(c: Ctx, deps: RouteDeps, body: Body<typeof TeiEmbedSparseRequest>) {
  const { results, engine } = await infer(c, deps, {
    needs: "sparse",
    request: (engine) => ({ task: "lexical", ...teiInputs(engine, body, deps.limits) }),
  });
  const format = body.sparse_format ?? "index_value";
  return c.json(results.map((r) => formatSparse(engine, r.weights, format)));
}

const EMBED_EXAMPLES = {
  text: { summary: "One text", value: { inputs: "What is deep learning?" } },
  batch: {
    summary: "A batch, truncated to the model's length",
    value: {
      inputs: ["What is deep learning?", "Deep learning is a subset of machine learning."],
      truncate: true,
    },
  },
} satisfies RequestExamples<typeof TeiEmbedRequest>;

const PREDICT_EXAMPLES = {
  text: { summary: "One text", value: { inputs: "I like you. I love you." } },
  batch: {
    summary: "A batch of texts and pairs",
    value: {
      inputs: [["I like you."], ["What is the capital of France?", "Paris is the capital."]],
    },
  },
} satisfies RequestExamples<typeof TeiPredictRequest>;

/** Hugging Face TEI routes: `/embed`, `/embed_all`, `/embed_sparse`, `/predict`, `/similarity`. */
export function registerTei(app: App, deps: RouteDeps): void {
  postRoute(
    app,
    {
      paths: ["/embed"],
      summary: "Embed (TEI)",
      tag: "TEI",
      body: TeiEmbedRequest,
      examples: EMBED_EXAMPLES,
      response: Vectors,
    },
    (c, body) => teiEmbed(c, deps, body),
  );

  postRoute(
    app,
    {
      paths: ["/embed_all"],
      summary: "Token embeddings, not normalized (TEI)",
      tag: "TEI",
      body: TeiEmbedAllRequest,
      examples: { text: { summary: "One text", value: { inputs: "What is deep learning?" } } },
      response: z.array(Vectors),
    },
    (c, body) => teiEmbedAll(c, deps, body),
  );

  postRoute(
    app,
    {
      paths: ["/embed_sparse"],
      summary: "Sparse embeddings (TEI; SPLADE / bge-m3 style models)",
      tag: "TEI",
      body: TeiEmbedSparseRequest,
      examples: {
        text: { summary: "One text", value: { inputs: "What is deep learning?" } },
      },
      response: z.array(z.array(SparseEntry)),
    },
    (c, body) => teiEmbedSparse(c, deps, body),
  );

  postRoute(
    app,
    {
      paths: ["/predict"],
      summary: "Classify sequences or pairs (TEI)",
      tag: "TEI",
      body: TeiPredictRequest,
      examples: PREDICT_EXAMPLES,
      response: TeiPredictResponse,
    },
    (c, body) => teiPredict(c, deps, body),
  );

  postRoute(
    app,
    {
      paths: ["/similarity"],
      summary: "Cosine similarity of a source sentence to others (TEI)",
      tag: "TEI",
      body: TeiSimilarityRequest,
      examples: {
        sentences: { summary: "One sentence against two", value: SIMILARITY_EXAMPLE },
      },
      response: z.array(z.number()),
    },
    (c, body) => teiSimilarity(c, deps, body),
  );
}
