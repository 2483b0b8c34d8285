import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CancelledError } from "../../src/core/index.js";
import { type Engine, type EngineRequest, loadEngine } from "../../src/engine/index.js";
import { fixture } from "../helpers/fixtures.js";

/** One request of every kind `Engine.run` takes, the model it runs on, and how many inputs it has. */
const CASES: Array<{ name: string; model: string; request: EngineRequest; inputs: number }> = [
  {
    name: "embed",
    model: "embed",
    request: { task: "embed", prompts: ["a cat", "the quick brown fox"] },
    inputs: 2,
  },
  {
    name: "classify (a text and a pair)",
    model: "cross",
    request: { task: "classify", prompts: ["a cat", ["a cat", "a dog"]] },
    inputs: 2,
  },
  {
    name: "token_embed",
    model: "embed",
    request: { task: "token_embed", prompts: ["a cat sat"] },
    inputs: 1,
  },
  {
    name: "token_classify",
    model: "tokens",
    request: { task: "token_classify", prompts: ["a cat sat", { promptTokenIds: [101, 7, 102] }] },
    inputs: 2,
  },
  {
    name: "score (cross-encoder)",
    model: "cross",
    request: { task: "score", queries: ["capital of france"], documents: ["paris", "a cat"] },
    inputs: 2,
  },
  {
    name: "score (embedding model, cosine)",
    model: "embed",
    request: { task: "score", queries: ["a cat"], documents: ["a dog", "a car"] },
    inputs: 2,
  },
  {
    name: "score (late interaction, MaxSim)",
    model: "m3",
    request: { task: "score", queries: ["a cat"], documents: ["a dog"] },
    inputs: 1,
  },
  {
    name: "lexical",
    model: "m3",
    request: { task: "lexical", prompts: ["a cat sat on the mat"] },
    inputs: 1,
  },
  {
    name: "plugin (nearest-label)",
    model: "embed",
    request: { task: "plugin", data: { texts: ["a cat"], labels: ["animal", "city"] } },
    // The plugin pools the text and each label.
    inputs: 3,
  },
];

describe("Engine.run: every kind of request reports what it did and can be cancelled", () => {
  const engines: Record<string, Engine> = {};

  beforeAll(async () => {
    const load = async (name: string, model: string, extra: object = {}) => {
      engines[name] = await loadEngine({ model: fixture(model), servedModelName: name, ...extra });
    };
    await Promise.all([
      load("embed", "bert-embed-mean", { ioProcessorPlugin: "nearest-label" }),
      load("cross", "bert-cross-encoder"),
      load("tokens", "bert-token-classifier"),
      load("m3", "bge-m3", { hfOverrides: { architectures: ["BgeM3EmbeddingModel"] } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all(Object.values(engines).map((e) => e.close()));
  });

  it.each(CASES)("$name: results with their metadata", async ({ model, request, inputs }) => {
    const engine = engines[model]!;
    const { results, metadata } = await engine.run(request, {
      signal: new AbortController().signal,
    });
    expect(results).toHaveLength(inputs);
    const tokens = results.reduce((n, r) => n + r.promptTokenIds.length, 0);
    expect(metadata).toMatchObject({ model, inputs, promptTokens: tokens });
    expect(tokens).toBeGreaterThan(0);
    // Measured, not defaulted: the forward ran inside the scheduler and was timed there.
    expect(metadata.inferenceMs).toBeGreaterThan(0);
    expect(metadata.queueMs).toBeGreaterThanOrEqual(0);
    expect(metadata.tokenizationMs).toBeGreaterThanOrEqual(0);
    expect(metadata.outputBytes).toBeGreaterThan(0);
  });

  it.each(CASES)(
    "$name: an aborted caller's run rejects before compute",
    async ({ model, request }) => {
      const engine = engines[model]!;
      const before = engine.scheduler.stats.batches;
      await expect(engine.run(request, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
        CancelledError,
      );
      expect(engine.scheduler.stats.batches).toBe(before);
    },
  );

  it.each(CASES)(
    "$name: an answer over the response limit is refused (413) before compute",
    async ({ model, request }) => {
      const engine = engines[model]!;
      await expect(engine.run(request, { maxResponseBytes: 1 })).rejects.toMatchObject({
        status: 413,
      });
    },
  );
});
