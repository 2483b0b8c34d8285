import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, type Golden, goldens, maxAbsDiff } from "../helpers/fixtures.js";
import { postJson, type RunningServer, startServer } from "../helpers/server.js";

const golden = goldens().find((g) => g.name === "bert-embed-chunked") as Golden;
const mean = golden.cases.find((c) => c.name.startsWith("chunked MEAN"))!;
const inputs = mean.prompts!.map((p) => p.promptTokenIds);
const LONG_TEXT = "the quick brown fox jumps over the lazy dog ".repeat(12);

describe("long inputs: chunked processing and auto-truncation over HTTP", () => {
  let chunked: RunningServer;
  let truncating: RunningServer;

  beforeAll(async () => {
    [chunked, truncating] = await Promise.all([
      startServer([
        "--model",
        fixture("bert-embed-chunked"),
        "--pooler-config",
        '{"enable_chunked_processing":true,"max_embed_len":64}',
      ]),
      startServer(["--model", fixture("bert-embed-chunked"), "--auto-truncate"]),
    ]);
  });
  afterAll(async () => {
    await Promise.all([chunked.stop(), truncating.stop()]);
  });

  it("3 × max_model_len and 2.5 × inputs embed as the reference aggregation, in input order", async () => {
    const res = await postJson(`${chunked.url}/v1/embeddings`, { input: inputs });
    expect(res.status).toBe(200);
    expect(res.body.data.map((d: { index: number }) => d.index)).toEqual([0, 1, 2, 3, 4]);
    const got = res.body.data.map((d: { embedding: number[] }) => d.embedding);
    expect(maxAbsDiff(got, mean.expected)).toBeLessThan(1e-4);
    expect(res.body.usage.prompt_tokens).toBe(inputs.reduce((n, i) => n + i.length, 0));
  });

  it("refuses inputs over max_embed_len, and long inputs for token tasks", async () => {
    const over = await postJson(`${chunked.url}/v1/embeddings`, { input: LONG_TEXT.repeat(2) });
    expect(over.status).toBe(400);
    // vLLM's text for max_embed_len (its embedding serving code).
    expect(over.body.error.message).toMatch(
      /^This model's maximum embedding input length is 64 tokens\. However, you requested \d+ tokens in the input for embedding generation\. Please reduce the length of the input\.$/,
    );
    const tokens = await postJson(`${chunked.url}/pooling`, {
      input: inputs[1],
      task: "token_embed",
    });
    expect(tokens.status).toBe(400);
    expect(tokens.body.error.message).toContain("maximum context length is 16 tokens");
  });

  it("--auto-truncate cuts long prompts to max_model_len instead of refusing them", async () => {
    const res = await postJson(`${truncating.url}/v1/embeddings`, { input: LONG_TEXT });
    expect(res.status).toBe(200);
    expect(res.body.usage.prompt_tokens).toBe(16);
    const refused = await postJson(`${chunked.url}/pooling`, {
      input: LONG_TEXT,
      task: "token_embed",
    });
    expect(refused.status).toBe(400);
  });
});
