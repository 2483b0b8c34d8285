import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture } from "../helpers/fixtures.js";
import { type RunningServer, startServer } from "../helpers/server.js";

describe("/openapi.json", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(["--model", fixture("bert-embed-mean"), "--api-key", "k"]);
  });
  afterAll(async () => {
    await server.stop();
  });

  it("is public and validates as OpenAPI 3", async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.status).toBe(200);
    const spec = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    const result = await new Validator().validate(
      spec as unknown as Parameters<Validator["validate"]>[0],
    );
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(spec.openapi).toMatch(/^3\./);
  });

  it("documents every route of the contract", async () => {
    const spec = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    const paths = Object.keys(spec.paths);
    for (const p of [
      "/v1/embeddings",
      "/embeddings",
      "/v2/embed",
      "/pooling",
      "/classify",
      "/score",
      "/v1/score",
      "/rerank",
      "/v1/rerank",
      "/v2/rerank",
      "/embed",
      "/embed_sparse",
      "/embed_all",
      "/predict",
      "/similarity",
      "/tokenize",
      "/detokenize",
      "/v1/models",
      "/health",
      "/ping",
      "/version",
      "/metrics",
    ]) {
      expect(paths).toContain(p);
    }
    expect(spec.components.schemas.EmbeddingRequest?.properties).toHaveProperty("dimensions");
  });
});
