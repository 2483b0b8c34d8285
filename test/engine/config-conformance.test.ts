import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { softmax } from "../../src/core/index.js";
import { LLM, type LLMOptions } from "../../src/index.js";
import { editedFixture, fixture, goldenCase, maxAbsDiff } from "../helpers/fixtures.js";

type Json = Record<string, unknown>;
const made: string[] = [];
const opened: LLM[] = [];

/** A fixture copy with JSON files edited (see `editedFixture`), removed after the suite. */
function edited(name: string, edits: Record<string, ((j: Json) => unknown) | null>): string {
  const dir = editedFixture(name, edits);
  made.push(dir);
  return dir;
}

async function load(model: string, extra: Partial<LLMOptions> = {}): Promise<LLM> {
  const llm = await LLM.load({ model, ...extra });
  opened.push(llm);
  return llm;
}

afterAll(async () => {
  for (const llm of opened) await llm.close();
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const prompts = (fixtureName: string, caseName: string) =>
  goldenCase(fixtureName, caseName).prompts!;

describe("configuration that must not be dropped", () => {
  it("sentence-transformers without a Normalize module: not normalized (modules.json decides)", async () => {
    const dir = edited("bert-embed-mean", {
      "modules.json": (m) =>
        (m as unknown as Json[]).filter((x) => x.type !== "sentence_transformers.models.Normalize"),
    });
    const llm = await load(dir);
    const raw = goldenCase("bert-embed-mean", "embed useActivation=false");
    const got = (await llm.embed(raw.prompts!)).map((r) => r.outputs.embedding);
    expect(maxAbsDiff(got, raw.expected)).toBeLessThan(1e-4);
    // use_activation still turns normalization on per request.
    const normalized = goldenCase("bert-embed-mean", "embed default");
    const on = (await llm.embed(raw.prompts!, { useActivation: true })).map(
      (r) => r.outputs.embedding,
    );
    expect(maxAbsDiff(on, normalized.expected)).toBeLessThan(1e-4);
  });

  it("cross-encoder activation from config.json (sbert_ce_default_activation_function Identity)", async () => {
    const dir = edited("bert-cross-encoder", {
      "config.json": (c) => ({
        ...c,
        sbert_ce_default_activation_function: "torch.nn.modules.linear.Identity",
      }),
    });
    const llm = await load(dir);
    const raw = goldenCase("bert-cross-encoder", "classify useActivation=false");
    const got = (await llm.classify(raw.prompts!)).map((r) => r.outputs.probs);
    expect(maxAbsDiff(got, raw.expected)).toBeLessThan(1e-4);
    // The score is the raw logit too: its sigmoid is the default model's score.
    const sigmoidScores = goldenCase("bert-cross-encoder", "score cross-encoder 1:N");
    const scores = (await llm.score(sigmoidScores.text1!, sigmoidScores.text2!)).map(
      (r) => 1 / (1 + Math.exp(-r.outputs.score)),
    );
    expect(maxAbsDiff(scores, sigmoidScores.expected)).toBeLessThan(1e-4);
  });

  it("sentence_transformers.activation_fn (Sigmoid) on a 3-label classifier; unknown classes refused", async () => {
    const dir = edited("bert-classifier", {
      "config.json": (c) => ({
        ...c,
        sentence_transformers: { activation_fn: "torch.nn.modules.activation.Sigmoid" },
      }),
    });
    const llm = await load(dir);
    const raw = goldenCase("bert-classifier", "classify useActivation=false");
    const got = (await llm.classify(raw.prompts!)).map((r) => r.outputs.probs);
    const expected = (raw.expected as number[][]).map((l) => l.map((x) => 1 / (1 + Math.exp(-x))));
    expect(maxAbsDiff(got, expected)).toBeLessThan(1e-4);
    const bad = edited("bert-classifier", {
      "config.json": (c) => ({ ...c, sbert_ce_default_activation_function: "os.system" }),
    });
    await expect(LLM.load({ model: bad })).rejects.toThrow("activation 'os.system'");
  });

  it("logit_bias and logit_scale apply to classifier logits before the activation", async () => {
    const llm = await load(fixture("bert-classifier"), {
      poolerConfig: { logit_bias: 0.5, logit_scale: 2 },
    });
    const raw = goldenCase("bert-classifier", "classify useActivation=false");
    const got = (await llm.classify(raw.prompts!)).map((r) => r.outputs.probs);
    const expected = (raw.expected as number[][]).map((l) =>
      Array.from(softmax(l.map((x) => (x - 0.5) * 2))),
    );
    expect(maxAbsDiff(got, expected)).toBeLessThan(1e-4);
  });

  it("unknown and unsupported pooler-config keys fail at load, naming the key", async () => {
    const model = fixture("bert-embed-cls");
    await expect(LLM.load({ model, poolerConfig: { pooling_typ: "MEAN" } })).rejects.toThrow(
      "Unknown pooler config key 'pooling_typ'",
    );
    await expect(
      LLM.load({ model, poolerConfig: { enable_chunked_processing: "yes" } }),
    ).rejects.toThrow("enable_chunked_processing must be a boolean");
    await expect(LLM.load({ model, poolerConfig: { max_embed_len: 1024 } })).rejects.toThrow(
      "max_embed_len needs enable_chunked_processing",
    );
  });

  it("deprecated normalize / softmax / activation act as use_activation, with a warning", async () => {
    const warnings: string[] = [];
    const onWarning = (m: string) => warnings.push(m);
    const embed = await load(fixture("bert-embed-mean"), {
      poolerConfig: { normalize: false },
      onWarning,
    });
    const raw = goldenCase("bert-embed-mean", "embed useActivation=false");
    expect(
      maxAbsDiff(
        (await embed.embed(raw.prompts!)).map((r) => r.outputs.embedding),
        raw.expected,
      ),
    ).toBeLessThan(1e-4);
    expect(warnings.join("\n")).toContain("'normalize' is deprecated");
    const classifier = await load(fixture("bert-classifier"), { onWarning });
    const logits = goldenCase("bert-classifier", "classify useActivation=false");
    const got = (await classifier.classify(logits.prompts!, { softmax: false })).map(
      (r) => r.outputs.probs,
    );
    expect(maxAbsDiff(got, logits.expected)).toBeLessThan(1e-4);
    expect(warnings.join("\n")).toContain("'softmax' is deprecated");
    await expect(
      classifier.classify(logits.prompts!, { activation: false, useActivation: true }),
    ).rejects.toThrow("'activation' contradicts 'use_activation'");
  });

  it("parameters that do not apply to the task are refused with vLLM's message", async () => {
    const classifier = await load(fixture("bert-classifier"));
    await expect(
      classifier.classify(["a cat"], { dimensions: 8 } as Record<string, unknown>),
    ).rejects.toThrow(
      "Task classify only supports ['use_activation'] parameters, does not support ['dimensions'] parameters",
    );
    const embed = await load(fixture("bert-embed-cls"));
    await expect(embed.embed(["a cat"], { stepTagId: 3 })).rejects.toThrow(
      "does not support ['step_tag_id'] parameters",
    );
  });

  it("per-request step_tag_id and returned_token_ids (STEP pooling)", async () => {
    const step = goldenCase("bert-token-classifier", "token_classify STEP");
    const llm = await load(fixture("bert-token-classifier"), {
      poolerConfig: { pooling_type: "STEP" },
    });
    const got = await llm.encode(step.prompts!, {
      poolingTask: "token_classify",
      stepTagId: 18,
      returnedTokenIds: [1, 3],
    });
    expect(
      maxAbsDiff(
        got.map((r) => r.outputs.data),
        step.expected,
      ),
    ).toBeLessThan(1e-4);
    await expect(
      llm.encode(step.prompts!, { poolingTask: "token_classify", returnedTokenIds: [9] }),
    ).rejects.toThrow("outside the model's 5 labels");
    const all = await load(fixture("bert-token-classifier"));
    await expect(
      all.encode(step.prompts!, { poolingTask: "token_classify", stepTagId: 18 }),
    ).rejects.toThrow("step_tag_id applies to STEP pooling");
  });

  it("token_embed goes through the Dense layers and takes the pooler-config dimensions default", async () => {
    const llm = await load(fixture("st-dense-matryoshka"), { poolerConfig: { dimensions: 8 } });
    const c = goldenCase("st-dense-matryoshka", "token_embed dimensions=8");
    const got = await llm.encode(c.prompts!, { poolingTask: "token_embed" });
    expect(
      maxAbsDiff(
        got.map((r) => r.outputs.data),
        c.expected,
      ),
    ).toBeLessThan(1e-4);
  });

  it("max length from n_positions (and vLLM's other length keys): the smallest wins", async () => {
    const dir = edited("bert-embed-cls", {
      "config.json": (c) => ({ ...c, n_positions: 16 }),
    });
    const llm = await load(dir);
    expect(llm.maxModelLen).toBe(16);
    await expect(
      llm.embed("the quick brown fox jumps over the lazy dog and the cat sat on the mat again"),
    ).rejects.toThrow("maximum context length is 16 tokens");
  });

  it("encode without a task says what to pass", async () => {
    const llm = await load(fixture("bert-embed-cls"));
    await expect(llm.encode(["a cat"], {} as never)).rejects.toThrow(
      'poolingTask is required for encode(): pass { poolingTask: "embed" | "token_embed" }',
    );
  });
});

describe("architecture → task table", () => {
  it("a sequence classifier whose graph gives per-token logits serves classify and token_classify", async () => {
    const dir = edited("bert-token-classifier", {
      "config.json": (c) => ({ ...c, architectures: ["BertForSequenceClassification"] }),
    });
    const llm = await load(dir);
    expect(llm.supportedTasks).toEqual(["classify", "token_classify"]);
    const perToken = goldenCase("bert-token-classifier", "token_classify default");
    const tokens = await llm.encode(perToken.prompts!, { poolingTask: "token_classify" });
    expect(
      maxAbsDiff(
        tokens.map((r) => r.outputs.data),
        perToken.expected,
      ),
    ).toBeLessThan(1e-4);
    // classify pools CLS (encoder default): the first token's probabilities.
    const probs = (await llm.classify(perToken.prompts!)).map((r) => r.outputs.probs);
    const first = (perToken.expected as number[][][]).map((rows) => rows[0]);
    expect(maxAbsDiff(probs, first)).toBeLessThan(1e-4);
  });

  it("a decoder sequence classifier exported with per-token scores: classify pools LAST, token_classify keeps all", async () => {
    const llm = await load(fixture("decoder-seq-classifier-tokens"));
    expect(llm.supportedTasks).toEqual(["classify", "token_classify"]);
    // The values themselves are checked against PyTorch by the golden suite.
    const [r] = await llm.classify("a cat");
    expect(r!.outputs.probs).toHaveLength(2);
  });

  it("reward architectures: token_classify with a reward head, embed on hidden states", async () => {
    const head = await load(
      edited("bert-token-classifier", {
        "config.json": (c) => ({ ...c, architectures: ["BertForRewardModeling"] }),
      }),
    );
    expect(head.supportedTasks).toEqual(["token_classify"]);
    const reward = goldenCase("bert-token-classifier", "reward");
    expect(
      maxAbsDiff(
        (await head.reward(reward.prompts!)).map((r) => r.outputs.data),
        reward.expected,
      ),
    ).toBeLessThan(1e-4);
    const hidden = await load(
      edited("bert-embed-cls", {
        "config.json": (c) => ({ ...c, architectures: ["BertRewardModel"] }),
      }),
    );
    expect(hidden.supportedTasks).toEqual(["embed", "token_embed", "score"]);
    const embed = goldenCase("bert-embed-cls", "embed default");
    expect(
      maxAbsDiff(
        (await hidden.embed(embed.prompts!)).map((r) => r.outputs.embedding),
        embed.expected,
      ),
    ).toBeLessThan(1e-4);
  });

  it("a plain sequence classifier's pooled logits cannot give token_classify: refused with the tasks it has", async () => {
    const llm = await load(fixture("bert-classifier"));
    await expect(
      llm.encode(prompts("bert-classifier", "classify default"), { poolingTask: "token_classify" }),
    ).rejects.toThrow("Unsupported task: 'token_classify'. Supported tasks: classify");
  });
});
