import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, type Golden, goldens, maxAbsDiff, rerankMismatch } from "../helpers/fixtures.js";
import { postJson, type RunningServer, startServer } from "../helpers/server.js";

const golden = goldens().find((g) => g.name === "bge-m3") as Golden;
const expected = (name: string) => golden.cases.find((c) => c.name.startsWith(name))!.expected;
const texts = golden.tokenization.map((t) => t.text);
const QUERY = "what is the capital of france";
const DOCS = ["paris is the capital of france", "the cat sat on the mat", "berlin is a city"];

describe("bge-m3 over HTTP (dense, sparse, ColBERT, MaxSim and lexical scores)", () => {
  let m3: RunningServer;
  let plain: RunningServer;

  beforeAll(async () => {
    [m3, plain] = await Promise.all([
      startServer([
        "--model",
        fixture("bge-m3"),
        "--served-model-name",
        "bge-m3",
        "--hf-overrides",
        '{"architectures":["BgeM3EmbeddingModel"]}',
      ]),
      startServer(["--model", fixture("bge-m3"), "--served-model-name", "plain"]),
    ]);
  });
  afterAll(async () => {
    await Promise.all([m3.stop(), plain.stop()]);
  });

  it("dense embeddings from /v1/embeddings match the golden", async () => {
    const res = await postJson(`${m3.url}/v1/embeddings`, { input: texts });
    expect(res.status).toBe(200);
    const got = res.body.data.map((d: { embedding: number[] }) => d.embedding);
    expect(maxAbsDiff(got, expected("dense"))).toBeLessThan(1e-4);
  });

  it("/pooling token_classify gives vLLM's one weight per token (BOS/EOS dropped)", async () => {
    const res = await postJson(`${m3.url}/pooling`, { input: texts, task: "token_classify" });
    expect(res.status).toBe(200);
    const got = res.body.data.map((d: { data: number[] }) => d.data);
    expect(maxAbsDiff(got, expected("sparse token_classify"))).toBeLessThan(1e-4);
  });

  it("/embed_sparse answers TEI's [{index, value}] and the {token_id, token, weight} form", async () => {
    const lexical = expected("sparse lexical") as Array<Array<[number, number]>>;
    const tei = await postJson(`${m3.url}/embed_sparse`, { inputs: texts });
    expect(tei.status).toBe(200);
    expect(
      maxAbsDiff(
        tei.body.map((e: Array<{ index: number; value: number }>) =>
          e.map((x) => [x.index, x.value]),
        ),
        lexical,
      ),
    ).toBeLessThan(1e-4);
    const named = await postJson(`${m3.url}/embed_sparse`, {
      inputs: texts[0],
      sparse_format: "token_weight",
    });
    expect(named.status).toBe(200);
    const first = named.body[0] as Array<{ token_id: number; token: string; weight: number }>;
    expect(first.map((e) => e.token_id)).toEqual(lexical[0]!.map((e) => e[0]));
    // "the cat sat on the mat": "the" appears twice and is listed once, with its larger weight.
    expect(first.filter((e) => e.token === "▁the")).toHaveLength(1);
    const pooled = await postJson(`${m3.url}/pooling`, {
      input: texts,
      task: "token_classify",
      sparse_format: "index_value",
    });
    expect(pooled.status).toBe(200);
    expect(pooled.body.data[1]).toEqual({ index: 1, object: "pooling", data: tei.body[1] });
  });

  it("/pooling token_embed gives ColBERT vectors (first token dropped, normalized)", async () => {
    const res = await postJson(`${m3.url}/pooling`, { input: texts, task: "token_embed" });
    expect(res.status).toBe(200);
    const got = res.body.data.map((d: { data: number[][] }) => d.data);
    expect(maxAbsDiff(got, expected("ColBERT"))).toBeLessThan(1e-4);
  });

  it("/score uses MaxSim by default; score_mode picks lexical or cosine", async () => {
    const scores = async (mode?: string) => {
      const res = await postJson(`${m3.url}/score`, {
        text_1: QUERY,
        text_2: DOCS,
        ...(mode ? { score_mode: mode } : {}),
      });
      expect(res.status).toBe(200);
      return res.body.data.map((d: { score: number }) => d.score);
    };
    expect(maxAbsDiff(await scores(), expected("score MaxSim"))).toBeLessThan(1e-4);
    expect(maxAbsDiff(await scores("lexical"), expected("score lexical"))).toBeLessThan(1e-4);
    expect(maxAbsDiff(await scores("cosine"), expected("score dense"))).toBeLessThan(1e-4);
  });

  it("/rerank ranks by MaxSim, or by the lexical score", async () => {
    for (const [mode, name] of [
      [undefined, "score MaxSim"],
      ["lexical", "score lexical"],
    ] as const) {
      const res = await postJson(`${m3.url}/rerank`, {
        query: QUERY,
        documents: DOCS,
        ...(mode ? { score_mode: mode } : {}),
      });
      expect(res.status).toBe(200);
      expect(rerankMismatch(res.body.results, expected(name) as number[])).toBeNull();
    }
  });

  it("without the architecture override the model is a plain XLM-R embedder", async () => {
    const sparse = await postJson(`${plain.url}/embed_sparse`, { inputs: "a cat" });
    // TEI's status for a route whose task the model does not serve.
    expect(sparse.status).toBe(424);
    expect(JSON.stringify(sparse.body)).toContain("embed_sparse");
    const tc = await postJson(`${plain.url}/pooling`, { input: "a cat", task: "token_classify" });
    expect(tc.status).toBe(400);
    expect(tc.body.error.message).toMatch(/^Unsupported task: 'token_classify'/);
    const lexical = await postJson(`${plain.url}/score`, {
      text_1: QUERY,
      text_2: DOCS,
      score_mode: "lexical",
    });
    expect(lexical.status).toBe(400);
    expect(lexical.body.error.message).toContain("sparse head");
    const format = await postJson(`${plain.url}/pooling`, {
      input: "a cat",
      task: "token_classify",
      sparse_format: "token_weight",
    });
    expect(format.status).toBe(400);
    const cosine = await postJson(`${plain.url}/score`, { text_1: QUERY, text_2: DOCS });
    expect(
      maxAbsDiff(
        cosine.body.data.map((d: { score: number }) => d.score),
        expected("score dense"),
      ),
    ).toBeLessThan(1e-4);
  });
});
