import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OUT_DIR } from "../../scripts/build-functions.js";
import type { RouteFamily } from "../../src/api/index.js";
import type { BufferedHandler } from "../../src/lambda/index.js";
import { fixture } from "../helpers/fixtures.js";
import { requireBundles } from "../helpers/functions.js";
import {
  type EventInit,
  functionUrlEvent,
  httpApiEvent,
  type LambdaResult,
  lambdaContext,
  stableJson,
} from "../helpers/lambda.js";
import { postJson, type RunningServer, startServer } from "../helpers/server.js";

/** Each family's bundle, the fixture it serves, and requests covering its routes. */
const CASES: Array<{
  family: RouteFamily;
  model: string;
  requests: Array<[string, unknown]>;
}> = [
  {
    family: "embeddings",
    model: "bert-embed-mean",
    requests: [
      ["/v1/embeddings", { input: ["hello world", "a cat"], dimensions: undefined }],
      ["/embeddings", { input: "a cat", encoding_format: "base64" }],
      [
        "/v2/embed",
        { texts: ["a cat"], input_type: "search_document", embedding_types: ["float"] },
      ],
      ["/embed", { inputs: ["a cat", "a dog"] }],
    ],
  },
  {
    family: "rerank",
    model: "bert-cross-encoder",
    requests: [
      ["/rerank", { query: "capital of france", documents: ["paris is the capital", "berlin"] }],
      ["/v2/rerank", { query: "q", documents: ["a cat", "a dog", "hello"], top_n: 2 }],
    ],
  },
  {
    family: "score",
    model: "bert-cross-encoder",
    requests: [
      ["/score", { text_1: "what is deep learning?", text_2: ["a branch of ml", "a cat"] }],
      ["/v1/score", { text_1: "q", text_2: "a cat" }],
    ],
  },
  {
    family: "classify",
    model: "bert-classifier",
    requests: [
      ["/classify", { input: ["great movie", "awful"] }],
      ["/predict", { inputs: "a cat" }],
    ],
  },
  {
    family: "pooling",
    model: "bert-embed-mean",
    requests: [
      ["/pooling", { input: ["hello world"], task: "embed" }],
      ["/embed_all", { inputs: "a cat" }],
    ],
  },
  {
    family: "tokenize",
    model: "bert-embed-mean",
    requests: [
      ["/tokenize", { prompt: "hello world", return_token_strs: true }],
      ["/detokenize", { tokens: [2, 3, 4] }],
    ],
  },
  {
    family: "endpoint",
    model: "bert-classifier",
    requests: [
      ["/", { inputs: "a cat" }],
      ["/invocations", { inputs: ["a cat", "a dog"] }],
    ],
  },
];

const SERVED = "edgepool-test";

async function loadBundle(family: RouteFamily, model: string): Promise<BufferedHandler> {
  // A function reads its environment once, in its init phase (the import).
  process.env.EDGEPOOL_MODEL_URI = fixture(model);
  process.env.EDGEPOOL_SERVED_MODEL_NAME = SERVED;
  process.env.EDGEPOOL_LOG_LEVEL = "warn";
  const mod = (await import(pathToFileURL(join(OUT_DIR, family, "index.js")).href)) as {
    handler: BufferedHandler;
    streamHandler: unknown;
  };
  expect(mod.streamHandler).toBeUndefined(); // no awslambda global outside Lambda
  return mod.handler;
}

const invoke = async (h: BufferedHandler, event: unknown, name: string) =>
  (await h(event as never, lambdaContext(name) as never)) as unknown as LambdaResult;

describe("function bundles answer like `edgepool serve`", () => {
  const servers = new Map<string, RunningServer>();
  const env = { ...process.env };

  beforeAll(async () => {
    const models = [...new Set(CASES.map((c) => c.model))];
    requireBundles(CASES.map((c) => c.family));
    const started = await Promise.all(
      models.map((m) => startServer(["--model", fixture(m), "--served-model-name", SERVED])),
    );
    for (const [i, m] of models.entries()) servers.set(m, started[i]!);
  }, 180_000);

  afterAll(async () => {
    process.env = env;
    await Promise.all([...servers.values()].map((s) => s.stop()));
  });

  it.each(CASES)("$family: HTTP API and Function URL events, plain and base64", async (c) => {
    const handler = await loadBundle(c.family, c.model);
    const server = servers.get(c.model)!;
    for (const [path, body] of c.requests) {
      const expected = await postJson(`${server.url}${path}`, body);
      expect(expected.status, `server ${path}`).toBe(200);
      const variants: Array<[string, unknown]> = [
        ["HTTP API", httpApiEvent("POST", path, { body })],
        ["HTTP API base64", httpApiEvent("POST", path, { body, base64: true } as EventInit)],
        ["Function URL", functionUrlEvent("POST", path, { body })],
        ["Function URL base64", functionUrlEvent("POST", path, { body, base64: true })],
      ];
      for (const [kind, event] of variants) {
        const res = await invoke(handler, event, c.family);
        expect(res.statusCode, `${kind} ${path}: ${res.body}`).toBe(200);
        expect(res.headers["content-type"]).toMatch(/^application\/json/);
        expect(res.headers["x-inference-time"]).toMatch(/^\d+\.\d{3}$/);
        expect(stableJson(res.body), `${kind} ${path}`).toEqual(
          stableJson(JSON.stringify(expected.body)),
        );
      }
    }
    // Other families' routes are not part of this function; the operational ones are.
    const other = CASES.find((o) => o.family !== c.family && o.model === c.model) ?? CASES[0]!;
    const foreign = other.requests[0]![0];
    if (!CASES.find((x) => x.family === c.family)!.requests.some(([p]) => p === foreign)) {
      const res = await invoke(handler, httpApiEvent("POST", foreign, { body: {} }), c.family);
      expect(res.statusCode).toBe(404);
      expect(JSON.parse(res.body).error.type).toBe("NotFoundError");
    }
    const health = await invoke(handler, httpApiEvent("GET", "/health"), c.family);
    expect(health.statusCode).toBe(200);
    const models = await invoke(handler, functionUrlEvent("GET", "/v1/models"), c.family);
    expect(JSON.parse(models.body).data[0].id).toBe(SERVED);
  });

  it("errors keep the documented shape and status", async () => {
    const handler = await loadBundle("embeddings", "bert-embed-mean");
    const server = servers.get("bert-embed-mean")!;
    for (const body of ['{"input":', { input: [] }, { input: "x", dimensions: 7 }]) {
      const expected = await postJson(`${server.url}/v1/embeddings`, body);
      const res = await invoke(handler, httpApiEvent("POST", "/v1/embeddings", { body }), "e");
      expect(res.statusCode).toBe(expected.status);
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(JSON.parse(res.body)).toEqual(expected.body);
    }
  });
});
