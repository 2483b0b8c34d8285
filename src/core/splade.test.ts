import { describe, expect, it } from "vitest";
import { ModelConfigError } from "./errors.js";
import {
  nonZero,
  sparseCosine,
  sparseDot,
  spladePool,
  spladeRows,
  staticSparse,
  toDense,
} from "./splade.js";
import {
  idfWeights,
  parseRouterConfig,
  parseSpladePooling,
  spladeReduce,
} from "./splade-config.js";

// Three tokens over a vocabulary of four.
const logits = Float32Array.from([...[1, -1, 0, 2], ...[3, -2, 0, 0.5], ...[-1, -1, 0, 1]]);
const arr = (v: { indices: Int32Array; values: Float32Array }) => ({
  indices: [...v.indices],
  values: [...v.values],
});

describe("SPLADE pooling", () => {
  it("max of log1p(relu(x)) over the rows, only the non-zero entries", () => {
    const v = spladePool(logits, 4, 0, 3, { pooling: "max", activation: "relu" });
    expect(v.indices).toEqual(Int32Array.from([0, 3]));
    expect([...v.values]).toEqual([Math.fround(Math.log1p(3)), Math.fround(Math.log1p(2))]);
  });

  it("sum pools, and log1p_relu applies log1p twice", () => {
    const sum = spladePool(logits, 4, 0, 3, { pooling: "sum", activation: "relu" });
    expect(sum.values[0]).toBeCloseTo(Math.log1p(1) + Math.log1p(3), 6);
    expect(sum.values[1]).toBeCloseTo(Math.log1p(2) + Math.log1p(0.5) + Math.log1p(1), 6);
    const twice = spladePool(logits, 4, 0, 3, { pooling: "max", activation: "log1p_relu" });
    expect(twice.values[0]).toBeCloseTo(Math.log1p(Math.log1p(3)), 6);
  });

  it("pools only the rows it is given (a sequence inside a padded batch)", () => {
    const v = spladePool(logits, 4, 1, 2, { pooling: "max", activation: "relu" });
    expect(arr(v).indices).toEqual([0, 3]);
    expect(v.values[1]).toBeCloseTo(Math.log1p(1), 6);
    expect(arr(spladePool(logits, 4, 2, 0, { pooling: "max", activation: "relu" }))).toEqual({
      indices: [],
      values: [],
    });
  });

  it("leaves out [CLS] and [SEP] only when the config names them (vLLM)", () => {
    const none = { clsTokenId: null, sepTokenId: null };
    expect(spladeRows([101, 7, 8, 102], none)).toEqual([0, 4]);
    expect(spladeRows([101, 7, 8, 102], { clsTokenId: 101, sepTokenId: 102 })).toEqual([1, 3]);
    expect(spladeRows([101, 102], { clsTokenId: 101, sepTokenId: 102 })).toEqual([1, 1]);
    expect(spladeRows([7, 8], { clsTokenId: 101, sepTokenId: 102 })).toEqual([0, 2]);
    expect(spladeReduce({ pooling: "max", activation: "relu" }, { cls_token_id: 2 })).toEqual({
      pooling: "max",
      activation: "relu",
      clsTokenId: 2,
      sepTokenId: null,
    });
  });

  it("sparse vectors: dense round trip, dot product and cosine", () => {
    const a = nonZero([0, 2, 0, 1]);
    const b = nonZero([3, 1, 0, 4]);
    expect([...toDense(a, 4)]).toEqual([0, 2, 0, 1]);
    expect(sparseDot(a, b)).toBe(6);
    expect(sparseCosine(a, a)).toBeCloseTo(1, 6);
  });

  it("inference-free queries: each distinct token present weighs its static weight", () => {
    const weights = Float32Array.from([0, 1.5, 0, 2.5]);
    expect(arr(staticSparse([3, 1, 3, 2, 9], weights))).toEqual({
      indices: [1, 3],
      values: [1.5, 2.5],
    });
  });
});

describe("SPLADE configuration", () => {
  it("reads SpladePooling's strategy and activation, refusing unknown ones", () => {
    expect(parseSpladePooling({ pooling_strategy: "sum" }, "x")).toEqual({
      pooling: "sum",
      activation: "relu",
    });
    expect(parseSpladePooling(undefined, "x")).toEqual({ pooling: "max", activation: "relu" });
    expect(() => parseSpladePooling({ pooling_strategy: "mean" }, "1_SpladePooling")).toThrow(
      /1_SpladePooling: pooling_strategy 'mean' is not supported/,
    );
    expect(() => parseSpladePooling({ activation_function: "gelu" }, "x")).toThrow(
      ModelConfigError,
    );
  });

  it("reads a Router's routes and default route", () => {
    const r = parseRouterConfig(
      {
        types: { q0: "a.SparseStaticEmbedding", d0: "a.MLMTransformer", d1: "a.SpladePooling" },
        structure: { query: ["q0"], document: ["d0", "d1"] },
        parameters: { default_route: "document" },
      },
      "router_config.json",
    );
    expect(r.defaultRoute).toBe("document");
    expect(r.routes.document!.map((m) => m.type)).toEqual(["a.MLMTransformer", "a.SpladePooling"]);
    expect(() =>
      parseRouterConfig({ types: {}, structure: { query: ["q0"] } }, "router_config.json"),
    ).toThrow(/module 'q0' has no type/);
  });

  it("maps idf.json tokens to ids, leaving out unknown tokens", () => {
    const ids: Record<string, number> = { cat: 2, dog: 0 };
    const w = idfWeights({ cat: 1.25, dog: 3, zebra: 9 }, (t) => ids[t] ?? null, 4, "idf.json");
    expect([...w]).toEqual([3, 0, 1.25, 0]);
    expect(() => idfWeights({ cat: "x" }, () => 0, 4, "idf.json")).toThrow(/weight of 'cat'/);
  });
});
