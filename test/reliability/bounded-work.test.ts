import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture } from "../helpers/fixtures.js";
import { postJson, type RunningServer, startServer } from "../helpers/server.js";

const doc = (chars: number) =>
  "the quick brown fox jumps over the lazy dog ".repeat(chars / 44 + 1).slice(0, chars);

describe("the work a request can cause is bounded before tokenizing", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer([
      "--model",
      fixture("bert-cross-encoder"),
      "--max-input-chars",
      "60000",
    ]);
  });
  afterAll(async () => {
    await server.stop();
  });

  it("truncates a long pair (tens of thousands of tokens) in linear time", async () => {
    // ~12k tokens: the one-token-per-step loop copied the array ~12k times here.
    const res = await postJson(`${server.url}/score`, {
      text_1: "what is a fox?",
      text_2: doc(60_000),
      truncate_prompt_tokens: -1,
    });
    expect(res.status).toBe(200);
    const max = (await postJson(`${server.url}/tokenize`, { prompt: "a" })).body.max_model_len;
    expect(res.body.usage.prompt_tokens).toBe(max);
    const tei = await postJson(`${server.url}/rerank`, {
      query: "what is a fox?",
      texts: [doc(60_000), "a fox"],
      truncate: true,
    });
    expect(tei.status).toBe(200);
  });

  it.each([
    ["/score", { text_1: "q", text_2: doc(60_001), truncate_prompt_tokens: -1 }],
    ["/rerank", { query: doc(60_001), documents: ["a"] }],
    ["/predict", { inputs: [["q", doc(60_001)]], truncate: true }],
    ["/tokenize", { prompt: doc(60_001) }],
  ])(
    "%s refuses an input over --max-input-chars with a 400 (TEI's 422 on TEI routes)",
    async (path, body) => {
      const res = await postJson(`${server.url}${path}`, body);
      const tei = path === "/predict";
      expect(res.status).toBe(tei ? 422 : 400);
      expect(tei ? res.body.error : res.body.error.message).toMatch(
        /60001 characters; the limit is 60000/,
      );
    },
  );
});
