import { createRoute, z } from "@hono/zod-openapi";
import {
  BadRequestError,
  isJsonObject,
  type JsonObject,
  labelOf,
  ownValue,
  setOwn,
} from "../../core/index.js";
import type { Engine } from "../../engine/engine.js";
import { validate } from "../body.js";
import type { App, Ctx } from "../context.js";
import { postRoute, warnIgnoredFields } from "../route.js";
import { engineFor, notServed, type RouteDeps } from "../route-deps.js";
import { ErrorResponse } from "../schemas.js";
import { RerankRequest, rerank } from "./score.js";
import {
  SIMILARITY_EXAMPLE,
  TeiEmbedRequest,
  TeiPredictRequest,
  TeiSimilarityRequest,
  teiEmbed,
  teiPredict,
  teiSimilarity,
} from "./tei.js";

/** TEI's pooling names. */
const POOLING_NAMES: Record<string, string> = { CLS: "cls", MEAN: "mean", LAST: "last-token" };

function dtypeOf(onnxPath: string): string {
  const file = onnxPath.split(/[\\/]/).pop() ?? onnxPath;
  if (/fp16|float16/.test(file)) return "float16";
  if (/quantized|int8|q8|uint8/.test(file)) return "int8";
  return "float32";
}

function labelMaps(engine: Engine) {
  const id2label: Record<string, string> = {};
  const label2id: Record<string, number> = {};
  for (let i = 0; i < engine.pooler.spec.outputSize; i++) {
    const label = labelOf(engine.config, i) ?? `LABEL_${i}`;
    setOwn(id2label, String(i), label);
    setOwn(label2id, label, i);
  }
  return { id2label, label2id };
}

/** TEI's `model_type`: embedding (with its pooling), reranker (one label) or classifier. */
function modelType(engine: Engine) {
  const { kind, poolerConfig, splade } = engine.pooler.spec;
  // TEI reports a SPLADE model (`--pooling splade`) as an embedding model pooled by splade.
  if (splade) return { embedding: { pooling: "splade" } };
  if (kind === "embed") {
    return { embedding: { pooling: ownValue(POOLING_NAMES, poolerConfig.poolingType) ?? "cls" } };
  }
  return engine.pooler.supports("score")
    ? { reranker: labelMaps(engine) }
    : { classifier: labelMaps(engine) };
}

const Info = z
  .object({
    model_id: z.string(),
    model_sha: z.string().nullable(),
    model_dtype: z.string(),
    model_type: z.record(z.string(), z.unknown()),
    max_concurrent_requests: z.number().int(),
    max_input_length: z.number().int(),
    max_batch_tokens: z.number().int(),
    max_batch_requests: z.number().int().nullable(),
    max_client_batch_size: z.number().int(),
    auto_truncate: z.boolean(),
    tokenization_workers: z.number().int(),
    version: z.string(),
    sha: z.string().nullable(),
    docker_label: z.string().nullable(),
    prompts: z.record(z.string(), z.string()).nullable(),
  })
  .openapi("TeiInfo");

/** The Inference API's `parameters` object, folded into TEI's top-level fields. */
const PARAMETER_NAMES: ReadonlySet<string> = new Set([
  "normalize",
  "prompt_name",
  "truncate",
  "truncation_direction",
  "dimensions",
  "function_to_apply",
  "top_k",
]);

function withParameters(json: JsonObject): JsonObject {
  const parameters = json.parameters;
  if (parameters === undefined || parameters === null) return json;
  if (!isJsonObject(parameters)) throw new BadRequestError("parameters must be an object");
  for (const key of Object.keys(parameters)) {
    if (!PARAMETER_NAMES.has(key)) {
      throw new BadRequestError(
        `parameters.${key} is not supported; supported: ${[...PARAMETER_NAMES].join(", ")}`,
        `parameters.${key}`,
      );
    }
  }
  const { parameters: _, ...rest } = json;
  return { ...rest, ...parameters };
}

/** Text classification as the Inference API answers it: `[[{label, score}…]]` per input. */
async function classify(c: Ctx, deps: RouteDeps, engine: Engine, json: JsonObject) {
  const { function_to_apply: fn, top_k: topK, ...rest } = json;
  if (fn !== undefined && fn !== null && fn !== "none" && fn !== defaultFunction(engine)) {
    throw new BadRequestError(
      `function_to_apply '${String(fn)}' is not this model's; use 'none' or '${defaultFunction(engine)}'`,
      "function_to_apply",
    );
  }
  if (topK !== undefined && topK !== null && !(Number.isInteger(topK) && (topK as number) > 0)) {
    throw new BadRequestError("top_k must be a positive integer", "top_k");
  }
  warnIgnoredFields(c, rest, TeiPredictRequest);
  const body = validate(TeiPredictRequest, {
    ...rest,
    raw_scores: fn === "none" || rest.raw_scores,
  });
  const res = await teiPredict(c, deps, body);
  const predictions = (await res.json()) as unknown[];
  const nested = typeof body.inputs === "string" ? [predictions] : predictions;
  const cut = (nested as unknown[][]).map((p) => (topK ? p.slice(0, topK as number) : p));
  return c.json(cut);
}

function defaultFunction(engine: Engine): string {
  const n = engine.pooler.spec.outputSize;
  return n === 1 ? "sigmoid" : "softmax";
}

/**
 * `POST /` and `/invocations` (what a Hugging Face Inference Endpoint's URL points at): rerank for
 * a `{query, texts}` body, similarity for `{inputs: {source_sentence, sentences}}`, else embed or
 * classify by the model's type.
 */
async function root(c: Ctx, deps: RouteDeps, raw: JsonObject) {
  const engine = engineFor(deps, null);
  const json = withParameters(raw);
  // The body's fields are read by the route it is dispatched to: say which it ignores.
  const body = <S extends z.ZodType>(schema: S) => {
    warnIgnoredFields(c, json, schema);
    return validate(schema, json);
  };
  if (Object.hasOwn(json, "query")) return rerank(c, deps, body(RerankRequest));
  const inputs = json.inputs;
  if (isJsonObject(inputs) && Object.hasOwn(inputs, "source_sentence")) {
    return teiSimilarity(c, deps, body(TeiSimilarityRequest));
  }
  if (engine.pooler.supports("embed")) return teiEmbed(c, deps, body(TeiEmbedRequest));
  if (engine.pooler.supports("classify")) return classify(c, deps, engine, json);
  throw notServed(engine, "embed or predict");
}

export interface TeiRootOptions {
  version: string;
}

/** TEI's `GET /info`, and `POST /` / `/invocations` dispatching by body and model type. */
export function registerTeiRoot(app: App, deps: RouteDeps, opts: TeiRootOptions): void {
  postRoute(
    app,
    {
      paths: ["/", "/invocations"],
      summary:
        "Inference Endpoint root (TEI / SageMaker): embed, similarity, classify or rerank by body and model",
      tag: "TEI",
      body: z.looseObject({}).openapi("TeiRootRequest", {
        description:
          "A TEI /embed, /predict or /similarity body (`inputs`, optional Inference API `parameters`), or a TEI /rerank body (`query`, `texts`)",
      }),
      examples: {
        embed: {
          summary: "Embed (or classify, on a classifier)",
          value: { inputs: "What is deep learning?" },
        },
        similarity: { summary: "Sentence similarity", value: SIMILARITY_EXAMPLE },
        rerank: {
          summary: "Rerank (a reranker)",
          value: {
            query: "What is the capital of France?",
            texts: ["Paris is the capital of France.", "The cat sat on the mat."],
          },
        },
        parameters: {
          summary: "Inference API parameters",
          value: { inputs: ["What is deep learning?"], parameters: { truncate: true } },
        },
      },
      response: z.unknown(),
    },
    (c, body) => root(c, deps, body as JsonObject),
  );

  app.openAPIRegistry.registerPath(
    createRoute({
      method: "get",
      path: "/info",
      summary: "Model and router information (TEI)",
      tags: ["TEI"],
      responses: {
        200: { description: "OK", content: { "application/json": { schema: Info } } },
        503: {
          description: "Not ready",
          content: { "application/json": { schema: ErrorResponse } },
        },
      },
    }),
  );
  app.get("/info", (c) => {
    const engine = deps.host.require();
    const sched = engine.scheduler.options;
    const prompts = Object.keys(engine.prompts).length > 0 ? { ...engine.prompts } : null;
    return c.json({
      model_id: deps.host.servedNames[0] ?? engine.modelName,
      model_sha: null,
      model_dtype: dtypeOf(engine.onnxPath),
      model_type: modelType(engine),
      max_concurrent_requests: sched.maxConcurrentRequests,
      max_input_length: engine.maxModelLen,
      max_batch_tokens: sched.maxBatchTokens,
      max_batch_requests: sched.maxBatchSize,
      max_client_batch_size: deps.limits.maxClientBatchSize,
      auto_truncate: false,
      tokenization_workers: 1,
      version: opts.version,
      sha: null,
      docker_label: null,
      prompts,
    });
  });
}
