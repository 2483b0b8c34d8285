import { z } from "@hono/zod-openapi";
import { BadRequestError, cosineSimilarity, labelOf } from "../../core/index.js";
import type { Engine, PromptOptions, TokenizedPrompt } from "../../engine/index.js";
import type { App, Ctx } from "../context.js";
import { runLexical, runPool, runTokenized, tokenizeTimed } from "../inference.js";
import { jsonResponse } from "../json-stream.js";
import { checkBatchSize, promptsFromInput } from "../prompts.js";
import { engineFor, notServed, postRoute, type RouteDeps, requireTask } from "../route.js";
import { Input } from "../schemas.js";
import { formatSparse, SparseEntry, SparseFormat } from "../sparse.js";

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

function truncation(body: {
  truncate?: boolean | null;
  truncation_direction?: string | null;
}): PromptOptions {
  if (!body.truncate) return {};
  return {
    truncatePromptTokens: -1,
    truncationSide: body.truncation_direction?.toLowerCase() === "left" ? "left" : "right",
  };
}

function withPrefix(
  engine: Engine,
  inputs: unknown,
  limits: RouteDeps["limits"],
  name: string | null | undefined,
) {
  return engine.withPrompt(promptsFromInput(inputs, limits, "inputs"), name);
}

type Body<S extends z.ZodType> = z.infer<S>;

/** TEI `/embed`. */
export async function teiEmbed(c: Ctx, deps: RouteDeps, body: Body<typeof TeiEmbedRequest>) {
  const engine = engineFor(deps, null);
  requireTask(engine, "embed");
  const prompts = withPrefix(engine, body.inputs, deps.limits, body.prompt_name);
  const results = await runPool(c, engine, "embed", prompts, {
    ...truncation(body),
    dimensions: body.dimensions ?? null,
    useActivation: body.normalize ?? null,
  });
  return c.json(results.map((r) => Array.from(r.output as Float32Array)));
}

/** TEI `/predict`: one text, one pair, or a batch of `[text]` / `[text_a, text_b]`. */
export async function teiPredict(c: Ctx, deps: RouteDeps, body: Body<typeof TeiPredictRequest>) {
  const engine = engineFor(deps, null);
  requireTask(engine, "classify", "predict");
  const single =
    typeof body.inputs === "string" ||
    (body.inputs.length === 2 &&
      typeof body.inputs[0] === "string" &&
      typeof body.inputs[1] === "string");
  const items = (single ? [body.inputs] : body.inputs) as Array<string | string[]>;
  const batch = items.map((s) => (Array.isArray(s) && s.length === 1 ? s[0]! : s)) as Array<
    string | [string, string]
  >;
  if (batch.length === 0) throw new BadRequestError("inputs must not be empty", "inputs");
  checkBatchSize(batch.length, deps.limits, "inputs");
  const opts = truncation(body);
  engine.pooler.validate("classify");
  const tokenized: TokenizedPrompt[] = tokenizeTimed(c, () =>
    batch.map((s) => {
      if (typeof s === "string") {
        if (!s) throw new BadRequestError("inputs must not hold empty texts", "inputs");
        return engine.tokenize(s, opts);
      }
      return engine.tokenizePair(s[0], s[1], opts);
    }),
  );
  const results = await runTokenized(c, engine, "classify", tokenized, {
    useActivation: body.raw_scores ? false : null,
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
  const engine = engineFor(deps, null);
  requireTask(engine, "embed", "similarity");
  const { source_sentence, sentences } = body.inputs;
  if (sentences.length === 0)
    throw new BadRequestError("sentences must not be empty", "inputs.sentences");
  const prompts = withPrefix(
    engine,
    [source_sentence, ...sentences],
    deps.limits,
    body.prompt_name,
  );
  const results = await runPool(c, engine, "embed", prompts, truncation(body));
  const [source, ...others] = results.map((r) => r.output as Float32Array);
  return c.json(others.map((v) => cosineSimilarity(source!, v)));
}

const Vectors = z.array(z.array(z.number()));
export const TeiPredictResponse = z.union([
  z.array(z.object({ score: z.number(), label: z.string() })),
  z.array(z.array(z.object({ score: z.number(), label: z.string() }))),
]);

/** Hugging Face TEI routes: `/embed`, `/embed_all`, `/embed_sparse`, `/predict`, `/similarity`. */
export function registerTei(app: App, deps: RouteDeps): void {
  postRoute(
    app,
    {
      paths: ["/embed"],
      summary: "Embed (TEI)",
      tag: "TEI",
      body: TeiEmbedRequest,
      examples: {
        text: { summary: "One text", value: { inputs: "What is deep learning?" } },
        batch: {
          summary: "A batch, truncated to the model's length",
          value: {
            inputs: ["What is deep learning?", "Deep learning is a subset of machine learning."],
            truncate: true,
          },
        },
      },
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
      body: TeiEmbedRequest.omit({ normalize: true, dimensions: true }),
      examples: { text: { summary: "One text", value: { inputs: "What is deep learning?" } } },
      response: z.array(Vectors),
    },
    async (c, body) => {
      const engine = engineFor(deps, null);
      requireTask(engine, "token_embed");
      const prompts = withPrefix(engine, body.inputs, deps.limits, body.prompt_name);
      const results = await runPool(c, engine, "token_embed", prompts, {
        ...truncation(body),
        useActivation: false,
      });
      return jsonResponse(
        c,
        results.map((r) => r.output as Float32Array[]),
      );
    },
  );

  postRoute(
    app,
    {
      paths: ["/embed_sparse"],
      summary: "Sparse embeddings (TEI; SPLADE / bge-m3 style models)",
      tag: "TEI",
      body: TeiEmbedRequest.omit({ normalize: true, dimensions: true }).extend({
        sparse_format: SparseFormat.nullish(),
      }),
      examples: {
        text: { summary: "One text", value: { inputs: "What is deep learning?" } },
      },
      response: z.array(z.array(SparseEntry)),
    },
    async (c, body) => {
      const engine = engineFor(deps, null);
      if (!engine.pooler.sparse) throw notServed(engine, "embed_sparse");
      const prompts = withPrefix(engine, body.inputs, deps.limits, body.prompt_name);
      const results = await runLexical(c, engine, prompts, truncation(body));
      const format = body.sparse_format ?? "index_value";
      return c.json(results.map((r) => formatSparse(engine, r.weights, format)));
    },
  );

  postRoute(
    app,
    {
      paths: ["/predict"],
      summary: "Classify sequences or pairs (TEI)",
      tag: "TEI",
      body: TeiPredictRequest,
      examples: {
        text: { summary: "One text", value: { inputs: "I like you. I love you." } },
        batch: {
          summary: "A batch of texts and pairs",
          value: {
            inputs: [["I like you."], ["What is the capital of France?", "Paris is the capital."]],
          },
        },
      },
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
