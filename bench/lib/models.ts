import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";

export const BENCH_DIR = join(import.meta.dirname, "..");
export const ROOT = join(BENCH_DIR, "..");
/** The shared data folder beside the checkout (`EDGEPOOL_SHARED_DIR` when it lives elsewhere). */
export const SHARED = process.env.EDGEPOOL_SHARED_DIR ?? join(ROOT, "..", "shared");
export const CACHE = join(BENCH_DIR, ".cache");
export const TOKENIZER = join(SHARED, "data", "tokenizers", "bert-base-uncased");

/** Build a benchmark-sized random-weight model with the fixture generator (Debian python3-torch). */
export function ensureModel(shape: "minilm-l6" | "bert-base"): string {
  const dir = join(CACHE, shape);
  if (!existsSync(join(dir, "onnx", "model.onnx"))) {
    console.error(`building ${shape} into ${dir} (python3-torch)…`);
    execFileSync(
      "/usr/bin/python3",
      [join(ROOT, "test", "fixtures", "generate.py"), "--bench", shape, dir, TOKENIZER],
      {
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
  }
  return dir;
}

export function modelBytes(dir: string): number {
  return statSync(join(dir, "onnx", "model.onnx")).size;
}
