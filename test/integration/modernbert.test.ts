import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, goldenCase, maxAbsDiff, rerankMismatch } from "../helpers/fixtures.js";
import { getJson, postJson, type RunningServer, startServer } from "../helpers/server.js";

const query = goldenCase("modernbert-embed", "embed with promptName query (search_query: )");
const document = goldenCase(
  "modernbert-embed",
  "embed with promptName document (search_document: )",
);
const rerank = goldenCase("modernbert-reranker", "score cross-encoder 1:N (sigmoid)");

describe("ModernBERT embedder (nomic-style prompts) and reranker over HTTP", () => {
  let embed: RunningServer;
  let reranker: RunningServer;

  beforeAll(async () => {
    [embed, reranker] = await Promise.all([
      startServer(["--model", fixture("modernbert-embed"), "--served-model-name", "nomic"]),
      startServer(["--model", fixture("modernbert-reranker"), "--served-model-name", "gte"]),
    ]);
  });
  afterAll(async () => {
    await Promise.all([embed.stop(), reranker.stop()]);
  });

  it("takes 8,192 tokens, from config.json, with no token_type_ids input", async () => {
    const info = await getJson(`${embed.url}/info`);
    expect(info.body.max_input_length).toBe(8192);
    const models = await getJson(`${embed.url}/v1/models`);
    expect(models.body.data[0].max_model_len).toBe(8192);
  });

  it("search_query: / search_document: from config_sentence_transformers.json by prompt_name or input_type", async () => {
    const q = await postJson(`${embed.url}/v1/embeddings`, {
      input: query.texts,
      prompt_name: "query",
    });
    expect(q.status).toBe(200);
    expect(
      maxAbsDiff(
        q.body.data.map((d: { embedding: number[] }) => d.embedding),
        query.expected,
      ),
    ).toBeLessThan(1e-4);
    const d = await postJson(`${embed.url}/v2/embed`, {
      texts: document.texts,
      input_type: "search_document",
      embedding_types: ["float"],
    });
    expect(d.status).toBe(200);
    expect(maxAbsDiff(d.body.embeddings.float, document.expected)).toBeLessThan(1e-4);
    const tei = await postJson(`${embed.url}/embed`, { inputs: query.texts, prompt_name: "query" });
    expect(maxAbsDiff(tei.body, query.expected)).toBeLessThan(1e-4);
  });

  it("a long input (3,000 tokens, past BERT's 512) embeds; 8,193 tokens are refused", async () => {
    const long = await postJson(`${embed.url}/v1/embeddings`, {
      input: "cat ".repeat(3000).trim(),
    });
    expect(long.status).toBe(200);
    expect(long.body.usage.prompt_tokens).toBe(3002);
    const over = await postJson(`${embed.url}/v1/embeddings`, {
      input: "cat ".repeat(8192).trim(),
    });
    expect(over.status).toBe(400);
    expect(over.body.error.message).toMatch(
      /maximum context length is 8192 tokens. However, your request has 8194 input tokens/,
    );
  });

  it("reranks as the PyTorch cross-encoder ([CLS] query [SEP] document [SEP], sigmoid)", async () => {
    const res = await postJson(`${reranker.url}/rerank`, {
      query: rerank.text1,
      documents: rerank.text2,
    });
    expect(res.status).toBe(200);
    expect(rerankMismatch(res.body.results, rerank.expected as number[])).toBeNull();
  });

  it("bad inputs get clear 4xx: empty, only special tokens, a pair over the length", async () => {
    const none = await postJson(`${reranker.url}/rerank`, { query: "a", documents: [] });
    expect(none.status).toBe(400);
    const empty = await postJson(`${embed.url}/v1/embeddings`, { input: [""] });
    expect(empty.status).toBe(400);
    const specials = await postJson(`${embed.url}/v1/embeddings`, { input: "[CLS][SEP]" });
    expect(specials.status).toBe(400);
    expect(specials.body.error.message).toMatch(/only special tokens/);
    const pair = await postJson(`${reranker.url}/rerank`, {
      query: "cat ".repeat(5000),
      documents: ["cat ".repeat(5000)],
    });
    expect(pair.status).toBe(400);
    expect(pair.body.error.message).toMatch(/maximum context length is 8192 tokens/);
  });
});
