import { createRoute, type z } from "@hono/zod-openapi";
import { NotFoundError, type PoolingTask } from "../core/index.js";
import type { Engine } from "../engine/engine.js";
import { readBody } from "./body.js";
import type { App, Ctx, RequestScope } from "./context.js";
import { isMounted } from "./families.js";
import { hostFor, type ModelHost } from "./host.js";
import type { Limits } from "./prompts.js";
import { ErrorResponse } from "./schemas.js";
import { warnIgnoredFields } from "./warnings.js";

/** What every route family needs. */
export interface RouteDeps {
  /** The first (default) model's host. */
  host: ModelHost;
  /** Every served model's host, `host` first; requests pick one by their `model`. */
  hosts: readonly ModelHost[];
  limits: Limits;
}

const errorResponses = Object.fromEntries(
  [
    [400, "Invalid request"],
    [401, "Missing or invalid API key"],
    [404, "Unknown model, or a task this model does not serve"],
    [413, "Body larger than the payload limit"],
    [429, "Over capacity"],
    [503, "Model loading or server shutting down"],
  ].map(([code, description]) => [
    code,
    {
      description: String(description),
      content: { "application/json": { schema: ErrorResponse } },
    },
  ]),
);

/** Named request examples, checked against the body schema; the first fills Swagger UI's "Try it out". */
export type RequestExamples<S extends z.ZodType> = Record<
  string,
  { summary: string; value: z.input<S> }
>;

export interface PostSpec<S extends z.ZodType> {
  paths: string[];
  summary: string;
  tag: string;
  body: S;
  /** Every route documents at least one example request (`/openapi.json`, the `/docs` page). */
  examples: RequestExamples<S>;
  response: z.ZodType;
  /** Sees the parsed JSON before validation (e.g. to pick the error shape by the body's form). */
  inspect?: (c: Ctx, json: Record<string, unknown>) => void;
}

/** Register a JSON POST route: documented in the OpenAPI spec, body read and validated by the same schema. */
export function postRoute<S extends z.ZodType>(
  app: App,
  spec: PostSpec<S>,
  handler: (c: Ctx, body: z.infer<S>) => Promise<Response> | Response,
): void {
  for (const path of spec.paths) {
    if (!isMounted(app, path)) continue;
    app.openAPIRegistry.registerPath(
      createRoute({
        method: "post",
        path,
        summary: spec.summary,
        tags: [spec.tag],
        request: {
          body: {
            content: { "application/json": { schema: spec.body, examples: spec.examples } },
            required: true,
          },
        },
        responses: {
          200: { description: "OK", content: { "application/json": { schema: spec.response } } },
          ...errorResponses,
        },
      }),
    );
    const inspect = (c: Ctx, json: Record<string, unknown>) => {
      spec.inspect?.(c, json);
      warnIgnoredFields(c, json, spec.body);
    };
    app.post(path, async (c) =>
      handler(c, await readBody(c, spec.body, (json) => inspect(c, json))),
    );
  }
}

/** The engine for a request: a 404 for an unknown `model`, a 503 while not ready. */
export function engineFor(deps: RouteDeps, model: string | null | undefined): Engine {
  const host = hostFor(deps.hosts, model);
  if (!host) {
    deps.host.require();
    throw new NotFoundError(`The model \`${model}\` does not exist.`, "model");
  }
  return host.require();
}

/** A 404 naming the model and the task it lacks, for routes the model cannot serve. */
export function notServed(engine: Engine, what: string): NotFoundError {
  return new NotFoundError(
    `Model "${engine.modelName}" does not support the '${what}' task; it serves: ${engine.tasks.join(", ")}`,
  );
}

export function requireTask(engine: Engine, task: PoolingTask, what: string = task): void {
  if (!engine.pooler.supports(task)) throw notServed(engine, what);
}

export function servedName(deps: RouteDeps, model: string | null | undefined): string {
  return model ?? deps.host.servedNames[0]!;
}

export function requestId(c: RequestScope): string {
  return c.get("requestId");
}

/** OpenAI's `usage`, counted from the results' prompt tokens. */
export function usage(results: readonly { promptTokenIds: number[] }[]) {
  const n = results.reduce((s, r) => s + r.promptTokenIds.length, 0);
  return { prompt_tokens: n, total_tokens: n, completion_tokens: 0, prompt_tokens_details: null };
}

export function created(): number {
  return Math.floor(Date.now() / 1000);
}

/** The list envelope of vLLM's responses, with usage counted from the results' prompt tokens. */
export function listBody<T>(
  c: RequestScope,
  deps: RouteDeps,
  model: string | null | undefined,
  prefix: string,
  data: T[],
  results: readonly { promptTokenIds: number[] }[],
) {
  return {
    id: `${prefix}-${requestId(c)}`,
    object: "list" as const,
    created: created(),
    model: servedName(deps, model),
    data,
    usage: usage(results),
  };
}
