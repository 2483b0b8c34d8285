import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SHARED } from "./models.js";

/** Every sentence of the STS benchmark test split (both columns), in file order. */
export function stsSentences(): string[] {
  const text = readFileSync(join(SHARED, "data", "stsbenchmark", "sts-test.csv"), "utf8");
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const cols = line.split("\t");
    if (cols.length >= 7) out.push(cols[5]!, cols[6]!);
  }
  return out;
}

/** Seeded shuffle (mulberry32) so every run uses the same order. */
export function shuffle<T>(items: readonly T[], seed = 7): T[] {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Sentences plus paragraphs of 200–500 tokens (consecutive STS sentences joined), shuffled:
 * the workload that exposes padding waste.
 */
export function mixedWorkload(
  count: (text: string) => number,
  sentences: number,
  paragraphs: number,
): string[] {
  const all = stsSentences();
  const paras: string[] = [];
  let cur: string[] = [];
  let i = 0;
  let target = 200;
  while (paras.length < paragraphs) {
    cur.push(all[i % all.length]!);
    i++;
    if (count(cur.join(" ")) >= target) {
      paras.push(cur.join(" "));
      cur = [];
      target = 200 + ((paras.length * 97) % 300);
    }
  }
  return shuffle([...all.slice(0, sentences), ...paras], 11);
}
