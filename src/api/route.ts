import { createRoute, z } from "@hono/zod-openapi";
import { readBody } from "./body.js";
import type { App, Ctx } from "./context.js";
import { isMounted } from "./families.js";
import { ErrorResponse } from "./schemas.js";
import { warn } from "./warnings.js";

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

/**
 * Fields of a JSON body that its (strict-shape) schema does not read: accepted, as vLLM does, and
 * said in a warning with vLLM's wording rather than dropped without a word.
 */
export function warnIgnoredFields(c: Ctx, json: Record<string, unknown>, schema: z.ZodType): void {
  if (!(schema instanceof z.ZodObject) || schema.def.catchall !== undefined) return;
  const shape = schema.shape as Record<string, unknown>;
  const ignored = Object.keys(json).filter((k) => !Object.hasOwn(shape, k));
  if (ignored.length > 0) {
    // Bounded: a body with thousands of odd keys gets a short header.
    const named = ignored.slice(0, 16).map((k) => `'${k.slice(0, 64)}'`);
    if (ignored.length > 16) named.push(`… ${ignored.length - 16} more`);
    warn(c, `The following fields were present in the request but ignored: {${named.join(", ")}}`);
  }
}
