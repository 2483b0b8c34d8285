import { z } from "@hono/zod-openapi";
import { argmax, BadRequestError, labelOf, POOLING_TASKS } from "../../core/index.js";
import type { Engine } from "../../engine/engine.js";
import type { PoolTask } from "../../engine/types.js";
import { binaryResponse, isBinaryFormat } from "../bytes.js";
import type { App, Ctx } from "../context.js";
import { formatPooled } from "../format.js";
import { infer } from "../inference.js";
import { jsonResponse } from "../json-stream.js";
import { poolingInputs, requestPrompts } from "../prompts.js";
import { postRoute } from "../route.js";
import { created, listBody, type RouteDeps, requestId, usage } from "../route-deps.js";
import { EmbeddingFields, ListResponse, PromptFields } from "../schemas.js";
import { formatSparse, requireSparse, SparseEntry, SparseFormat } from "../sparse.js";

type PoolingBody = z.infer<typeof PoolingRequest>;

/** `/pooling`'s tasks: every pooling task but `score` (pairs have their routes), and `plugin`. */
const PoolingTaskName = z.enum([
  ...POOLING_TASKS.filter((t): t is PoolTask => t !== "score"),
  "plugin",
]);

export const PoolingRequest = z
  .object({
    ...PromptFields,
    ...EmbeddingFields,
    task: PoolingTaskName.nullish(),
    step_tag_id: z
      .number()
      .int()
      .nullish()
      .openapi({ description: "STEP pooling (token_classify)" }),
    returned_token_ids: z
      .array(z.number().int())
      .nullish()
      .openapi({ description: "token_classify: label columns to keep" }),
    data: z.unknown().optional().openapi({
      description: 'task "plugin": the IO-processor plugin\'s request data',
    }),
    sparse_format: SparseFormat.nullish().openapi({
      description:
        "Sparse models: token_classify on bge-m3, embed on SPLADE, as lexical weights in this form (instead of one weight per token, or the vocabulary-sized vector)",
    }),
  })
  .openapi("PoolingRequest");

export const ClassificationRequest = z
  .object({
    ...PromptFields,
    dimensions: z
      .number()
      .int()
      .nullish()
      .openapi({ description: "Refused: not a classify parameter" }),
  })
  .openapi("ClassificationRequest");

const PoolingResponse = ListResponse(
  "PoolingResponse",
  z.object({
    index: z.number().int(),
    object: z.literal("pooling"),
    data: z.union([
      z.array(z.number()),
      z.array(z.array(z.number())),
      z.string(),
      z.array(SparseEntry),
    ]),
  }),
);

const PluginResponse = z
  .object({
    request_id: z.string(),
    created_at: z.number().int(),
    data: z.unknown(),
    usage: z
      .object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() })
      .passthrough(),
  })
  .openapi("PluginResponse");

const ClassificationResponse = ListResponse(
  "ClassificationResponse",
  z.object({
    index: z.number().int(),
    label: z.string().nullable(),
    probs: z.array(z.number()),
    num_classes: z.number().int(),
  }),
);

/** `/pooling`'s task when the request names none: embed, else the model's first. */
function defaultTask(engine: Engine): PoolTask {
  return engine.tasks.includes("embed")
    ? "embed"
    : (engine.tasks.find((t) => t !== "score") as PoolTask);
}

/**
 * A sparse model's lexical weights (`sparse_format`): `token_classify` on bge-m3, `embed` on
 * SPLADE (whose embedding is the sparse vector).
 */
async function sparse(c: Ctx, deps: RouteDeps, body: PoolingBody, format: SparseFormat) {
  const { results, engine } = await infer(c, deps, {
    model: body.model,
    request: (engine) => {
      const { prompts, options } = requestPrompts(body, engine, deps.limits);
      const task = engine.pooler.spec.splade ? "embed" : "token_classify";
      if ((body.task ?? defaultTask(engine)) !== task) {
        throw new BadRequestError(`sparse_format applies to task '${task}'`, "sparse_format");
      }
      requireSparse(engine);
      return { task: "lexical", prompts, options };
    },
  });
  const data = results.map((r, index) => ({
    index,
    object: "pooling",
    data: formatSparse(engine, r.weights, format),
  }));
  return c.json(listBody(c, deps, body.model, "pool", data, results));
}

/** vLLM's `/pooling`: any pooling task, `plugin`, or lexical weights (`sparse_format`). */
async function pooling(c: Ctx, deps: RouteDeps, body: PoolingBody) {
  if (body.task === "plugin") {
    // vLLM's IOProcessorResponse: the plugin's `data`, with the request id and time.
    const { response, results } = await infer(c, deps, {
      model: body.model,
      request: () => ({ task: "plugin", data: body.data }),
    });
    return c.json({
      request_id: `pool-${requestId(c)}`,
      created_at: created(),
      data: response,
      usage: usage(results),
    });
  }
  if (body.sparse_format) return sparse(c, deps, body, body.sparse_format);
  const task = body.task;
  const { results } = await infer(c, deps, {
    model: body.model,
    request: (engine) => {
      const { prompts, params } = poolingInputs(c, body, engine, deps.limits);
      return {
        task: task ?? defaultTask(engine),
        prompts,
        params: {
          ...params,
          stepTagId: body.step_tag_id ?? null,
          returnedTokenIds: body.returned_token_ids ?? null,
        },
      };
    },
  });
  if (isBinaryFormat(body.encoding_format)) {
    const envelope = listBody(c, deps, body.model, "pool", [], results);
    const outputs = results.map((r) => r.output);
    return binaryResponse(c, body.encoding_format, envelope, outputs, body);
  }
  return jsonResponse(
    c,
    listBody(
      c,
      deps,
      body.model,
      "pool",
      results.map((r, index) => ({
        index,
        object: "pooling",
        data: formatPooled(r.output, body),
      })),
      results,
    ),
  );
}

/** vLLM's `/classify`: label and probabilities per input. */
async function classify(c: Ctx, deps: RouteDeps, body: z.infer<typeof ClassificationRequest>) {
  const { results, engine } = await infer(c, deps, {
    model: body.model,
    needs: "classify",
    request: (engine) => ({
      task: "classify",
      ...poolingInputs(c, body, engine, deps.limits),
    }),
  });
  return c.json(
    listBody(
      c,
      deps,
      body.model,
      "classify",
      results.map((r, index) => {
        const probs = r.output as Float32Array;
        return {
          index,
          label: labelOf(engine.config, argmax(probs)),
          probs: Array.from(probs),
          num_classes: probs.length,
        };
      }),
      results,
    ),
  );
}

/** vLLM's `/pooling` (any task) and `/classify`. */
export function registerPooling(app: App, deps: RouteDeps): void {
  postRoute(
    app,
    {
      paths: ["/pooling"],
      summary: "Run any pooling task",
      tag: "vLLM",
      body: PoolingRequest,
      examples: {
        default: {
          summary: "The model's own task",
          value: {
            input: ["What is deep learning?", "Deep learning is a subset of machine learning."],
          },
        },
        embed: { summary: "Embeddings", value: { input: "What is deep learning?", task: "embed" } },
        token_embed: {
          summary: "One vector per token",
          value: { input: "What is deep learning?", task: "token_embed" },
        },
      },
      response: z.union([PoolingResponse, PluginResponse]),
    },
    (c, body) => pooling(c, deps, body),
  );

  postRoute(
    app,
    {
      paths: ["/classify"],
      summary: "Classify sequences",
      tag: "vLLM",
      body: ClassificationRequest,
      examples: {
        batch: {
          summary: "Two texts",
          value: { input: ["Loved every minute of it.", "The plot made no sense at all."] },
        },
      },
      response: ClassificationResponse,
    },
    (c, body) => classify(c, deps, body),
  );
}
