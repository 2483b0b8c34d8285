import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LLM } from "../../src/index.js";
import { fixture, type Golden, goldens, maxAbsDiff } from "../helpers/fixtures.js";
import { postJson, type RunningServer, startServer } from "../helpers/server.js";

const golden = goldens().find((g) => g.name === "qwen3-reranker") as Golden;
const byName = (name: string) => golden.cases.find((c) => c.name.startsWith(name))!;
const ranked = golden.cases[0]!;
const QUERY = ranked.text1!;
const DOCS = ranked.text2!;
const OVERRIDES = {
  architectures: ["Qwen3ForSequenceClassification"],
  classifier_from_token: ["no", "yes"],
};

describe("Qwen3-style LLM reranker over HTTP", () => {
  let server: RunningServer;
  let explicit: RunningServer;

  beforeAll(async () => {
    [server, explicit] = await Promise.all([
      startServer([
        "--model",
        fixture("qwen3-reranker"),
        "--served-model-name",
        "reranker",
        "--hf-overrides",
        JSON.stringify({ ...OVERRIDES, is_original_qwen3_reranker: true }),
      ]),
      startServer([
        "--model",
        fixture("qwen3-reranker"),
        "--hf-overrides",
        JSON.stringify(OVERRIDES),
        "--score-template",
        "qwen3_reranker",
      ]),
    ]);
  });
  afterAll(async () => {
    await Promise.all([server.stop(), explicit.stop()]);
  });

  it("/score gives sigmoid(yes − no) at the last position of the templated pair", async () => {
    for (const s of [server, explicit]) {
      const res = await postJson(`${s.url}/score`, { text_1: QUERY, text_2: DOCS });
      expect(res.status).toBe(200);
      const got = res.body.data.map((d: { score: number }) => d.score);
      expect(maxAbsDiff(got, ranked.expected)).toBeLessThan(1e-4);
    }
  });

  it("/rerank and /v2/rerank rank as the golden; instruction reaches the template", async () => {
    const want = (ranked.expected as number[])
      .map((score, index) => ({ index, score }))
      .sort((a, b) => b.score - a.score);
    for (const path of ["/rerank", "/v2/rerank"]) {
      const res = await postJson(`${server.url}${path}`, { query: QUERY, documents: DOCS });
      expect(res.status).toBe(200);
      expect(res.body.results.map((r: { index: number }) => r.index)).toEqual(
        want.map((w) => w.index),
      );
    }
    const withInstruction = byName("score with an instruction");
    const res = await postJson(`${server.url}/rerank`, {
      query: QUERY,
      documents: withInstruction.text2,
      instruction: withInstruction.options!.instruction,
    });
    expect(res.status).toBe(200);
    expect(
      maxAbsDiff([res.body.results[0].relevance_score], withInstruction.expected),
    ).toBeLessThan(1e-4);
  });

  it("truncation cuts the document, never the template around it", async () => {
    const long = `${DOCS[0]} ${"the cat sat on the mat ".repeat(60)}`;
    const tooLong = await postJson(`${server.url}/score`, { text_1: QUERY, text_2: long });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.message).toContain("Please reduce the length of the input prompt");
    const cut = await postJson(`${server.url}/score`, {
      text_1: QUERY,
      text_2: long,
      truncate_prompt_tokens: -1,
    });
    expect(cut.status).toBe(200);
    expect(cut.body.usage.prompt_tokens).toBeLessThanOrEqual(256);
  });

  it("a causal LM without the override is refused with the override to use", async () => {
    await expect(LLM.load({ model: fixture("qwen3-reranker") })).rejects.toThrow(
      /classifier_from_token/,
    );
  });

  it("instruction on a model without a score template is a 400, not ignored", async () => {
    const llm = await LLM.load({ model: fixture("qwen3-reranker"), hfOverrides: OVERRIDES });
    try {
      await expect(llm.score(QUERY, DOCS, { instruction: "x" })).rejects.toThrow(/score template/);
    } finally {
      await llm.close();
    }
  });
});
