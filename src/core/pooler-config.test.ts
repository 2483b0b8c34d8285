import { describe, expect, it } from "vitest";
import { ModelConfigError } from "./errors.js";
import {
  parsePoolerConfig,
  poolingFromSentenceTransformers,
  resolvePoolerConfig,
} from "./pooler-config.js";

const st = (mode: string) =>
  poolingFromSentenceTransformers(
    { [`pooling_mode_${mode}`]: true, pooling_mode_cls_token: mode === "cls_token" },
    true,
  );

describe("pooler config", () => {
  it("explicit > sentence-transformers > architecture default", () => {
    expect(resolvePoolerConfig({ decoder: false }).poolingType).toBe("CLS");
    expect(resolvePoolerConfig({ decoder: true }).poolingType).toBe("LAST");
    expect(
      resolvePoolerConfig({ decoder: false, sentenceTransformers: st("mean_tokens") }).poolingType,
    ).toBe("MEAN");
    expect(
      resolvePoolerConfig({
        decoder: false,
        sentenceTransformers: st("mean_tokens"),
        explicit: { poolingType: "LAST" },
      }).poolingType,
    ).toBe("LAST");
    expect(resolvePoolerConfig({ decoder: false }).useActivation).toBe(true);
    expect(
      resolvePoolerConfig({ decoder: false, explicit: { useActivation: false } }).useActivation,
    ).toBe(false);
  });

  it("applies vLLM's per-architecture defaults where the pooler config leaves a field unset", () => {
    const prm = {
      decoder: true,
      processReward: true,
      architectures: ["Qwen2ForProcessRewardModel"],
    };
    expect(resolvePoolerConfig(prm)).toMatchObject({ poolingType: "STEP", stepTagId: 151651 });
    expect(resolvePoolerConfig({ ...prm, explicit: { stepTagId: 7 } }).stepTagId).toBe(7);
    const rm = { decoder: true, architectures: ["Qwen2ForRewardModel"] };
    expect(resolvePoolerConfig(rm).useActivation).toBe(false);
    expect(resolvePoolerConfig({ ...rm, explicit: { useActivation: true } }).useActivation).toBe(
      true,
    );
    const jamba = { decoder: true, architectures: ["JambaForSequenceClassification"] };
    expect(resolvePoolerConfig(jamba).useActivation).toBe(false);
    const jinaVl = { decoder: true, architectures: ["JinaVLForRanking"] };
    expect(resolvePoolerConfig(jinaVl).logitBias).toBe(2.65);
    // Other architectures keep the generic defaults.
    const plain = resolvePoolerConfig({ decoder: true, architectures: ["Qwen2ForCausalLM"] });
    expect(plain.stepTagId).toBeUndefined();
    expect(plain.useActivation).toBe(true);
  });

  it("parses vLLM's snake_case JSON and camelCase", () => {
    expect(parsePoolerConfig({ pooling_type: "mean", normalize: false, step_tag_id: 7 })).toEqual({
      poolingType: "MEAN",
      useActivation: false,
      stepTagId: 7,
    });
    expect(parsePoolerConfig({ poolingType: "CLS", returnedTokenIds: [1] })).toEqual({
      poolingType: "CLS",
      returnedTokenIds: [1],
    });
    expect(() => parsePoolerConfig({ pooling_type: "MAX" })).toThrow(ModelConfigError);
    expect(() => parsePoolerConfig("MEAN")).toThrow("must be a JSON object");
  });

  it("refuses unknown keys by name; logit_bias/logit_scale; deprecated keys warn", () => {
    expect(() => parsePoolerConfig({ pooling_typ: "MEAN" })).toThrow(
      "Unknown pooler config key 'pooling_typ'",
    );
    expect(parsePoolerConfig({ logit_bias: 0.5, logitScale: 2 })).toEqual({
      logitBias: 0.5,
      logitScale: 2,
    });
    expect(() => parsePoolerConfig({ logit_bias: "x" })).toThrow("finite number");
    const warnings: string[] = [];
    expect(parsePoolerConfig({ softmax: false }, (m) => warnings.push(m))).toEqual({
      useActivation: false,
    });
    expect(warnings[0]).toContain("'softmax' is deprecated");
    expect(() => parsePoolerConfig({ use_activation: true, normalize: false })).toThrow(
      "'normalize' contradicts 'use_activation'",
    );
  });

  it("refuses sentence-transformers modes vLLM has no pooler for", () => {
    expect(() => poolingFromSentenceTransformers({ pooling_mode_max_tokens: true }, false)).toThrow(
      "pooling_mode_max_tokens",
    );
    expect(() => poolingFromSentenceTransformers({}, false)).toThrow("exactly one pooling mode");
    expect(st("lasttoken").poolingType).toBe("LAST");
  });

  it("parses chunked processing and checks max_embed_len needs it", () => {
    expect(parsePoolerConfig({ enable_chunked_processing: true, max_embed_len: 4096 })).toEqual({
      enableChunkedProcessing: true,
      maxEmbedLen: 4096,
    });
    expect(() => parsePoolerConfig({ max_embed_len: 4096 })).toThrow("enable_chunked_processing");
    expect(() => parsePoolerConfig({ enable_chunked_processing: true, max_embed_len: 0 })).toThrow(
      "positive integer",
    );
    expect(() => parsePoolerConfig({ enable_chunked_processing: "yes" })).toThrow("boolean");
  });
});
