import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, goldenCase, maxAbsDiff, rerankMismatch } from "../helpers/fixtures.js";
import { postJson, type RunningServer, startServer } from "../helpers/server.js";

const docs = goldenCase(
  "colbert",
  "token_embed documents: [D] marker, punctuation skipped, normalized",
);
const queries = goldenCase(
  "colbert",
  "token_embed queries: [Q] marker, [MASK] expansion to query_length",
);
const raw = goldenCase(
  "colbert",
  "token_embed useActivation=false: the projections, not normalized",
);
const maxsim = goldenCase("colbert", "score MaxSim 1:N (query form against document form)");
describe("ColBERT checkpoints over HTTP (PyLate and Stanford layouts)", () => {
  let pylate: RunningServer;
  let stanford: RunningServer;

  beforeAll(async () => {
    [pylate, stanford] = await Promise.all([
      startServer(["--model", fixture("colbert"), "--served-model-name", "colbert"]),
      startServer(["--model", fixture("colbert-stanford"), "--served-model-name", "stanford"]),
    ]);
  });
  afterAll(async () => {
    await Promise.all([pylate.stop(), stanford.stop()]);
  });

  it("/pooling token_embed: documents by default, queries with prompt_name query", async () => {
    for (const server of [pylate, stanford]) {
      const doc = await postJson(`${server.url}/pooling`, {
        input: docs.texts,
        task: "token_embed",
      });
      expect(doc.status).toBe(200);
      const got = doc.body.data.map((d: { data: number[][] }) => d.data);
      expect(got.map((v: number[][]) => v.length)).toEqual(
        (docs.expected as number[][][]).map((v) => v.length),
      );
      expect(maxAbsDiff(got, docs.expected)).toBeLessThan(1e-4);
      const query = await postJson(`${server.url}/pooling`, {
        input: queries.texts,
        task: "token_embed",
        prompt_name: "query",
      });
      expect(query.status).toBe(200);
      expect(
        maxAbsDiff(
          query.body.data.map((d: { data: number[][] }) => d.data),
          queries.expected,
        ),
      ).toBeLessThan(1e-4);
    }
    const tei = await postJson(`${pylate.url}/embed_all`, { inputs: docs.texts });
    expect(tei.status).toBe(200);
    expect(maxAbsDiff(tei.body, raw.expected)).toBeLessThan(1e-4);
  });

  it("/score, /rerank and Cohere's /v2/rerank score by MaxSim (query form against documents)", async () => {
    for (const server of [pylate, stanford]) {
      const score = await postJson(`${server.url}/score`, {
        text_1: maxsim.text1,
        text_2: maxsim.text2,
      });
      expect(score.status).toBe(200);
      expect(
        maxAbsDiff(
          score.body.data.map((d: { score: number }) => d.score),
          maxsim.expected,
        ),
      ).toBeLessThan(1e-4);
      const rerank = await postJson(`${server.url}/v2/rerank`, {
        query: maxsim.text1,
        documents: maxsim.text2,
        top_n: 2,
      });
      expect(rerank.status).toBe(200);
      expect(rerankMismatch(rerank.body.results, maxsim.expected as number[], 2)).toBeNull();
    }
  });

  it("serves token vectors only, as vLLM's ColBERT model: /v1/embeddings is refused", async () => {
    const res = await postJson(`${pylate.url}/v1/embeddings`, { input: "a cat" });
    expect(res.status).toBe(404);
    expect(res.body.error.message).toMatch(
      /does not support the 'embed' task; it serves: token_embed, score/,
    );
    const pooled = await postJson(`${pylate.url}/pooling`, { input: "a cat", task: "embed" });
    expect(pooled.status).toBe(400);
    expect(pooled.body.error.message).toMatch(/^Unsupported task: 'embed'/);
  });

  it("bad inputs get clear 4xx: empty, only special tokens, over document_length unless cut", async () => {
    const empty = await postJson(`${pylate.url}/pooling`, { input: "", task: "token_embed" });
    expect(empty.status).toBe(400);
    const specials = await postJson(`${pylate.url}/rerank`, {
      query: "a cat",
      documents: ["[SEP]"],
    });
    expect(specials.status).toBe(400);
    expect(specials.body.error.message).toMatch(/only special tokens/);
    const long = "the cat sat on the mat ".repeat(8);
    const over = await postJson(`${pylate.url}/rerank`, { query: "a cat", documents: [long] });
    expect(over.status).toBe(400);
    expect(over.body.error.message).toMatch(
      /encodes a document in at most 31 tokens \(its document_length.*truncate_prompt_tokens/,
    );
    const cut = await postJson(`${pylate.url}/rerank`, {
      query: "a cat",
      documents: [long],
      truncate_prompt_tokens: -1,
    });
    expect(cut.status).toBe(200);
    const query = await postJson(`${pylate.url}/pooling`, {
      input: long,
      task: "token_embed",
      prompt_name: "query",
    });
    expect(query.status).toBe(400);
    expect(query.body.error.message).toMatch(/encodes a query in at most 15 tokens/);
  });
});
