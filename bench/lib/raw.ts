import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { TextTokenizer } from "../../src/engine/tokenizer.js";

export function loadTokenizer(dir: string): TextTokenizer {
  const read = (f: string) => JSON.parse(readFileSync(join(dir, f), "utf8"));
  return new TextTokenizer(read("tokenizer.json"), read("tokenizer_config.json"));
}

function feeds(seqs: number[][]): Record<string, ort.Tensor> {
  const B = seqs.length;
  const T = Math.max(...seqs.map((s) => s.length));
  const ids = new BigInt64Array(B * T);
  const mask = new BigInt64Array(B * T);
  seqs.forEach((s, b) => {
    s.forEach((id, t) => {
      ids[b * T + t] = BigInt(id);
      mask[b * T + t] = 1n;
    });
  });
  return {
    input_ids: new ort.Tensor("int64", ids, [B, T]),
    attention_mask: new ort.Tensor("int64", mask, [B, T]),
    token_type_ids: new ort.Tensor("int64", new BigInt64Array(B * T), [B, T]),
  };
}

export interface RawResult {
  bestBatchSize: number;
  throughput: number;
  byBatchSize: Record<number, number>;
  singleMedianMs: number;
  tokensPerSecond: number;
  /** Sequences per second with batches cut by a padded-token budget (longest × count). */
  byTokenBudget: Record<number, number>;
}

/** Length-sorted batches of at most `budget` padded tokens (and `maxCount` sequences). */
export function budgetBatches(sorted: number[][], budget: number, maxCount = 256): number[][][] {
  const out: number[][][] = [];
  let cur: number[][] = [];
  for (const s of sorted) {
    const longest = Math.max(s.length, cur.at(-1)?.length ?? 0);
    if (cur.length > 0 && (longest * (cur.length + 1) > budget || cur.length >= maxCount)) {
      out.push(cur);
      cur = [];
    }
    cur.push(s);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * The limit: the raw session over pre-tokenized, length-sorted batches (no HTTP, no pooling),
 * at each batch size; and the single-sequence latency.
 */
export async function rawSession(
  modelDir: string,
  texts: readonly string[],
  singles: readonly string[],
  opts: { onnxFile?: string; budgets?: readonly number[] } = {},
): Promise<RawResult> {
  const tok = loadTokenizer(modelDir);
  const session = await ort.InferenceSession.create(
    join(modelDir, opts.onnxFile ?? join("onnx", "model.onnx")),
  );
  const seqs = texts
    .map((t) => tok.encode(t, { maxTokens: 256 }).ids)
    .sort((a, b) => a.length - b.length);
  const tokens = seqs.reduce((n, s) => n + s.length, 0);
  await session.run(feeds(seqs.slice(0, 8)));
  const byBatchSize: Record<number, number> = {};
  let best = 0;
  let bestBatch = 0;
  let bestSeconds = 0;
  for (const bs of [8, 16, 32, 64, 128]) {
    const t = performance.now();
    for (let i = 0; i < seqs.length; i += bs) await session.run(feeds(seqs.slice(i, i + bs)));
    const seconds = (performance.now() - t) / 1000;
    byBatchSize[bs] = seqs.length / seconds;
    if (byBatchSize[bs]! > best) {
      best = byBatchSize[bs]!;
      bestBatch = bs;
      bestSeconds = seconds;
    }
  }
  const byTokenBudget: Record<number, number> = {};
  for (const budget of opts.budgets ?? []) {
    const t = performance.now();
    for (const b of budgetBatches(seqs, budget)) await session.run(feeds(b));
    byTokenBudget[budget] = seqs.length / ((performance.now() - t) / 1000);
  }
  const times: number[] = [];
  for (const s of singles) {
    const f = feeds([tok.encode(s).ids]);
    const t = performance.now();
    await session.run(f);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  await session.release();
  return {
    bestBatchSize: bestBatch,
    throughput: best,
    byBatchSize,
    singleMedianMs: times[Math.floor(times.length / 2)]!,
    tokensPerSecond: tokens / bestSeconds,
    byTokenBudget,
  };
}
