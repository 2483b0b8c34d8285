// The cold start of a packaged function against the bare-script floor (bench/functions.ts): each
// model pinned to a local bucket and fetched once into a cache (as a Lambda instance's /tmp after
// its first fetch), then rounds of new processes in rotating order: the function
// (bench/function-cold.mjs, started with the V8 flags of Lambda's Node runtime), the same without
// its compile cache, the same on the pinned files copied without their manifest (nothing to
// verify), and the floor (bench/floor.mjs on the same tokenizer and graph files). The function's
// phases come from its "cold start" log line; the floor's from its own line.
import { cpSync, mkdirSync, rmSync, statSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { LAMBDA_NODE_FLAGS } from "../../scripts/compile-cache.js";
import { MANIFEST_FILE, pinModel, resolveModel } from "../../src/models/index.js";
import { freePort, S3_ENV, startS3 } from "../../test/helpers/s3.js";
import { BENCH_DIR, CACHE } from "./models.js";
import { timeProcess } from "./procs.js";
import { median } from "./stats.js";

/** The goals: import phase, and cold start over the floor by model size. */
export const IMPORT_GOAL_MS = 80;
export const RATIO_GOAL: Record<string, number> = { "tiny-4mb": 1.2, "minilm-l6": 1.1 };

type Variant = "function" | "noCompileCache" | "unverified" | "floor";
const VARIANTS: Variant[] = ["function", "noCompileCache", "unverified", "floor"];

export interface ColdStartResult {
  model: string;
  /** The pin and the cache it was fetched into (the warm benchmark reuses them). */
  uri: string;
  cacheDir: string;
  modelBytes: number;
  /** Medians over the rounds, ms: each whole process (spawn to exit). */
  ms: Record<Variant, number>;
  /** Median of the rounds' variant / floor, the function's first. */
  ratios: Record<Exclude<Variant, "floor">, number>;
  ratioGoal: number;
  importGoalMs: number;
  /**
   * The main thread's CPU time until the answer (function) or the run's end (floor), medians, and
   * the median of the rounds' function / floor: unlike wall time, not inflated by other processes
   * on a shared machine.
   */
  mainCpuMs: { function: number; noCompileCache: number; unverified: number; floor: number };
  cpuRatio: number;
  /** The function's phases (medians, ms): its log line's, then `answer` (import resolved → answered). */
  phases: Record<string, number>;
  /** The same without the compile cache: the import phase and the whole start, ms. */
  noCompileCache: { import: number };
  /** The floor's steps (medians, ms): `import` (process start → modules loaded), `tokenizer`, `session`, `run`. */
  floorPhases: Record<string, number>;
  compileCache: string;
  loadAverage: { before: number; after: number };
  runs: Record<Variant, number[]>;
}

/** Pin a model folder to a local bucket and fetch it once into a cache; the pinned folder in it. */
async function cachedPin(modelDir: string, name: string, mappedWeights: boolean) {
  const work = join(CACHE, "functions", name);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  Object.assign(process.env, S3_ENV);
  const s3 = await startS3(join(work, "s3"), await freePort(), "models");
  try {
    const { uri } = await pinModel(modelDir, "s3://models/pinned", {
      endpoint: s3.endpoint,
      mappedWeights,
      name,
    });
    const cacheDir = join(work, "tmp-cache");
    const { dir } = await resolveModel(uri, { endpoint: s3.endpoint, cacheDir });
    // The same files as a plain folder: nothing to verify.
    const plain = join(work, "unverified");
    cpSync(dir, plain, { recursive: true, dereference: true });
    rmSync(join(plain, MANIFEST_FILE));
    return { uri, cacheDir, dir, plain };
  } finally {
    await s3.kill();
  }
}

const jsonLine = <T>(stdout: string, key: string): T | undefined => {
  const line = stdout.split("\n").find((l) => l.includes(key));
  return line ? (JSON.parse(line) as T) : undefined;
};

const medians = (rows: Array<Record<string, number>>) =>
  Object.fromEntries(Object.keys(rows[0] ?? {}).map((k) => [k, median(rows.map((r) => r[k]!))]));

interface Sample {
  ms: number;
  cpu: number;
  phases: Record<string, number>;
  compileCache?: string;
}

/** One new function process: its wall time, main-thread CPU, phases and compile cache state. */
async function runFunction(entry: string, model: string): Promise<Sample> {
  const args = [`EDGEPOOL_MODEL_URI=${model}`, process.execPath, ...LAMBDA_NODE_FLAGS];
  const r = await timeProcess("/usr/bin/env", [
    ...args,
    join(BENCH_DIR, "function-cold.mjs"),
    entry,
  ]);
  const log = jsonLine<{ phases: Record<string, number>; compile_cache: string }>(
    r.stdout,
    '"cold start"',
  );
  const b = jsonLine<{ bench: { imported: number; answered: number; mainCpu: number } }>(
    r.stdout,
    '"bench"',
  );
  if (!log || !b) throw new Error(`no cold start line from the function:\n${r.stdout}`);
  return {
    ms: r.ms,
    cpu: b.bench.mainCpu,
    phases: { ...log.phases, answer: b.bench.answered - b.bench.imported },
    compileCache: log.compile_cache,
  };
}

/** One new floor process on the model's folder. */
async function runFloor(dir: string): Promise<Sample> {
  const r = await timeProcess(process.execPath, [
    ...LAMBDA_NODE_FLAGS,
    join(BENCH_DIR, "floor.mjs"),
    dir,
  ]);
  const f = jsonLine<{ floor: Record<string, number> }>(r.stdout, '"floor"')!.floor;
  const phases = {
    import: f.imported!,
    tokenizer: f.tokenizer! - f.imported!,
    session: f.session! - f.tokenizer!,
    run: f.run! - f.session!,
  };
  return { ms: r.ms, cpu: f.mainCpu!, phases };
}

/** Rounds of the function (`bundle`: its index.js), its variants and the floor on one model. */
export async function coldStart(
  bundle: string,
  modelDir: string,
  name: string,
  opts: { rounds: number; mappedWeights: boolean },
): Promise<ColdStartResult> {
  const { uri, cacheDir, dir, plain } = await cachedPin(modelDir, name, opts.mappedWeights);
  // As on Lambda, so that its defaults apply (e.g. no mapped-weights copy in /tmp).
  Object.assign(process.env, {
    AWS_LAMBDA_FUNCTION_NAME: "edgepool-embeddings",
    EDGEPOOL_CACHE_DIR: cacheDir,
    EDGEPOOL_LOG_LEVEL: "info",
  });
  const run: Record<Variant, () => Promise<Sample>> = {
    function: () => runFunction(bundle, uri),
    // The function module itself, imported without the entry that enables the cache.
    noCompileCache: () => runFunction(join(dirname(bundle), "function.js"), uri),
    unverified: () => runFunction(bundle, plain),
    floor: () => runFloor(dir),
  };
  const samples = Object.fromEntries(VARIANTS.map((v) => [v, [] as Sample[]])) as Record<
    Variant,
    Sample[]
  >;
  const before = loadavg()[0]!;
  for (let i = 0; i < opts.rounds; i++) {
    for (let k = 0; k < VARIANTS.length; k++) {
      const v = VARIANTS[(i + k) % VARIANTS.length]!;
      samples[v].push(await run[v]());
    }
  }
  const roundRatio = (v: Variant, key: "ms" | "cpu") =>
    median(samples[v].map((s, i) => s[key] / samples.floor[i]![key]));
  const msOf = (v: Variant) => median(samples[v].map((s) => s.ms));
  return {
    model: name,
    uri,
    cacheDir,
    modelBytes: statSync(join(modelDir, "onnx", "model.onnx")).size,
    ms: Object.fromEntries(VARIANTS.map((v) => [v, msOf(v)])) as Record<Variant, number>,
    ratios: {
      function: roundRatio("function", "ms"),
      noCompileCache: roundRatio("noCompileCache", "ms"),
      unverified: roundRatio("unverified", "ms"),
    },
    ratioGoal: RATIO_GOAL[name] ?? Number.NaN,
    importGoalMs: IMPORT_GOAL_MS,
    mainCpuMs: Object.fromEntries(
      VARIANTS.map((v) => [v, median(samples[v].map((s) => s.cpu))]),
    ) as ColdStartResult["mainCpuMs"],
    cpuRatio: roundRatio("function", "cpu"),
    phases: medians(samples.function.map((s) => s.phases)),
    noCompileCache: { import: median(samples.noCompileCache.map((s) => s.phases.import!)) },
    floorPhases: medians(samples.floor.map((s) => s.phases)),
    compileCache: samples.function[0]?.compileCache ?? "",
    loadAverage: { before, after: loadavg()[0]! },
    runs: Object.fromEntries(VARIANTS.map((v) => [v, samples[v].map((s) => s.ms)])) as Record<
      Variant,
      number[]
    >,
  };
}

const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
const ms = (n: number | undefined) => (n === undefined ? "—" : `${n.toFixed(0)}`);
const list = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([k, v]) => `${k} ${ms(v)}`)
    .join(", ");

/** The lines `npm run bench:functions` prints for one model: each figure next to its goal. */
export function coldStartReport(r: ColdStartResult): string[] {
  const size = `${(r.modelBytes / 1e6).toFixed(1)} MB`;
  const imp = r.phases.import ?? Number.POSITIVE_INFINITY;
  return [
    `cold start, ${r.model} (${size}): function ${ms(r.ms.function)} ms, floor ${ms(r.ms.floor)} ms, ratio ${r.ratios.function.toFixed(2)} (goal ≤ ${r.ratioGoal}: ${verdict(r.ratios.function <= r.ratioGoal)}); import ${ms(imp)} ms (goal ≤ ${r.importGoalMs}: ${verdict(imp <= r.importGoalMs)}); load average ${r.loadAverage.before.toFixed(1)} → ${r.loadAverage.after.toFixed(1)}`,
    `  function phases (median ms): ${list(r.phases)}`,
    `  floor steps (median ms): ${list(r.floorPhases)}`,
    `  main-thread CPU until the answer: function ${ms(r.mainCpuMs.function)} ms, floor ${ms(r.mainCpuMs.floor)} ms, ratio ${r.cpuRatio.toFixed(2)}`,
    `  compile cache ${r.compileCache}; without it: import ${ms(r.noCompileCache.import)} ms, start ${ms(r.ms.noCompileCache)} ms, ratio ${r.ratios.noCompileCache.toFixed(2)}, main-thread CPU ${ms(r.mainCpuMs.noCompileCache)} ms`,
    `  the same files unpinned (nothing to verify): ${ms(r.ms.unverified)} ms, ratio ${r.ratios.unverified.toFixed(2)}, main-thread CPU ${ms(r.mainCpuMs.unverified)} ms`,
  ];
}
