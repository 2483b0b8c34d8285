import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import * as ort from "onnxruntime-node";
import { cosineSimilarity } from "../../src/core/index.js";
import { LLM } from "../../src/engine/index.js";
import { CACHE, ROOT } from "./models.js";

/** `edgepool quantize` (the built CLI) into `bench/.cache/<name>-q8`, once. */
export function ensureQuantized(dir: string): string {
  const out = join(CACHE, `${basename(dir.replace(/\/+$/, ""))}-q8`);
  if (!existsSync(join(out, "onnx", "model_quantized.onnx"))) {
    execFileSync(
      process.execPath,
      [join(ROOT, "dist", "cli", "main.js"), "quantize", dir, "--out", out],
      {
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
  }
  return out;
}

/** Cosine similarity of int8 to fp32 embeddings, sentence by sentence: min and mean. */
export async function int8Cosines(q8Dir: string, texts: readonly string[]) {
  const [fp32, q8] = [
    await LLM.load({ model: q8Dir }),
    await LLM.load({ model: q8Dir, dtype: "q8" }),
  ];
  try {
    const cos: number[] = [];
    for (let i = 0; i < texts.length; i += 64) {
      const batch = texts.slice(i, i + 64);
      const [a, b] = [await fp32.embed(batch), await q8.embed(batch)];
      for (const [j, r] of a.entries()) {
        cos.push(cosineSimilarity(r.outputs.embedding, b[j]!.outputs.embedding));
      }
    }
    return {
      min: Math.min(...cos),
      mean: cos.reduce((s, c) => s + c, 0) / cos.length,
      count: cos.length,
    };
  } finally {
    await Promise.all([fp32.close(), q8.close()]);
  }
}

/** Spearman's rank correlation. */
export function spearman(a: readonly number[], b: readonly number[]): number {
  const rank = (v: readonly number[]) => {
    const r = new Array<number>(v.length);
    [...v.keys()]
      .sort((i, j) => v[i]! - v[j]!)
      .forEach((i, k) => {
        r[i] = k;
      });
    return r;
  };
  const [ra, rb] = [rank(a), rank(b)];
  const n = a.length;
  return 1 - (6 * ra.reduce((s, r, i) => s + (r - rb[i]!) ** 2, 0)) / (n * (n * n - 1));
}

/** A cross-encoder fixture quantized by the same command: Spearman of every text pair's score. */
export async function crossEncoderSpearman(fixtureDir: string): Promise<number> {
  const dir = ensureQuantized(fixtureDir);
  const golden = JSON.parse(readFileSync(join(fixtureDir, "golden.json"), "utf8")) as {
    tokenization: Array<{ text: string }>;
  };
  const texts = golden.tokenization.map((t) => t.text);
  const [fp32, q8] = [await LLM.load({ model: dir }), await LLM.load({ model: dir, dtype: "q8" })];
  try {
    const scores = async (llm: LLM) => {
      const out: number[] = [];
      for (const q of texts) for (const r of await llm.score(q, texts)) out.push(r.outputs.score);
      return out;
    };
    return spearman(await scores(fp32), await scores(q8));
  } finally {
    await Promise.all([fp32.close(), q8.close()]);
  }
}

/**
 * Session creation, median of `runs` alternating runs: from the source graph with every
 * optimisation, and from a graph optimised once (portable `extended` level, as a pin step would
 * save it) loaded with optimisation off.
 */
export async function sessionCreation(dir: string, runs: number, mapped: string) {
  const src = join(dir, "onnx", "model.onnx");
  const pre = `${dir.replace(/\/+$/, "")}-optimized.onnx`;
  if (!existsSync(pre)) {
    const s = await ort.InferenceSession.create(src, {
      graphOptimizationLevel: "extended",
      optimizedModelFilePath: pre,
    });
    await s.release();
  }
  const t = { sourceMs: [] as number[], preOptimizedMs: [] as number[], mappedMs: [] as number[] };
  for (let i = 0; i < runs; i++) {
    for (const [k, path, level] of [
      ["sourceMs", src, "all"],
      ["preOptimizedMs", pre, "disabled"],
      ["mappedMs", mapped, "all"],
    ] as const) {
      const t0 = performance.now();
      const s = await ort.InferenceSession.create(path, { graphOptimizationLevel: level });
      t[k].push(performance.now() - t0);
      await s.release();
    }
  }
  const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  return {
    sourceMs: med(t.sourceMs),
    preOptimizedMs: med(t.preOptimizedMs),
    mappedMs: med(t.mappedMs),
  };
}
