import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, goldenCase, maxAbsDiff, rerankMismatch } from "../helpers/fixtures.js";
import { getJson, postJson, type RunningServer, startServer } from "../helpers/server.js";

const MAX = "splade";
const sparse = goldenCase(MAX, "sparse embeddings (SpladePooling max) [index, value]");
const dense = goldenCase(MAX, "embed: the vocabulary-sized vector (vLLM's SPLADE embed)");
const dot = goldenCase(
  MAX,
  "score: dot product of the sparse vectors (SparseEncoder's similarity)",
);
const docs = goldenCase(
  "splade-idf",
  "documents (the default route): SpladePooling max, log1p_relu",
);
const queries = goldenCase(
  "splade-idf",
  "queries: IDF weights of the tokens present, no model run",
);
const idfScore = goldenCase("splade-idf", "score: IDF query · SPLADE documents");
const texts = sparse.texts!;

type Tei = Array<{ index: number; value: number }>;
const pairs = (rows: Tei[]) => rows.map((r) => r.map((e) => [e.index, e.value]));

describe("SPLADE over HTTP", () => {
  let splade: RunningServer;
  let idf: RunningServer;

  beforeAll(async () => {
    [splade, idf] = await Promise.all([
      startServer(["--model", fixture(MAX), "--served-model-name", "splade"]),
      startServer(["--model", fixture("splade-idf"), "--served-model-name", "splade-idf"]),
    ]);
  });
  afterAll(async () => {
    await Promise.all([splade.stop(), idf.stop()]);
  });

  it("/embed_sparse answers TEI's [[{index, value}]] (the non-zero entries), equal to PyTorch", async () => {
    const res = await postJson(`${splade.url}/embed_sparse`, { inputs: texts });
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(texts.length);
    expect(Object.keys(res.body[0][0]).sort()).toEqual(["index", "value"]);
    expect(maxAbsDiff(pairs(res.body), sparse.expected)).toBeLessThan(1e-4);
    const named = await postJson(`${splade.url}/embed_sparse`, {
      inputs: texts[0],
      sparse_format: "token_weight",
    });
    expect(named.status).toBe(200);
    const first = named.body[0] as Array<{ token_id: number; token: string; weight: number }>;
    expect(first.map((e) => e.token_id)).toEqual(
      (sparse.expected[0] as number[][]).map((e) => e[0]),
    );
    expect(first.every((e) => typeof e.token === "string" && e.token.length > 0)).toBe(true);
  });

  it("TEI's /info says an embedding model pooled by splade", async () => {
    const info = await getJson(`${splade.url}/info`);
    expect(info.status).toBe(200);
    expect(info.body.model_type).toEqual({ embedding: { pooling: "splade" } });
  });

  it("/pooling embed gives vLLM's vocabulary-sized vector; sparse_format the compact forms", async () => {
    const res = await postJson(`${splade.url}/pooling`, { input: texts, task: "embed" });
    expect(res.status).toBe(200);
    const got = res.body.data.map((d: { data: number[] }) => d.data);
    expect(got[0]).toHaveLength((dense.expected[0] as number[]).length);
    expect(maxAbsDiff(got, dense.expected)).toBeLessThan(1e-4);
    const compact = await postJson(`${splade.url}/pooling`, {
      input: texts,
      sparse_format: "index_value",
    });
    expect(compact.status).toBe(200);
    expect(
      maxAbsDiff(pairs(compact.body.data.map((d: { data: Tei }) => d.data)), sparse.expected),
    ).toBeLessThan(1e-4);
    const openai = await postJson(`${splade.url}/v1/embeddings`, { input: texts[1] });
    expect(openai.status).toBe(200);
    expect(maxAbsDiff(openai.body.data[0].embedding, dense.expected[1])).toBeLessThan(1e-4);
  });

  it("/score and /rerank use the sparse vectors' dot product (SparseEncoder's similarity)", async () => {
    const { text1, text2 } = dot;
    const score = await postJson(`${splade.url}/score`, { text_1: text1, text_2: text2 });
    expect(score.status).toBe(200);
    const got = score.body.data.map((d: { score: number }) => d.score);
    expect(maxAbsDiff(got, dot.expected)).toBeLessThan(1e-4);
    const rerank = await postJson(`${splade.url}/rerank`, { query: text1, documents: text2 });
    expect(rerank.status).toBe(200);
    expect(rerankMismatch(rerank.body.results, dot.expected as number[])).toBeNull();
  });

  it("inference-free: documents run the model, queries (prompt_name query) weigh their tokens' IDF", async () => {
    const doc = await postJson(`${idf.url}/embed_sparse`, { inputs: texts });
    expect(doc.status).toBe(200);
    expect(maxAbsDiff(pairs(doc.body), docs.expected)).toBeLessThan(1e-4);
    const query = await postJson(`${idf.url}/embed_sparse`, {
      inputs: texts,
      prompt_name: "query",
    });
    expect(query.status).toBe(200);
    expect(maxAbsDiff(pairs(query.body), queries.expected)).toBeLessThan(1e-4);
    // A query runs no model: its timing headers say no inference happened.
    expect(query.headers.get("x-inference-time")).not.toBeNull();
    expect(Number(query.headers.get("x-inference-time"))).toBe(0);
    const rerank = await postJson(`${idf.url}/score`, {
      text_1: idfScore.text1,
      text_2: idfScore.text2,
    });
    expect(rerank.status).toBe(200);
    expect(
      maxAbsDiff(
        rerank.body.data.map((d: { score: number }) => d.score),
        idfScore.expected,
      ),
    ).toBeLessThan(1e-4);
  });

  it("bad inputs get clear 4xx: empty, only special tokens, over length, parameters SPLADE lacks", async () => {
    const empty = await postJson(`${splade.url}/embed_sparse`, { inputs: "" });
    expect(empty.status).toBe(422);
    expect(empty.body.error).toMatch(/empty/);
    const specials = await postJson(`${splade.url}/embed_sparse`, { inputs: "[CLS] [SEP]" });
    expect(specials.status).toBe(422);
    expect(specials.body.error).toMatch(/only special tokens/);
    const blank = await postJson(`${splade.url}/pooling`, { input: "   " });
    expect(blank.status).toBe(400);
    expect(blank.body.error.message).toMatch(/only special tokens/);
    const long = await postJson(`${splade.url}/embed_sparse`, { inputs: "cat ".repeat(80) });
    expect(long.status).toBe(422);
    expect(long.body.error).toMatch(/maximum context length is 64 tokens/);
    const act = await postJson(`${splade.url}/pooling`, { input: "a cat", use_activation: true });
    expect(act.status).toBe(400);
    expect(act.body.error.message).toMatch(/use_activation does not apply to a SPLADE model/);
    const tokens = await postJson(`${splade.url}/pooling`, {
      input: "a cat",
      task: "token_embed",
    });
    expect(tokens.status).toBe(400);
    expect(tokens.body.error.message).toMatch(/^Unsupported task: 'token_embed'/);
    const route = await postJson(`${idf.url}/embed_sparse`, { inputs: "a cat", prompt_name: "x" });
    expect(route.status).toBe(422);
    expect(route.body.error).toMatch(/Unknown prompt_name 'x'/);
  });
});
