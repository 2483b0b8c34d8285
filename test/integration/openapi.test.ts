import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAMILY_NAMES, familyPaths } from "../../src/api/families.js";
import { RerankJobRequest } from "../../src/api/routes/jobs.js";
import { fixture } from "../helpers/fixtures.js";
import { getJson, postJson, type RunningServer, startServer } from "../helpers/server.js";

interface Example {
  summary: string;
  value: unknown;
}
interface Operation {
  security?: unknown[];
  parameters?: Array<{
    name: string;
    in: string;
    example?: unknown;
    schema?: { example?: unknown };
  }>;
  requestBody?: { content: Record<string, { examples?: Record<string, Example> }> };
}
interface Spec {
  openapi: string;
  security: unknown[];
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, { properties: Record<string, unknown> }>;
    securitySchemes: Record<string, unknown>;
  };
}

const KEY = "k";
const auth = { authorization: `Bearer ${KEY}` };
const secret = `whsec_${Buffer.from("openapi-test-secret-0123456789").toString("base64")}`;

/** An error's message in edgepool's shape or TEI's. */
const messageOf = (body: { error?: string | { message?: string } }) =>
  typeof body?.error === "string" ? body.error : (body?.error?.message ?? JSON.stringify(body));

describe("/openapi.json", () => {
  let server: RunningServer;
  let store: string;
  let spec: Spec;
  beforeAll(async () => {
    // With a store and a webhook secret, so that the usage and job routes are documented too.
    store = mkdtempSync(join(tmpdir(), "edgepool-openapi-"));
    server = await startServer(
      [
        "--model",
        fixture("bert-embed-mean"),
        "--api-key",
        KEY,
        "--store",
        `sqlite:${join(store, "edgepool.db")}`,
        "--create",
        "--webhook-secret",
        secret,
      ],
      { EDGEPOOL_STORE: "", DATABASE_URL: "" },
    );
    spec = (await (await fetch(`${server.url}/openapi.json`)).json()) as Spec;
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(store, { recursive: true, force: true });
  });

  it("is public and validates as OpenAPI 3", async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.status).toBe(200);
    const result = await new Validator().validate(
      (await res.json()) as Parameters<Validator["validate"]>[0],
    );
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(spec.openapi).toMatch(/^3\./);
  });

  it("documents every route of the contract", async () => {
    const paths = Object.keys(spec.paths);
    // Every POST route (the route families'), the GET routes, and the optional modules' routes.
    for (const p of [
      ...familyPaths(FAMILY_NAMES),
      "/v1/models",
      "/health",
      "/ping",
      "/version",
      "/metrics",
      "/v1/usage",
      "/v1/rerank/jobs",
    ]) {
      expect(paths).toContain(p);
    }
    expect(spec.components.schemas.EmbeddingRequest?.properties).toHaveProperty("dimensions");
  });

  it("declares the API key as a bearer scheme (Swagger UI's Authorize), the operational routes public", () => {
    const [name] = Object.keys(spec.components.securitySchemes);
    expect(name).toBeDefined();
    expect(spec.components.securitySchemes[name!]).toMatchObject({
      type: "http",
      scheme: "bearer",
    });
    // Keys are enforced here: the requirement has no empty alternative.
    expect(spec.security).toEqual([{ [name!]: [] }]);
    for (const p of ["/health", "/ping", "/version", "/metrics"]) {
      expect(spec.paths[p]!.get!.security, p).toEqual([]);
    }
    expect(spec.paths["/v1/embeddings"]!.post!.security).toBeUndefined();
  });

  it("has an example request for every route with a body, and for every parameter", () => {
    let bodies = 0;
    for (const [path, ops] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (method === "post") {
          const examples = op.requestBody?.content["application/json"]?.examples ?? {};
          expect(Object.keys(examples).length, `${method} ${path}`).toBeGreaterThan(0);
          for (const [name, ex] of Object.entries(examples)) {
            expect(ex.summary, `${path} ${name}`).toMatch(/\w/);
            expect(ex.value, `${path} ${name}`).toBeTypeOf("object");
          }
          bodies++;
        }
        for (const param of op.parameters ?? []) {
          expect(param.example ?? param.schema?.example, `${path} ${param.name}`).toBeDefined();
        }
      }
    }
    expect(bodies).toBeGreaterThanOrEqual(21);
  });

  describe("every example request is answered", () => {
    // One fixture per kind of model; each example must get a 200 from at least one, and no
    // other answer than "this model does not serve that" from the rest: no validation error.
    let others: RunningServer[] = [];
    beforeAll(async () => {
      others = await Promise.all([
        startServer(["--model", fixture("bert-cross-encoder")]),
        startServer(["--model", fixture("bert-classifier")]),
        // Sparse (/embed_sparse), as vLLM serves BAAI/bge-m3.
        startServer([
          "--model",
          fixture("bge-m3"),
          "--hf-overrides",
          '{"architectures":["BgeM3EmbeddingModel"]}',
        ]),
      ]);
    });
    afterAll(async () => {
      await Promise.all(others.map((s) => s.stop()));
    });

    /** Examples whose values only a real model's vocabulary makes valid (fixtures: 132–169 tokens). */
    const MODEL_SPECIFIC: Record<string, RegExp> = { "/detokenize": /token/i };

    it("by a model that serves its route", async () => {
      let sent = 0;
      for (const [path, ops] of Object.entries(spec.paths)) {
        const examples = ops.post?.requestBody?.content["application/json"]?.examples;
        if (!examples || path === "/v1/rerank/jobs") continue;
        for (const [name, { value }] of Object.entries(examples)) {
          const answers = await Promise.all(
            [server, ...others].map((s) => postJson(`${s.url}${path}`, value, auth)),
          );
          const label = `${path} example "${name}": ${answers.map((a) => `${a.status} ${a.status === 200 ? "" : messageOf(a.body)}`).join(" | ")}`;
          const specific = MODEL_SPECIFIC[path];
          if (specific) {
            for (const a of answers) {
              expect(a.status === 200 || a.status === 400, label).toBe(true);
              if (a.status === 400) expect(messageOf(a.body), label).toMatch(specific);
            }
            continue;
          }
          expect(
            answers.some((a) => a.status === 200),
            label,
          ).toBe(true);
          // A route the model lacks is a 404 (TEI's shape: 424); a /pooling task, vLLM's 400.
          for (const a of answers.filter((a) => a.status !== 200)) {
            const message = messageOf(a.body);
            if (a.status === 400) expect(message, label).toMatch(/^Unsupported task/);
            else {
              expect([404, 424], label).toContain(a.status);
              expect(message, label).toMatch(/does not support/);
            }
          }
          sent++;
        }
      }
      expect(sent).toBeGreaterThanOrEqual(30);
    });

    it("the job and usage examples", async () => {
      const job =
        spec.paths["/v1/rerank/jobs"]!.post!.requestBody!.content["application/json"]!.examples!;
      for (const { value } of Object.values(job)) {
        expect(RerankJobRequest.safeParse(value).success).toBe(true);
      }
      const query = new URLSearchParams(
        spec.paths["/v1/usage"]!.get!.parameters!.map((p): [string, string] => [
          p.name,
          String(p.example ?? p.schema?.example),
        ]),
      );
      const usage = await getJson(`${server.url}/v1/usage?${query}`, auth);
      expect(usage.status, JSON.stringify(usage.body)).toBe(200);
      expect(usage.body.group_by).toBe("day");
    });
  });
});
