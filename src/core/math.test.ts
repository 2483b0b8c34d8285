import { describe, expect, it } from "vitest";
import { l2Normalize, sigmoid, softmax } from "./activation.js";
import { applyDense } from "./dense.js";
import { classifierActivation } from "./heads.js";
import { clsPool, lastPool, meanPool, stepPool } from "./pooling.js";
import { parseSafetensors } from "./safetensors.js";
import { cosineSimilarity, maxSim, pairIndices } from "./scoring.js";

const states = { data: Float32Array.from([1, 2, 3, 4, 5, 6]), tokens: 3, dim: 2 };

describe("pooling and heads", () => {
  it("pools CLS, MEAN, LAST and STEP over real tokens", () => {
    expect([...clsPool(states)]).toEqual([1, 2]);
    expect([...meanPool(states)]).toEqual([3, 4]);
    expect([...lastPool(states)]).toEqual([5, 6]);
    expect(stepPool(states, [7, 9, 9], 9).map((r) => [...r])).toEqual([
      [3, 4],
      [5, 6],
    ]);
  });

  it("activations", () => {
    const p = softmax([1000, 1000]);
    expect([...p]).toEqual([0.5, 0.5]);
    expect(sigmoid([0])[0]).toBe(0.5);
    expect(sigmoid([-1000])[0]).toBe(0);
    expect([...l2Normalize([3, 4])].map((x) => +x.toFixed(6))).toEqual([0.6, 0.8]);
    expect([...l2Normalize([0, 0])]).toEqual([0, 0]);
  });

  it("classifier activation follows problem_type and label count", () => {
    expect(classifierActivation({ id2label: { 0: "a" } })).toBe("sigmoid");
    expect(classifierActivation({ id2label: { 0: "a", 1: "b" } })).toBe("softmax");
    expect(
      classifierActivation({ num_labels: 3, problem_type: "multi_label_classification" }),
    ).toBe("sigmoid");
    expect(classifierActivation({ num_labels: 1, problem_type: "regression" })).toBe("identity");
  });

  it("applies a Dense layer", () => {
    const layer = {
      inFeatures: 2,
      outFeatures: 1,
      weight: Float32Array.from([1, -1]),
      bias: Float32Array.from([0.5]),
      activation: "identity" as const,
    };
    expect([...applyDense(layer, [3, 1])]).toEqual([2.5]);
    expect(() => applyDense(layer, [1])).toThrow("expects 2 features");
  });
});

describe("scoring", () => {
  it("cosine, MaxSim and pair shapes", () => {
    expect(cosineSimilarity([1, 0], [0, 1])).toBe(0);
    expect(
      maxSim(
        [
          [1, 0],
          [0, 1],
        ],
        [
          [1, 0],
          [0.5, 0.5],
        ],
      ),
    ).toBe(1.5);
    expect(pairIndices(1, 3)).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
    ]);
    expect(pairIndices(2, 2)).toEqual([
      [0, 0],
      [1, 1],
    ]);
    expect(() => pairIndices(2, 3)).toThrow("Input lengths must be either 1:1, 1:N or N:N");
    expect(() => pairIndices(0, 3)).toThrow("At least one text element must be given");
  });
});

describe("safetensors", () => {
  it("reads F32 and F16 tensors", () => {
    const header = JSON.stringify({
      a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      b: { dtype: "F16", shape: [1], data_offsets: [8, 10] },
    });
    const h = new TextEncoder().encode(header);
    const buf = new Uint8Array(8 + h.length + 10);
    const view = new DataView(buf.buffer);
    view.setBigUint64(0, BigInt(h.length), true);
    buf.set(h, 8);
    view.setFloat32(8 + h.length, 1.5, true);
    view.setFloat32(8 + h.length + 4, -2, true);
    view.setUint16(8 + h.length + 8, 0x3c00, true); // 1.0 in half precision
    const t = parseSafetensors(buf);
    expect([...t.get("a")!.data]).toEqual([1.5, -2]);
    expect([...t.get("b")!.data]).toEqual([1]);
  });
});
