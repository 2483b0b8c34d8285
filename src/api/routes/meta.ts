import { createRoute, z } from "@hono/zod-openapi";
import type { App, Ctx } from "../context.js";
import type { Metrics } from "../metrics.js";
import type { RouteDeps } from "../route-deps.js";
import { created } from "../route-deps.js";
import { ErrorResponse } from "../schemas.js";

const ModelList = z
  .object({
    object: z.literal("list"),
    data: z.array(
      z.object({
        id: z.string(),
        object: z.literal("model"),
        created: z.number().int(),
        owned_by: z.string(),
        root: z.string(),
        parent: z.null(),
        max_model_len: z.number().int(),
        permission: z.array(z.unknown()),
        memory: z
          .object({ onnx_bytes: z.number().int(), rss_delta_bytes: z.number().int() })
          .optional()
          .openapi({ description: "What loading the model cost (edgepool extension)" }),
      }),
    ),
  })
  .openapi("ModelList");

/** The scheme Swagger UI's "Authorize" fills: every request then sends `Authorization: Bearer KEY`. */
const BEARER = "apiKey";

function documentGet(
  app: App,
  path: string,
  summary: string,
  schema: z.ZodType,
  type = "application/json",
  isPublic = false,
): void {
  app.openAPIRegistry.registerPath(
    createRoute({
      method: "get",
      path,
      summary,
      tags: ["Operations"],
      ...(isPublic ? { security: [] } : {}),
      responses: {
        200: { description: "OK", content: { [type]: { schema } } },
        503: {
          description: "Not ready",
          content: { "application/json": { schema: ErrorResponse } },
        },
      },
    }),
  );
}

export interface MetaOptions {
  version: string;
  metrics: Metrics | null;
  /** Whether requests need an API key (static keys or a metering store). */
  auth: boolean;
}

/** `/v1/models`, `/health`, `/ping`, `/version`, `/metrics`, `/openapi.json`. */
export function registerMeta(app: App, deps: RouteDeps, opts: MetaOptions): void {
  const startedAt = created();
  documentGet(app, "/v1/models", "List served models", ModelList);
  app.get("/v1/models", (c) => {
    const data = deps.hosts.flatMap((host) => {
      const engine = host.require();
      return host.servedNames.map((id) => ({
        id,
        object: "model",
        created: startedAt,
        owned_by: "edgepool",
        root: engine.modelName,
        parent: null,
        max_model_len: engine.maxModelLen,
        permission: [],
        ...(host.memory ? { memory: host.memory } : {}),
      }));
    });
    return c.json({ object: "list", data });
  });

  documentGet(
    app,
    "/health",
    "200 when every model is ready, 503 while one is loading or after a failure",
    z.string(),
    "application/json",
    true,
  );
  documentGet(app, "/ping", "Same as /health", z.string(), "application/json", true);
  const health = (c: Ctx) => {
    for (const host of deps.hosts) host.require();
    return c.body(null, 200);
  };
  app.get("/health", health);
  app.get("/ping", health);
  app.post("/ping", health);

  documentGet(
    app,
    "/version",
    "Server version",
    z.object({ version: z.string() }),
    "application/json",
    true,
  );
  app.get("/version", (c) => c.json({ version: opts.version }));

  const { metrics } = opts;
  if (metrics) {
    documentGet(app, "/metrics", "Prometheus metrics", z.string(), "text/plain", true);
    app.get("/metrics", async (c) => {
      c.header("content-type", metrics.registry.contentType);
      return c.body(await metrics.registry.metrics());
    });
  }

  app.openAPIRegistry.registerComponent("securitySchemes", BEARER, {
    type: "http",
    scheme: "bearer",
    description: opts.auth
      ? "An API key of this server, sent as `Authorization: Bearer KEY` (`x-api-key: KEY` works too)."
      : "This server runs without API keys: requests need none. Behind a gateway that requires one (the edge Worker), give it here.",
  });
  const spec = () =>
    app.getOpenAPIDocument({
      openapi: "3.0.3",
      info: {
        title: "edgepool",
        version: opts.version,
        description:
          "Pooling-model inference: vLLM pooling, OpenAI embeddings, Cohere/Jina rerank and TEI routes.",
      },
      // Without keys, an empty requirement makes the key optional.
      security: opts.auth ? [{ [BEARER]: [] }] : [{ [BEARER]: [] }, {}],
    });
  app.get("/openapi.json", (c) => c.json(spec()));
}
