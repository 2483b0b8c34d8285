import { describe, expect, it } from "vitest";
import { applyRead, padBatch } from "./batch.js";
import { sliceOutput } from "./slice-output.js";

const mask = (b: ReturnType<typeof padBatch>) => Array.from(b.attentionMask, Number);

describe("micro-batch reads", () => {
  it("pads with lengths, and leaves a sequence's tokens past `attended` unattended", () => {
    const b = padBatch(
      [
        { ids: [5, 6, 7, 8], typeIds: null, attended: 2 },
        { ids: [9], typeIds: null },
      ],
      0,
      "right",
    );
    expect(b.lengths).toEqual([4, 1]);
    expect(mask(b)).toEqual([1, 1, 0, 0, 1, 0, 0, 0]);
  });

  it("a SPLADE read keeps each sequence's non-zero pooled entries, over its own rows", () => {
    const b = padBatch(
      [
        { ids: [1, 2], typeIds: null },
        { ids: [3], typeIds: null },
      ],
      0,
      "right",
    );
    // [batch 2, seq 2, vocab 3]; the padded row of the second sequence must not count.
    const logits = Float32Array.from([1, -1, 0, 0, 2, -1, -1, -1, 3, 9, 9, 9]);
    const reduce = {
      pooling: "max",
      activation: "relu",
      clsTokenId: null,
      sepTokenId: null,
    } as const;
    const out = applyRead(logits, [2, 2, 3], b, { name: "logits", splade: reduce });
    expect(out.dims).toEqual([2, 3]);
    expect([...out.sparse!.offsets]).toEqual([0, 2, 3]);
    expect([...out.sparse!.indices]).toEqual([0, 1, 2]);
    expect(out.data[2]).toBeCloseTo(Math.log1p(3), 6);
    const second = sliceOutput(out, { name: "logits" }, 1, 2, 0, [3]);
    expect([...second.sparse!.indices]).toEqual([2]);
    expect(second.states.tokens).toBe(0);
  });

  it("a SPLADE read leaves out [CLS] and [SEP] when the reduction names them", () => {
    const b = padBatch([{ ids: [101, 7, 102], typeIds: null }], 0, "right");
    const logits = Float32Array.from([5, 0, 0, 1, 0, 0, 0, 0, 5]);
    const reduce = {
      pooling: "max",
      activation: "relu",
      clsTokenId: 101,
      sepTokenId: 102,
    } as const;
    const out = applyRead(logits, [1, 3, 3], b, { name: "logits", splade: reduce });
    expect([...out.sparse!.indices]).toEqual([0]);
    expect(out.data[0]).toBeCloseTo(Math.log1p(1), 6);
  });

  it("last-token columns are gathered at each sequence's last real token", () => {
    const b = padBatch(
      [
        { ids: [1, 2], typeIds: null },
        { ids: [3], typeIds: null },
      ],
      0,
      "left",
    );
    const data = Float32Array.from({ length: 2 * 2 * 3 }, (_, i) => i);
    const out = applyRead(data, [2, 2, 3], b, { name: "logits", lastTokenColumns: [2, 0] });
    expect(out.dims).toEqual([2, 2]);
    expect([...out.data]).toEqual([5, 3, 11, 9]);
  });

  it("slices per-token outputs, including one that drops the first position (bge-m3's colbert_vecs)", () => {
    const tokens = { data: Float32Array.from({ length: 2 * 3 * 2 }, (_, i) => i), dims: [2, 3, 2] };
    const full = sliceOutput(tokens, { name: "h" }, 1, 3, 0, [4, 5]);
    expect([...full.states.data]).toEqual([6, 7, 8, 9]);
    const dropped = {
      data: Float32Array.from({ length: 2 * 2 * 2 }, (_, i) => i),
      dims: [2, 2, 2],
    };
    const colbert = sliceOutput(dropped, { name: "c" }, 1, 3, 0, [4, 5, 6]);
    expect(colbert.states.tokens).toBe(2);
    expect([...colbert.states.data]).toEqual([4, 5, 6, 7]);
    const weights = { data: Float32Array.from([1, 2, 3, 4, 5, 6]), dims: [2, 3] };
    const perToken = sliceOutput(weights, { name: "s", perToken: true }, 1, 3, 0, [4, 5]);
    expect(perToken.states).toEqual({ data: Float32Array.from([4, 5]), tokens: 2, dim: 1 });
    const pooled = sliceOutput(weights, { name: "d" }, 1, 3, 0, [4, 5]);
    expect(pooled.states).toEqual({ data: Float32Array.from([4, 5, 6]), tokens: 1, dim: 3 });
  });
});
