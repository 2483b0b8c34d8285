import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, type Golden, goldens, maxAbsDiff } from "../helpers/fixtures.js";
import { postJson, type RunningServer, startServer } from "../helpers/server.js";

const golden = goldens().find((g) => g.name === "bge-m3-onnx") as Golden;
const expected = (name: string) => golden.cases.find((c) => c.name.startsWith(name))!.expected;
const texts = golden.tokenization.map((t) => t.text);
const QUERY = "what is the capital of france";
const DOCS = ["paris is the capital of france", "the cat sat on the mat", "berlin is a city"];

describe("bge-m3 as one ONNX graph (dense_vecs, sparse_vecs, colbert_vecs)", () => {
  let graph: RunningServer;
  let heads: RunningServer;

  beforeAll(async () => {
    [graph, heads] = await Promise.all([
      startServer(["--model", fixture("bge-m3-onnx"), "--served-model-name", "graph"]),
      startServer([
        "--model",
        fixture("bge-m3"),
        "--served-model-name",
        "heads",
        "--hf-overrides",
        '{"architectures":["BgeM3EmbeddingModel"]}',
      ]),
    ]);
  });
  afterAll(async () => {
    await Promise.all([graph.stop(), heads.stop()]);
  });

  /** The same request to both servers: each equals the golden, and they equal each other. */
  async function both(path: string, body: unknown, pick: (b: unknown) => unknown, name: string) {
    const [a, b] = await Promise.all([
      postJson(`${graph.url}${path}`, body),
      postJson(`${heads.url}${path}`, body),
    ]);
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(b.status).toBe(200);
    expect(maxAbsDiff(pick(a.body), expected(name))).toBeLessThan(1e-4);
    expect(maxAbsDiff(pick(a.body), pick(b.body))).toBeLessThan(1e-5);
  }

  const data = (b: unknown) => (b as { data: Array<{ data: unknown }> }).data.map((d) => d.data);
  const scores = (b: unknown) => (b as { data: Array<{ score: number }> }).data.map((d) => d.score);

  it("is detected from its outputs: dense, ColBERT and sparse without an override", async () => {
    await both(
      "/v1/embeddings",
      { input: texts },
      (b) => (b as { data: Array<{ embedding: number[] }> }).data.map((d) => d.embedding),
      "dense",
    );
    await both("/pooling", { input: texts, task: "token_embed" }, data, "ColBERT");
    await both("/pooling", { input: texts, task: "token_classify" }, data, "sparse token_classify");
    await both(
      "/embed_sparse",
      { inputs: texts },
      (b) =>
        (b as Array<Array<{ index: number; value: number }>>).map((e) =>
          e.map((x) => [x.index, x.value]),
        ),
      "sparse lexical",
    );
  });

  it("scores by MaxSim, lexical match or dense cosine as the safetensors heads do", async () => {
    const body = { text_1: QUERY, text_2: DOCS };
    await both("/score", body, scores, "score MaxSim");
    await both("/score", { ...body, score_mode: "lexical" }, scores, "score lexical");
    await both("/score", { ...body, score_mode: "cosine" }, scores, "score dense");
    const rerank = await postJson(`${graph.url}/rerank`, { query: QUERY, documents: DOCS });
    expect(rerank.status).toBe(200);
    const want = (expected("score MaxSim") as number[])
      .map((s, index) => ({ index, s }))
      .sort((a, b) => b.s - a.s);
    expect(rerank.body.results.map((r: { index: number }) => r.index)).toEqual(
      want.map((w) => w.index),
    );
  });

  it("refuses what the graph cannot give, and bad inputs, with clear 4xx", async () => {
    const raw = await postJson(`${graph.url}/pooling`, {
      input: "a cat",
      task: "token_embed",
      use_activation: false,
    });
    expect(raw.status).toBe(400);
    expect(raw.body.error.message).toMatch(/normalized inside it: use_activation false/);
    const specials = await postJson(`${graph.url}/embed_sparse`, { inputs: "<s></s>" });
    expect(specials.status).toBe(422);
    expect(specials.body.error).toMatch(/only special tokens/);
    const long = await postJson(`${graph.url}/v1/embeddings`, { input: "cat ".repeat(70) });
    expect(long.status).toBe(400);
    expect(long.body.error.message).toMatch(/maximum context length is 64 tokens/);
  });
});
