import { z } from "@hono/zod-openapi";
import { BadRequestError, checkTaskParameters } from "../../core/index.js";
import type { Engine } from "../../engine/engine.js";
import type { PromptOptions } from "../../engine/prompts.js";
import type { ScoreRequest as PairsRequest, ScoreOptions } from "../../engine/types.js";
import type { App, Ctx } from "../context.js";
import { infer } from "../inference.js";
import { checkBatchSize } from "../prompts.js";
import { postRoute } from "../route.js";
import {
  engineFor,
  listBody,
  type RouteDeps,
  requestId,
  requireTask,
  servedName,
  usage,
} from "../route-deps.js";
import { DeprecatedActivation, ListResponse } from "../schemas.js";
import { useActivationOf } from "../warnings.js";

const Text = z.union([z.string(), z.looseObject({ text: z.string() })]);
const Texts = z.union([Text, z.array(Text)]);

const ScoreFields = {
  model: z.string().nullish(),
  instruction: z.string().nullish().openapi({
    description:
      "LLM rerankers with a score template (Qwen3-Reranker): the task instruction; the template's default when unset",
  }),
  score_mode: z.enum(["cosine", "maxsim", "lexical"]).nullish().openapi({
    description:
      "Embedding models: cosine of the embeddings, MaxSim over ColBERT token vectors (default for late-interaction models such as bge-m3), or the lexical match of sparse weights",
  }),
  truncate_prompt_tokens: z.number().int().min(-1).nullish(),
  truncation_side: z.enum(["left", "right"]).nullish(),
  use_activation: z.boolean().nullish(),
  ...DeprecatedActivation,
  dimensions: z.number().int().nullish().openapi({ description: "Refused: not a score parameter" }),
  user: z.string().nullish(),
  request_id: z.string().nullish(),
  priority: z.number().int().nullish(),
};

export const ScoreRequest = z
  .object({
    ...ScoreFields,
    text_1: Texts.optional(),
    text_2: Texts.optional(),
    queries: Texts.optional(),
    documents: Texts.optional(),
    items: Texts.optional(),
    data_1: Texts.optional(),
    data_2: Texts.optional(),
  })
  .openapi("ScoreRequest");

export const RerankRequest = z
  .object({
    ...ScoreFields,
    query: z.string().optional(),
    documents: z.array(Text).optional(),
    top_n: z.number().int().min(0).nullish(),
    return_documents: z.boolean().nullish(),
    max_tokens_per_doc: z
      .number()
      .int()
      .min(1)
      .nullish()
      .openapi({ description: "Cohere v2: cut each document to this many tokens first" }),
    // TEI's spelling
    texts: z.array(z.string()).optional(),
    raw_scores: z.boolean().nullish(),
    return_text: z.boolean().nullish(),
    truncate: z.boolean().nullish(),
    truncation_direction: z.enum(["Left", "Right", "left", "right"]).nullish(),
  })
  .openapi("RerankRequest");

const ScoreResponse = ListResponse(
  "ScoreResponse",
  z.object({ index: z.number().int(), object: z.literal("score"), score: z.number() }),
);

const RerankResponse = z
  .object({
    id: z.string(),
    model: z.string(),
    usage: z.object({ total_tokens: z.number().int() }),
    results: z.array(
      z.object({
        index: z.number().int(),
        document: z.object({ text: z.string() }).optional(),
        relevance_score: z.number(),
      }),
    ),
  })
  .openapi("RerankResponse");

type TextValue = z.infer<typeof Text>;

function texts(value: TextValue | TextValue[]): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((t) => (typeof t === "string" ? t : t.text));
}

const PAIRS = [
  ["text_1", "text_2"],
  ["queries", "documents"],
  ["queries", "items"],
  ["data_1", "data_2"],
] as const;

function scoreSides(body: z.infer<typeof ScoreRequest>): [string[], string[]] {
  for (const [a, b] of PAIRS) {
    const left = body[a];
    const right = body[b];
    if (left !== undefined && right !== undefined) return [texts(left), texts(right)];
  }
  throw new BadRequestError(
    "Give the two sides as text_1/text_2, queries/documents, queries/items or data_1/data_2",
    "text_1",
  );
}

function promptOptions(body: {
  truncate_prompt_tokens?: number | null;
  truncation_side?: "left" | "right" | null;
}): PromptOptions {
  const o: PromptOptions = {};
  if (body.truncate_prompt_tokens !== undefined && body.truncate_prompt_tokens !== null) {
    o.truncatePromptTokens = body.truncate_prompt_tokens;
  }
  if (body.truncation_side) o.truncationSide = body.truncation_side;
  return o;
}

/** A document cut to its first `n` tokens (Cohere's `max_tokens_per_doc`), as text. */
function firstTokens(engine: Engine, text: string, n: number): string {
  const ids = engine.tokenizer.encode(text, { addSpecialTokens: false }).ids;
  return ids.length <= n ? text : engine.tokenizer.decode(ids.slice(0, n), true);
}

/** The texts a rerank request ranks: `documents`, or TEI's `texts`. */
function givenTexts(body: z.infer<typeof RerankRequest>): { tei: boolean; given: string[] } {
  const tei = body.documents === undefined && body.texts !== undefined;
  return { tei, given: tei ? body.texts! : texts(body.documents ?? []) };
}

/** What a rerank request runs, refusing what running it refuses before the run. */
function rerankRequest(
  engine: Engine,
  deps: RouteDeps,
  body: z.infer<typeof RerankRequest>,
  useActivation: boolean | null,
): PairsRequest {
  checkTaskParameters("score", { dimensions: body.dimensions ?? null });
  const { tei, given } = givenTexts(body);
  const docs = body.max_tokens_per_doc
    ? given.map((d) => firstTokens(engine, d, body.max_tokens_per_doc!))
    : given;
  if (body.query === undefined) throw new BadRequestError("query is required", "query");
  if (docs.length === 0) throw new BadRequestError("documents must not be empty", "documents");
  checkBatchSize(docs.length, deps.limits, "documents");
  const options: ScoreOptions = {
    ...promptOptions(body),
    useActivation: body.raw_scores ? false : useActivation,
    scoreMode: body.score_mode ?? null,
    instruction: body.instruction ?? null,
  };
  if (tei && body.truncate) {
    options.truncatePromptTokens = -1;
    options.truncationSide = body.truncation_direction?.toLowerCase() === "left" ? "left" : "right";
  }
  return { task: "score", queries: [body.query], documents: docs, options };
}

/**
 * Refuse a rerank request now exactly as running it would (schema aside): its model and task,
 * batch size, characters and tokens per input. Rerank jobs are checked so at submission.
 */
export function checkRerank(deps: RouteDeps, body: z.infer<typeof RerankRequest>): void {
  const engine = engineFor(deps, body.model);
  requireTask(engine, "score", "rerank");
  engine.check(rerankRequest(engine, deps, body, null));
}

/** Jina/Cohere rerank, or TEI's `/rerank` shape when the body has `texts`. */
export async function rerank(c: Ctx, deps: RouteDeps, body: z.infer<typeof RerankRequest>) {
  const { tei, given } = givenTexts(body);
  const { results } = await infer(c, deps, {
    model: body.model,
    needs: "score",
    route: "rerank",
    request: (engine) => rerankRequest(engine, deps, body, useActivationOf(c, body)),
  });
  const ranked = results
    .map((r, index) => ({ index, score: r.score }))
    .sort((a, b) => b.score - a.score);
  const topN = body.top_n ? ranked.slice(0, body.top_n) : ranked;
  if (tei) {
    return c.json(
      topN.map((r) => ({
        index: r.index,
        score: r.score,
        ...(body.return_text ? { text: given[r.index] } : {}),
      })),
    );
  }
  const withDocs = body.return_documents ?? true;
  return c.json({
    id: `rerank-${requestId(c)}`,
    model: servedName(deps, body.model),
    usage: { total_tokens: usage(results).total_tokens },
    results: topN.map((r) => ({
      index: r.index,
      ...(withDocs ? { document: { text: given[r.index]! } } : {}),
      relevance_score: r.score,
    })),
  });
}

/** vLLM `/score`: a score per pair, 1:1, 1:N or N:N. */
async function score(c: Ctx, deps: RouteDeps, body: z.infer<typeof ScoreRequest>) {
  const { results } = await infer(c, deps, {
    model: body.model,
    needs: "score",
    request: () => {
      checkTaskParameters("score", { dimensions: body.dimensions ?? null });
      const [queries, documents] = scoreSides(body);
      checkBatchSize(Math.max(queries.length, documents.length), deps.limits, "text_2");
      const options = {
        ...promptOptions(body),
        useActivation: useActivationOf(c, body),
        scoreMode: body.score_mode ?? null,
        instruction: body.instruction ?? null,
      };
      return { task: "score", queries, documents, options };
    },
  });
  return c.json(
    listBody(
      c,
      deps,
      body.model,
      "score",
      results.map((r, index) => ({ index, object: "score", score: r.score })),
      results,
    ),
  );
}

/** vLLM `/score`, Jina/Cohere rerank (and TEI's `/rerank` shape when the body has `texts`). */
export function registerScore(app: App, deps: RouteDeps): void {
  postRoute(
    app,
    {
      paths: ["/score", "/v1/score"],
      summary: "Score pairs (1:1, 1:N, N:N)",
      tag: "vLLM",
      body: ScoreRequest,
      examples: {
        one_to_many: {
          summary: "One query against two texts",
          value: {
            text_1: "What is the capital of France?",
            text_2: ["Paris is the capital of France.", "The cat sat on the mat."],
          },
        },
        queries: {
          summary: "queries/documents, pair by pair",
          value: {
            queries: ["What is the capital of France?", "Where is the Eiffel Tower?"],
            documents: ["Paris is the capital of France.", "The Eiffel Tower is in Paris."],
          },
        },
      },
      response: ScoreResponse,
    },
    (c, body) => score(c, deps, body),
  );

  postRoute(
    app,
    {
      paths: ["/rerank", "/v1/rerank", "/v2/rerank"],
      summary: "Rerank documents for a query (Jina / Cohere; TEI with `texts`)",
      tag: "Rerank",
      body: RerankRequest,
      examples: {
        documents: {
          summary: "Jina / Cohere",
          value: {
            query: "What is the capital of France?",
            documents: [
              "Paris is the capital of France.",
              "The cat sat on the mat.",
              "France is in Europe.",
            ],
            top_n: 2,
          },
        },
        tei: {
          summary: "TEI (texts)",
          value: {
            query: "What is the capital of France?",
            texts: ["Paris is the capital of France.", "The cat sat on the mat."],
            return_text: true,
          },
        },
      },
      response: RerankResponse,
      // TEI's form (`texts`, no `documents`) gets TEI's error shape.
      inspect: (c, json) => {
        if (Object.hasOwn(json, "texts") && !Object.hasOwn(json, "documents")) {
          c.set("errorStyle", "tei");
        }
      },
    },
    (c, body) => rerank(c, deps, body),
  );
}
