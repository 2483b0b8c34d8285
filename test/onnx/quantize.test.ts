import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cosineSimilarity } from "../../src/core/index.js";
import { LLM } from "../../src/engine/index.js";
import { MANIFEST_FILE, parseManifest, verifyFolder } from "../../src/models/index.js";
import { quantizePerColumn } from "../../src/onnx/int8.js";
import { DataType, dimsOf, readOnnx } from "../../src/onnx/onnx-proto.js";
import { fixture, goldens } from "../helpers/fixtures.js";

const run = promisify(execFile);
const BIN = join(import.meta.dirname, "..", "..", "dist", "cli", "main.js");

/** Spearman's rank correlation (no ties expected between float scores). */
function spearman(a: readonly number[], b: readonly number[]): number {
  const rank = (v: readonly number[]) => {
    const r = new Array<number>(v.length);
    const order = [...v.keys()].sort((i, j) => v[i]! - v[j]!);
    order.forEach((i, k) => {
      r[i] = k;
    });
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const n = a.length;
  const d2 = ra.reduce((s, r, i) => s + (r - rb[i]!) ** 2, 0);
  return 1 - (6 * d2) / (n * (n * n - 1));
}

let tmp: string;
const quantized = (name: string) => join(tmp, name);

/** `edgepool quantize` itself, as a user runs it. */
async function quantize(name: string, out = name, ...flags: string[]): Promise<string> {
  const { stdout, stderr } = await run(process.execPath, [
    BIN,
    "quantize",
    fixture(name),
    "--out",
    quantized(out),
    ...flags,
  ]);
  expect(stderr).toMatch(/quantized \d+ MatMul\/Gemm nodes/);
  // Progress off a terminal: a start line with the weights' size, and a summary with the rate.
  expect(stderr).toMatch(
    /^quantize onnx\/model\.onnx: quantizing \d+\.\d kB of MatMul\/Gemm weights$/m,
  );
  expect(stderr).toMatch(/^quantize onnx\/model\.onnx: \d+\.\d kB in \d+\.\d s \(.+\/s\)$/m);
  return stdout.trim();
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "edgepool-quantize-"));
  await Promise.all(["bert-embed-mean", "bert-cross-encoder"].map((name) => quantize(name)));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("per-channel int8 weights", () => {
  it("keeps each column's largest magnitude at ±127 and rounds the rest", () => {
    // [K=2, N=3]
    const w = new Float32Array([1, -0.5, 0, -2, 0.25, 0]);
    const { q, scale } = quantizePerColumn(w, 2, 3, 127);
    expect([...scale]).toEqual([2 / 127, 0.5 / 127, 1].map(Math.fround));
    expect([...q]).toEqual([64, -127, 0, -127, 64, 0]);
  });
});

describe("edgepool quantize", () => {
  it("rewrites every constant-weight MatMul to DynamicQuantizeMatMul with int8 [K, N] weights", () => {
    const before = readOnnx(join(fixture("bert-embed-mean"), "onnx", "model.onnx"));
    const after = readOnnx(join(quantized("bert-embed-mean"), "onnx", "model_quantized.onnx"));
    const inits = new Map(after.graph!.initializer!.map((t) => [t.name!, t]));
    const constMatMuls = before.graph!.node!.filter(
      (n) =>
        n.opType === "MatMul" && before.graph!.initializer!.some((t) => t.name === n.input![1]),
    );
    const q = after.graph!.node!.filter((n) => n.opType === "DynamicQuantizeMatMul");
    expect(constMatMuls.length).toBeGreaterThan(0);
    expect(q).toHaveLength(constMatMuls.length);
    for (const node of q) {
      expect(node.domain).toBe("com.microsoft");
      const [, wName, sName, zName] = node.input!;
      const w = inits.get(wName!)!;
      const s = inits.get(sName!)!;
      expect(w.dataType).toBe(DataType.INT8);
      const [, n] = dimsOf(w);
      expect(dimsOf(w)).toHaveLength(2);
      expect(dimsOf(s)).toEqual([n]);
      expect(dimsOf(inits.get(zName!)!)).toEqual([n]);
    }
    // The fp32 weights that were quantized are gone; nothing else changed.
    expect(after.graph!.node!.length).toBe(before.graph!.node!.length);
    expect(after.graph!.input!.map((i) => i.name)).toEqual(before.graph!.input!.map((i) => i.name));
    expect(after.graph!.output!.map((o) => o.name)).toEqual(
      before.graph!.output!.map((o) => o.name),
    );
    expect(after.opsetImport!.some((o) => o.domain === "com.microsoft")).toBe(true);
  });

  it("writes 7-bit weights by default and 8-bit ones with --full-range, and says which", async () => {
    /** The largest |weight| of the graph's int8 weights, and its quantization metadata. */
    const weightsOf = (dir: string) => {
      const graph = readOnnx(join(dir, "onnx", "model_quantized.onnx"));
      let max = 0;
      for (const t of graph.graph!.initializer!) {
        if (t.dataType !== DataType.INT8 || dimsOf(t).length !== 2) continue;
        for (const v of new Int8Array(
          t.rawData!.buffer,
          t.rawData!.byteOffset,
          t.rawData!.byteLength,
        ))
          max = Math.max(max, Math.abs(v));
      }
      const meta = graph.metadataProps?.find((p) => p.key === "edgepool.quantization")?.value;
      return { max, meta };
    };
    const seven = weightsOf(quantized("bert-embed-mean"));
    expect(seven.max).toBe(63);
    expect(seven.meta).toMatch(/on 7 bits/);
    await quantize("bert-embed-mean", "full-range", "--full-range");
    const eight = weightsOf(quantized("full-range"));
    expect(eight.max).toBe(127);
    expect(eight.meta).toMatch(/on 8 bits/);
    const both = run(process.execPath, [
      BIN,
      "quantize",
      fixture("bert-embed-mean"),
      "--out",
      quantized("x"),
      "--full-range",
      "--reduce-range",
    ]);
    await expect(both).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--full-range and --reduce-range contradict/),
    });
  });

  it("records the quantized graph in the manifest, which verifies", async () => {
    const dir = quantized("bert-embed-mean");
    const manifest = parseManifest(readFileSync(join(dir, MANIFEST_FILE), "utf8"));
    expect(manifest.files.map((f) => f.path)).toContain("onnx/model_quantized.onnx");
    expect(manifest.files.map((f) => f.path)).toContain("onnx/model.onnx");
    await verifyFolder(dir, manifest);
  });

  it("serves with dtype q8: same shapes, embeddings within cosine 0.99 of fp32", async () => {
    const dir = quantized("bert-embed-mean");
    const fp32 = await LLM.load({ model: dir });
    const q8 = await LLM.load({ model: dir, dtype: "q8" });
    try {
      const texts = goldens()
        .find((g) => g.name === "bert-embed-mean")!
        .tokenization.map((t) => t.text);
      const [a, b] = [await fp32.embed(texts), await q8.embed(texts)];
      for (let i = 0; i < texts.length; i++) {
        const x = Float32Array.from(a[i]!.outputs.embedding);
        const y = Float32Array.from(b[i]!.outputs.embedding);
        expect(y.length).toBe(x.length);
        expect(cosineSimilarity(x, y)).toBeGreaterThanOrEqual(0.99);
      }
      const [ta, tb] = [
        await fp32.encode(texts.slice(0, 1), { poolingTask: "token_embed" }),
        await q8.encode(texts.slice(0, 1), { poolingTask: "token_embed" }),
      ];
      expect(tb[0]!.outputs.data).toHaveLength(ta[0]!.outputs.data.length);
    } finally {
      await Promise.all([fp32.close(), q8.close()]);
    }
  });

  it("keeps a cross-encoder's ranking: Spearman ≥ 0.99 against fp32 on the fixture's pairs", async () => {
    const dir = quantized("bert-cross-encoder");
    const fp32 = await LLM.load({ model: dir });
    const q8 = await LLM.load({ model: dir, dtype: "q8" });
    try {
      const texts = goldens()
        .find((g) => g.name === "bert-cross-encoder")!
        .tokenization.map((t) => t.text);
      const scores = async (llm: LLM) => {
        const out: number[] = [];
        for (const q of texts) for (const r of await llm.score(q, texts)) out.push(r.outputs.score);
        return out;
      };
      const [a, b] = [await scores(fp32), await scores(q8)];
      expect(b).toHaveLength(texts.length ** 2);
      expect(spearman(a, b)).toBeGreaterThanOrEqual(0.99);
    } finally {
      await Promise.all([fp32.close(), q8.close()]);
    }
  });

  it("refuses a missing --out and a model without a graph, with exit code 2", async () => {
    await expect(
      run(process.execPath, [BIN, "quantize", fixture("bert-embed-mean")]),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--out <folder> is required/),
    });
    await expect(
      run(process.execPath, [BIN, "quantize", tmp, "--out", join(tmp, "x")]),
    ).rejects.toMatchObject({ code: 2 });
  });
});
