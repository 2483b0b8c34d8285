import { z } from "@hono/zod-openapi";
import { argmax, labelOf, type PoolingTask, UnsupportedTaskError } from "../../core/index.js";
import { binaryResponse, isBinaryFormat } from "../bytes.js";
import { formatPooled } from "../format.js";
import { runPool } from "../inference.js";
import { requestPrompts } from "../prompts.js";
import { type App, engineFor, listBody, postRoute, type RouteDeps, requireTask } from "../route.js";
import { EmbeddingFields, ListResponse, PromptFields } from "../schemas.js";
import { useActivationOf } from "../warnings.js";

const PoolingTaskName = z.enum(["embed", "classify", "token_embed", "token_classify", "plugin"]);

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
  })
  .openapi("PoolingRequest");

export const ClassificationRequest = z.object({ ...PromptFields }).openapi("ClassificationRequest");

const PoolingResponse = ListResponse(
  "PoolingResponse",
  z.object({
    index: z.number().int(),
    object: z.literal("pooling"),
    data: z.union([z.array(z.number()), z.array(z.array(z.number())), z.string()]),
  }),
);

const ClassificationResponse = ListResponse(
  "ClassificationResponse",
  z.object({
    index: z.number().int(),
    label: z.string().nullable(),
    probs: z.array(z.number()),
    num_classes: z.number().int(),
  }),
);

/** vLLM's `/pooling` (any task) and `/classify`. */
export function registerPooling(app: App, deps: RouteDeps): void {
  postRoute(
    app,
    {
      paths: ["/pooling"],
      summary: "Run any pooling task",
      tag: "vLLM",
      body: PoolingRequest,
      response: PoolingResponse,
    },
    async (c, body) => {
      const engine = engineFor(deps, body.model);
      const fallback = engine.tasks.includes("embed")
        ? "embed"
        : engine.tasks.find((t) => t !== "score")!;
      const task = body.task ?? fallback;
      if (task === "plugin") throw new UnsupportedTaskError(task, engine.tasks);
      const { prompts, options } = requestPrompts(body, engine, deps.limits);
      const results = await runPool(c, engine, task as PoolingTask, prompts, {
        ...options,
        dimensions: body.dimensions ?? null,
        useActivation: useActivationOf(c, body),
        stepTagId: body.step_tag_id ?? null,
        returnedTokenIds: body.returned_token_ids ?? null,
      });
      if (isBinaryFormat(body.encoding_format)) {
        const envelope = listBody(c, deps, body.model, "pool", [], results);
        const outputs = results.map((r) => r.output);
        return binaryResponse(c, body.encoding_format, envelope, outputs, body);
      }
      return c.json(
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
    },
  );

  postRoute(
    app,
    {
      paths: ["/classify"],
      summary: "Classify sequences",
      tag: "vLLM",
      body: ClassificationRequest,
      response: ClassificationResponse,
    },
    async (c, body) => {
      const engine = engineFor(deps, body.model);
      requireTask(engine, "classify");
      const { prompts, options } = requestPrompts(body, engine, deps.limits);
      const results = await runPool(c, engine, "classify", prompts, {
        ...options,
        useActivation: useActivationOf(c, body),
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
    },
  );
}
