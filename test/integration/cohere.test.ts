import { CohereClientV2 } from "cohere-ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LLM } from "../../src/index.js";
import { fixture, maxAbsDiff } from "../helpers/fixtures.js";
import { type RunningServer, startServer } from "../helpers/server.js";

const QUERY = "what is the capital of france?";
const DOCS = [
  "paris is the capital of france",
  "berlin is a city in germany",
  "the cat sat on the mat",
];

describe("Cohere client", () => {
  let reranker: RunningServer;
  let embedder: RunningServer;
  let cross: LLM;
  let embed: LLM;

  beforeAll(async () => {
    [reranker, embedder] = await Promise.all([
      startServer([
        "--model",
        fixture("bert-cross-encoder"),
        "--served-model-name",
        "rerank",
        "--api-key",
        "k1",
      ]),
      startServer(["--model", fixture("bert-embed-mean"), "--served-model-name", "embed"]),
    ]);
    cross = await LLM.load({ model: fixture("bert-cross-encoder") });
    embed = await LLM.load({ model: fixture("bert-embed-mean") });
  });
  afterAll(async () => {
    await cross.close();
    await embed.close();
    await reranker.stop();
    await embedder.stop();
  });

  it("rerank: sorted by relevance, top_n honoured, scores equal the offline API", async () => {
    const client = new CohereClientV2({ token: "k1", environment: reranker.url });
    const res = await client.rerank({ model: "rerank", query: QUERY, documents: DOCS, topN: 2 });
    expect(res.results).toHaveLength(2);
    const offline = (await cross.score(QUERY, DOCS)).map((r) => r.outputs.score);
    const order = offline.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]);
    res.results.forEach((r, k) => {
      expect(r.index).toBe(order[k]![1]);
      expect(Math.abs(r.relevanceScore - order[k]![0])).toBeLessThan(1e-6);
    });
  });

  it("rerank refuses a wrong API key", async () => {
    const client = new CohereClientV2({ token: "wrong", environment: reranker.url });
    await expect(
      client.rerank({ model: "rerank", query: QUERY, documents: DOCS }),
    ).rejects.toMatchObject({
      statusCode: 401,
    });
  });

  it("embed v2: float embeddings equal the offline API; int8 and binary are derived from them", async () => {
    const client = new CohereClientV2({ token: "none", environment: embedder.url });
    const res = await client.embed({
      model: "embed",
      texts: DOCS,
      inputType: "search_document",
      embeddingTypes: ["float", "int8", "ubinary"],
    });
    const offline = (await embed.embed(DOCS)).map((r) => r.outputs.embedding);
    expect(maxAbsDiff(res.embeddings.float, offline)).toBeLessThan(1e-6);
    expect(res.embeddings.int8![0]).toHaveLength(32);
    expect(res.embeddings.ubinary![0]).toHaveLength(4);
  });
});
