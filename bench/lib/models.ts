import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";

export const BENCH_DIR = join(import.meta.dirname, "..");
export const ROOT = join(BENCH_DIR, "..");
/** The shared data folder (STS sentences, tokenizers): `EDGEPOOL_SHARED_DIR`, or the nearest `shared/` above the repository. */
export const SHARED = findShared();

function findShared(): string {
  if (process.env.EDGEPOOL_SHARED_DIR) return process.env.EDGEPOOL_SHARED_DIR;
  for (let dir = ROOT; ; dir = dirname(dir)) {
    const candidate = join(dir, "shared");
    if (existsSync(join(candidate, "data"))) return candidate;
    if (dirname(dir) === dir) return join(ROOT, "..", "shared");
  }
}
export const CACHE = join(BENCH_DIR, ".cache");
export const TOKENIZER = join(SHARED, "data", "tokenizers", "bert-base-uncased");

/** Build a benchmark-sized random-weight model with the fixture generator (Debian python3-torch). */
export function ensureModel(shape: "tiny-4mb" | "minilm-l6" | "bert-base"): string {
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
