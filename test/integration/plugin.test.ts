import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cosineSimilarity } from "../../src/core/index.js";
import { LLM } from "../../src/index.js";
import { fixture } from "../helpers/fixtures.js";
import { postJson, type RunningServer, startServer } from "../helpers/server.js";

const DATA = {
  texts: ["the cat sat on the mat", "paris is the capital of france"],
  labels: ["animal", "city", "car"],
  top_k: 2,
};

/** The nearest labels computed from the offline embeddings. */
async function reference(llm: LLM) {
  const emb = async (t: string[]) => (await llm.embed(t)).map((r) => r.outputs.embedding);
  const [texts, labels] = [await emb(DATA.texts), await emb(DATA.labels)];
  return texts.map((t, index) => ({
    index,
    labels: labels
      .map((l, j) => ({ label: DATA.labels[j]!, score: cosineSimilarity(t, l) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, DATA.top_k),
  }));
}

describe("IO-processor plugins (task: plugin)", () => {
  let llm: LLM;
  let server: RunningServer;
  let plain: RunningServer;

  beforeAll(async () => {
    [llm, server, plain] = await Promise.all([
      LLM.load({ model: fixture("bert-embed-mean"), ioProcessorPlugin: "nearest-label" }),
      startServer([
        "--model",
        fixture("bert-embed-mean"),
        "--io-processor-plugin",
        "nearest-label",
      ]),
      startServer(["--model", fixture("bert-embed-mean")]),
    ]);
  });
  afterAll(async () => {
    await Promise.all([llm.close(), server.stop(), plain.stop()]);
  });

  it("LLM.encode(data, { poolingTask: 'plugin' }) runs the nearest-label plugin", async () => {
    const [out] = await llm.encode(DATA, { poolingTask: "plugin" });
    const want = await reference(llm);
    const got = (out!.outputs.data as { results: typeof want }).results;
    expect(got.map((r) => r.labels.map((l) => l.label))).toEqual(
      want.map((r) => r.labels.map((l) => l.label)),
    );
    expect(got[0]!.labels[0]!.score).toBeCloseTo(want[0]!.labels[0]!.score, 5);
  });

  it("/pooling with task plugin answers vLLM's IOProcessorResponse shape", async () => {
    const res = await postJson(`${server.url}/pooling`, { task: "plugin", data: DATA });
    expect(res.status).toBe(200);
    expect(res.body.request_id).toMatch(/^pool-/);
    expect(typeof res.body.created_at).toBe("number");
    expect(res.body.usage.prompt_tokens).toBeGreaterThan(0);
    const want = await reference(llm);
    expect(
      res.body.data.results.map((r: { labels: { label: string }[] }) =>
        r.labels.map((l) => l.label),
      ),
    ).toEqual(want.map((r) => r.labels.map((l) => l.label)));
  });

  it("bad plugin data is a 400; no plugin loaded is vLLM's unsupported task", async () => {
    const bad = await postJson(`${server.url}/pooling`, { task: "plugin", data: { texts: [] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("data.texts");
    const none = await postJson(`${plain.url}/pooling`, { task: "plugin", data: DATA });
    expect(none.status).toBe(400);
    expect(none.body.error.message).toMatch(/^Unsupported task: 'plugin'/);
  });

  it("loads a plugin from a module path", async () => {
    const custom = await LLM.load({
      model: fixture("bert-embed-mean"),
      ioProcessorPlugin: join(import.meta.dirname, "..", "helpers", "count-plugin.mjs"),
    });
    try {
      const [out] = await custom.plugin({ texts: ["a cat", "hello world"] });
      expect(out!.outputs.data).toEqual([4, 4]);
    } finally {
      await custom.close();
    }
    await expect(
      LLM.load({ model: fixture("bert-embed-mean"), ioProcessorPlugin: "no-such-plugin" }),
    ).rejects.toThrow(/neither a built-in/);
  });
});
