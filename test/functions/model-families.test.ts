import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RouteFamily } from "../../src/api/index.js";
import { createFunction } from "../../src/lambda/index.js";
import { pinModel } from "../../src/models/index.js";
import { fixture, goldenCase, maxAbsDiff, rerankMismatch } from "../helpers/fixtures.js";
import {
  functionUrlEvent,
  httpApiEvent,
  type LambdaResult,
  lambdaContext,
} from "../helpers/lambda.js";
import { freePort, S3_ENV, type S3Server, startS3 } from "../helpers/s3.js";

const BUCKET = "models";
const quiet = { write: () => undefined };

/** A function of `family` serving `model` (a folder or a pinned URI), and a way to invoke it. */
async function fn(family: RouteFamily, model: string, env: NodeJS.ProcessEnv = {}) {
  const f = await createFunction(family, {
    env: { EDGEPOOL_MODEL_URI: model, EDGEPOOL_SERVED_MODEL_NAME: "m", ...env },
    logStream: quiet,
  });
  expect(f.instance.host.state, f.instance.host.failure ?? "").toBe("ready");
  return async (event: unknown) => {
    const res = (await f.handler(event as never, lambdaContext(family) as never)) as LambdaResult;
    return { status: res.statusCode, body: JSON.parse(res.body) };
  };
}

const post = (path: string, body: unknown) => httpApiEvent("POST", path, { body });
describe("model families through Lambda handlers (API Gateway and Function URL events)", () => {
  let work: string;
  let s3: S3Server;
  const saved = { ...process.env };
  const pinned: Record<string, string> = {};
  let s3Env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "edgepool-families-fn-"));
    Object.assign(process.env, S3_ENV);
    s3 = await startS3(join(work, "s3"), await freePort(), BUCKET);
    s3Env = { EDGEPOOL_S3_ENDPOINT: s3.endpoint, EDGEPOOL_CACHE_DIR: join(work, "cache") };
    // Pinned as a deploy pins them: only the files the family reads travel to the bucket.
    for (const name of ["splade-idf", "colbert-stanford"]) {
      pinned[name] = (
        await pinModel(fixture(name), `s3://${BUCKET}/models`, { endpoint: s3.endpoint })
      ).uri;
    }
  }, 120_000);
  afterAll(async () => {
    await s3.kill();
    rmSync(work, { recursive: true, force: true });
    process.env = saved;
  });

  it("SPLADE: /embed_sparse in TEI's shape, inference-free queries, from a pinned model", async () => {
    const invoke = await fn("embeddings", pinned["splade-idf"]!, s3Env);
    const docs = goldenCase(
      "splade-idf",
      "documents (the default route): SpladePooling max, log1p_relu",
    );
    const queries = goldenCase(
      "splade-idf",
      "queries: IDF weights of the tokens present, no model run",
    );
    const pairs = (b: Array<Array<{ index: number; value: number }>>) =>
      b.map((e) => e.map((x) => [x.index, x.value]));
    const doc = await invoke(post("/embed_sparse", { inputs: docs.texts }));
    expect(doc.status).toBe(200);
    expect(maxAbsDiff(pairs(doc.body), docs.expected)).toBeLessThan(1e-4);
    const query = await invoke(
      functionUrlEvent("POST", "/embed_sparse", {
        body: { inputs: queries.texts, prompt_name: "query" },
        base64: true,
      }),
    );
    expect(query.status).toBe(200);
    expect(maxAbsDiff(pairs(query.body), queries.expected)).toBeLessThan(1e-4);
    const bad = await invoke(post("/embed_sparse", { inputs: "[CLS]" }));
    expect(bad.status).toBe(422);
  });

  it("SPLADE: /pooling embed gives the vocabulary-sized vector", async () => {
    const invoke = await fn("pooling", fixture("splade"));
    const dense = goldenCase("splade", "embed: the vocabulary-sized vector (vLLM's SPLADE embed)");
    const res = await invoke(post("/pooling", { input: dense.texts, task: "embed" }));
    expect(res.status).toBe(200);
    expect(
      maxAbsDiff(
        res.body.data.map((d: { data: number[] }) => d.data),
        dense.expected,
      ),
    ).toBeLessThan(1e-4);
  });

  it("ColBERT (Stanford layout, pinned): /rerank by MaxSim; token vectors on /pooling", async () => {
    const maxsim = goldenCase(
      "colbert-stanford",
      "score MaxSim 1:N (query form against document form)",
    );
    const rerank = await fn("rerank", pinned["colbert-stanford"]!, s3Env);
    const res = await rerank(post("/rerank", { query: maxsim.text1, documents: maxsim.text2 }));
    expect(res.status).toBe(200);
    expect(rerankMismatch(res.body.results, maxsim.expected as number[])).toBeNull();
    const docs = goldenCase(
      "colbert",
      "token_embed documents: [D] marker, punctuation skipped, normalized",
    );
    const pooling = await fn("pooling", fixture("colbert"));
    const vectors = await pooling(post("/pooling", { input: docs.texts, task: "token_embed" }));
    expect(vectors.status).toBe(200);
    expect(
      maxAbsDiff(
        vectors.body.data.map((d: { data: number[][] }) => d.data),
        docs.expected,
      ),
    ).toBeLessThan(1e-4);
  });

  it("bge-m3 as one graph: ColBERT vectors and MaxSim scores equal the golden", async () => {
    const colbert = goldenCase("bge-m3-onnx", "ColBERT token_embed (first token dropped)");
    const pooling = await fn("pooling", fixture("bge-m3-onnx"));
    const res = await pooling(
      post("/pooling", {
        input: colbert.prompts!.map((p) => p.promptTokenIds),
        task: "token_embed",
      }),
    );
    expect(res.status).toBe(200);
    expect(
      maxAbsDiff(
        res.body.data.map((d: { data: number[][] }) => d.data),
        colbert.expected,
      ),
    ).toBeLessThan(1e-4);
    const maxsim = goldenCase("bge-m3-onnx", "score MaxSim 1:N (late interaction)");
    const score = await fn("score", fixture("bge-m3-onnx"));
    const s = await score(post("/score", { text_1: maxsim.text1, text_2: maxsim.text2 }));
    expect(s.status).toBe(200);
    expect(
      maxAbsDiff(
        s.body.data.map((d: { score: number }) => d.score),
        maxsim.expected,
      ),
    ).toBeLessThan(1e-4);
  });

  it("ModernBERT: nomic prompts on /v1/embeddings; the reranker on /rerank", async () => {
    const query = goldenCase("modernbert-embed", "embed with promptName query (search_query: )");
    const embed = await fn("embeddings", fixture("modernbert-embed"));
    const res = await embed(post("/v1/embeddings", { input: query.texts, prompt_name: "query" }));
    expect(res.status).toBe(200);
    expect(
      maxAbsDiff(
        res.body.data.map((d: { embedding: number[] }) => d.embedding),
        query.expected,
      ),
    ).toBeLessThan(1e-4);
    const scores = goldenCase("modernbert-reranker", "score cross-encoder 1:N (sigmoid)");
    const rerank = await fn("rerank", fixture("modernbert-reranker"));
    const r = await rerank(post("/rerank", { query: scores.text1, documents: scores.text2 }));
    expect(r.status).toBe(200);
    expect(rerankMismatch(r.body.results, scores.expected as number[])).toBeNull();
  });
});
