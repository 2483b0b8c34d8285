import { describe, expect, it } from "vitest";
import { applyHfOverrides, derivedMaxModelLen, isDecoder } from "./model-config.js";
import { poolerKindOfArchitecture, resolvePoolerKind } from "./runner.js";

describe("runner and convert resolution", () => {
  it("maps architecture suffixes as vLLM", () => {
    expect(poolerKindOfArchitecture("BertModel")).toBe("embed");
    expect(poolerKindOfArchitecture("Qwen3ForTextEncoding")).toBe("embed");
    expect(poolerKindOfArchitecture("GteNewEmbeddingModel")).toBe("embed");
    expect(poolerKindOfArchitecture("XLMRobertaForSequenceClassification")).toBe("classify");
    expect(poolerKindOfArchitecture("JinaVLClassificationModel")).toBe("classify");
    expect(poolerKindOfArchitecture("BertForTokenClassification")).toBe("token_classify");
    expect(poolerKindOfArchitecture("Qwen2ForRewardModel")).toBe("token_classify");
    expect(poolerKindOfArchitecture("Whatever")).toBeNull();
  });

  it("checks the graph has the output the pooler needs", () => {
    const cfg = { architectures: ["BertForSequenceClassification"] };
    expect(resolvePoolerKind(cfg, ["sequence_logits"])).toBe("classify");
    expect(() => resolvePoolerKind(cfg, ["hidden"])).toThrow("no `logits` output");
    expect(resolvePoolerKind(cfg, ["hidden"], "pooling", "embed")).toBe("embed");
    expect(resolvePoolerKind({}, ["token_logits"])).toBe("token_classify");
    expect(() => resolvePoolerKind(cfg, ["sequence_logits"], "generate" as "auto")).toThrow(
      "pooling models only",
    );
  });

  it("detects decoders and derives the maximum length", () => {
    expect(isDecoder({ model_type: "qwen2" })).toBe(true);
    expect(isDecoder({ architectures: ["FooForCausalLM"] })).toBe(true);
    expect(isDecoder({ model_type: "bert" })).toBe(false);
    expect(
      derivedMaxModelLen({
        model_type: "xlm-roberta",
        max_position_embeddings: 514,
        pad_token_id: 1,
      }),
    ).toBe(512);
    expect(derivedMaxModelLen({ model_type: "bert", max_position_embeddings: 512 }, 256)).toBe(256);
  });

  it("deep-merges hf overrides without touching the original", () => {
    const base = { a: 1, nested: { x: 1, y: 2 } };
    const out = applyHfOverrides(base, { nested: { y: 3 }, b: true });
    expect(out).toEqual({ a: 1, nested: { x: 1, y: 3 }, b: true });
    expect(base.nested.y).toBe(2);
  });
});
