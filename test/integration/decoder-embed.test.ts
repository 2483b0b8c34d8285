import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, type Golden, goldens, maxAbsDiff } from "../helpers/fixtures.js";
import { postJson, type RunningServer, startServer } from "../helpers/server.js";

const golden = goldens().find((g) => g.name === "qwen3-embed-instruct") as Golden;
const queries = golden.cases.find((c) => c.name.includes("promptName query"))!;
const docs = golden.cases.find((c) => c.name.includes("documents"))!;
const texts = queries.texts!;

describe("decoder embeddings with instructions (Qwen3-Embedding style) over HTTP", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(["--model", fixture("qwen3-embed-instruct")]);
  });
  afterAll(async () => {
    await server.stop();
  });

  it("prompt_name selects the instruction on /v1/embeddings, /pooling and TEI's /embed", async () => {
    const openai = await postJson(`${server.url}/v1/embeddings`, {
      input: texts,
      prompt_name: "query",
    });
    expect(openai.status).toBe(200);
    const got = openai.body.data.map((d: { embedding: number[] }) => d.embedding);
    expect(maxAbsDiff(got, queries.expected)).toBeLessThan(1e-4);
    const pooling = await postJson(`${server.url}/pooling`, {
      input: texts,
      task: "embed",
      prompt_name: "query",
    });
    expect(
      maxAbsDiff(
        pooling.body.data.map((d: { data: number[] }) => d.data),
        queries.expected,
      ),
    ).toBeLessThan(1e-4);
    const tei = await postJson(`${server.url}/embed`, { inputs: texts, prompt_name: "query" });
    expect(maxAbsDiff(tei.body, queries.expected)).toBeLessThan(1e-4);
    const plain = await postJson(`${server.url}/v1/embeddings`, { input: texts });
    expect(
      maxAbsDiff(
        plain.body.data.map((d: { embedding: number[] }) => d.embedding),
        docs.expected,
      ),
    ).toBeLessThan(1e-4);
  });

  it("Cohere's input_type search_query picks the query prompt, search_document none", async () => {
    for (const [inputType, want] of [
      ["search_query", queries.expected],
      ["search_document", docs.expected],
    ] as const) {
      const res = await postJson(`${server.url}/v2/embed`, {
        texts,
        input_type: inputType,
        embedding_types: ["float"],
      });
      expect(res.status).toBe(200);
      expect(maxAbsDiff(res.body.embeddings.float, want)).toBeLessThan(1e-4);
    }
  });

  it("an unknown prompt_name is a 400 naming the model's prompts", async () => {
    const res = await postJson(`${server.url}/v1/embeddings`, { input: "a", prompt_name: "nope" });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe(
      "Unknown prompt_name 'nope'; this model has query, document",
    );
  });
});
