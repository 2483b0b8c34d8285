import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LLM, type LLMOptions } from "../../src/index.js";
import { fixture, goldens, maxAbsDiff } from "../helpers/fixtures.js";

const TEXTS = [
  "a cat",
  "the quick brown fox jumps over the lazy dog and the cat sat on the mat",
  "hello world",
  "what is deep learning",
  "paris",
];

describe("batch invariance", () => {
  for (const golden of goldens()) {
    it(`${golden.name}: a prompt alone equals the same prompt in a mixed-length batch (1e-5)`, async () => {
      const llm = await LLM.load({
        model: fixture(golden.name),
        maxBatchSize: 64,
        ...(golden.load as Partial<LLMOptions>),
      });
      try {
        const task = llm.supportedTasks[0]!;
        const run = async (texts: string[]) =>
          (await llm.encode(texts, { poolingTask: task as "embed" })).map((r) => r.outputs.data);
        const together = await run(TEXTS);
        for (const [i, t] of TEXTS.entries()) {
          const [alone] = await run([t]);
          expect(maxAbsDiff(alone, together[i])).toBeLessThan(1e-5);
        }
      } finally {
        await llm.close();
      }
    });
  }
});

describe("LLM API", () => {
  let mean: LLM;
  let xlmr: LLM;
  let decoder: LLM;
  let classifier: LLM;
  let cross: LLM;

  beforeAll(async () => {
    const load = (m: string) => LLM.load({ model: fixture(m) });
    [mean, xlmr, decoder, classifier, cross] = await Promise.all([
      load("bert-embed-mean"),
      load("xlmr-embed"),
      load("decoder-embed-last"),
      load("bert-classifier"),
      load("bert-cross-encoder"),
    ]);
  });
  afterAll(async () => {
    for (const l of [mean, xlmr, decoder, classifier, cross]) await l.close();
  });

  it("reports supported tasks per model", () => {
    expect(mean.supportedTasks).toEqual(["embed", "token_embed", "score"]);
    expect(classifier.supportedTasks).toEqual(["classify"]);
    expect(cross.supportedTasks).toEqual(["classify", "score"]);
  });

  it("token-id input equals text input, and results carry promptTokenIds", async () => {
    for (const llm of [mean, xlmr, decoder]) {
      const [byText] = await llm.embed("what is deep learning");
      const [byIds] = await llm.embed({ promptTokenIds: byText!.promptTokenIds });
      expect(byIds!.promptTokenIds).toEqual(byText!.promptTokenIds);
      expect(maxAbsDiff(byIds!.outputs.embedding, byText!.outputs.embedding)).toBe(0);
    }
  });

  it("truncatePromptTokens keeps special tokens (WordPiece: [CLS] + first N-2 + [SEP])", async () => {
    const full = mean.engine.tokenize("the quick brown fox jumps over the lazy dog").ids;
    const [r] = await mean.embed("the quick brown fox jumps over the lazy dog", {
      truncatePromptTokens: 5,
    });
    expect(r!.promptTokenIds).toEqual([...full.slice(0, 4), full.at(-1)]);
    const [left] = await mean.embed("the quick brown fox jumps over the lazy dog", {
      truncatePromptTokens: 5,
      truncationSide: "left",
    });
    expect(left!.promptTokenIds).toEqual([full[0], ...full.slice(-4)]);
  });

  it("truncatePromptTokens keeps special tokens for Unigram and byte-level BPE", async () => {
    const u = xlmr.engine.tokenize("the quick brown fox jumps").ids;
    expect(
      xlmr.engine.tokenize("the quick brown fox jumps", { truncatePromptTokens: 4 }).ids,
    ).toEqual([...u.slice(0, 3), u.at(-1)]);
    const b = decoder.engine.tokenize("the quick brown fox jumps").ids;
    expect(
      decoder.engine.tokenize("the quick brown fox jumps", { truncatePromptTokens: 3 }).ids,
    ).toEqual([...b.slice(0, 2), b.at(-1)]);
  });

  it("truncatePromptTokens -1 means the model maximum; larger values are refused", async () => {
    const long = Array.from({ length: 100 }, () => "cat").join(" ");
    const [r] = await mean.embed(long, { truncatePromptTokens: -1 });
    expect(r!.promptTokenIds.length).toBe(mean.maxModelLen);
    await expect(mean.embed(long, { truncatePromptTokens: 65 })).rejects.toThrow(
      "truncate_prompt_tokens value is greater than max_model_len. Please request a smaller truncation size.",
    );
  });

  it("refuses over-long prompts with vLLM's message", async () => {
    const long = Array.from({ length: 100 }, () => "cat").join(" ");
    await expect(mean.embed(long)).rejects.toThrow(
      "This model's maximum context length is 64 tokens. However, your request has 102 input tokens. Please reduce the length of the input prompt.",
    );
  });

  it("names the task and the supported ones when a task is unsupported", async () => {
    await expect(classifier.embed("a cat")).rejects.toThrow(
      "Unsupported task: 'embed'. Supported tasks: classify",
    );
    await expect(classifier.score("a", "b")).rejects.toThrow("Unsupported task: 'score'");
    await expect(mean.classify("a cat")).rejects.toThrow(
      "Unsupported task: 'classify'. Supported tasks: embed, token_embed, score",
    );
  });

  it("validates matryoshka dimensions with vLLM's messages", async () => {
    await expect(mean.embed("a cat", { dimensions: 8 })).rejects.toThrow(
      `Model "${fixture("bert-embed-mean")}" does not support matryoshka representation, changing output dimensions will lead to poor results.`,
    );
    await expect(mean.embed("a cat", { dimensions: 0 })).rejects.toThrow(
      "Dimensions must be greater than 0",
    );
    const [native] = await mean.embed("a cat", { dimensions: 32 });
    expect(native!.outputs.embedding).toHaveLength(32);
    const st = await LLM.load({ model: fixture("st-dense-matryoshka"), servedModelName: "st" });
    try {
      await expect(st.embed("a cat", { dimensions: 5 })).rejects.toThrow(
        'Model "st" only supports [4, 8, 16] matryoshka dimensions, use other output dimensions will lead to poor results.',
      );
      expect((await st.embed("a cat", { dimensions: 8 }))[0]!.outputs.embedding).toHaveLength(8);
    } finally {
      await st.close();
    }
    const [d] = await xlmr.embed("a cat", { dimensions: 8 });
    expect(d!.outputs.embedding).toHaveLength(8);
    expect(Math.hypot(...d!.outputs.embedding)).toBeCloseTo(1, 5);
  });

  it("applies hfOverrides to config.json in memory", async () => {
    const llm = await LLM.load({
      model: fixture("bert-embed-mean"),
      hfOverrides: { is_matryoshka: true },
    });
    try {
      const [r] = await llm.embed("a cat", { dimensions: 8 });
      const [full] = await llm.embed("a cat", { useActivation: false });
      const head = full!.outputs.embedding.slice(0, 8);
      const norm = Math.hypot(...head);
      expect(
        maxAbsDiff(
          r!.outputs.embedding,
          head.map((x) => x / norm),
        ),
      ).toBeLessThan(1e-6);
    } finally {
      await llm.close();
    }
  });

  it("scores 1:1, 1:N and N:N, and refuses other shapes", async () => {
    expect(await cross.score("a", ["b", "c", "d"])).toHaveLength(3);
    expect(await cross.score(["a", "b"], ["c", "d"])).toHaveLength(2);
    await expect(cross.score(["a", "b"], ["c", "d", "e"])).rejects.toThrow(
      "Input lengths must be either 1:1, 1:N or N:N",
    );
    await expect(cross.score([], ["c"])).rejects.toThrow("At least one text element must be given");
    const [s] = await mean.score("a cat", "a cat");
    expect(s!.outputs.score).toBeCloseTo(1, 5);
  });

  it("classify probabilities sum to one and follow id2label order", async () => {
    const [r] = await classifier.classify("a cat");
    expect(r!.outputs.probs).toHaveLength(3);
    expect(r!.outputs.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it("refuses token ids outside the vocabulary and empty prompts", async () => {
    await expect(mean.embed({ promptTokenIds: [2, 100000, 3] })).rejects.toThrow(
      "out of vocabulary",
    );
    await expect(mean.embed({ promptTokenIds: [] })).rejects.toThrow("The prompt is empty");
  });

  it("sessions in worker threads give the same outputs as the calling thread", async () => {
    const pooled = await LLM.load({ model: fixture("bert-embed-mean"), workers: 2 });
    try {
      const texts = ["the quick brown fox jumps over the lazy dog", "a", "hello world"];
      const [a, b] = await Promise.all([pooled.embed(texts), mean.embed(texts)]);
      expect(
        maxAbsDiff(
          a.map((r) => r.outputs.embedding),
          b.map((r) => r.outputs.embedding),
        ),
      ).toBeLessThan(1e-6);
    } finally {
      await pooled.close();
    }
  });

  it("returns results in input order whatever order the batches ran", async () => {
    const texts = ["the quick brown fox jumps over the lazy dog", "a", "hello world", "a cat sat"];
    const all = await mean.embed(texts);
    for (const [i, t] of texts.entries()) {
      const [one] = await mean.embed(t);
      expect(maxAbsDiff(all[i]!.outputs.embedding, one!.outputs.embedding)).toBeLessThan(1e-5);
    }
  });
});
