// The cold start of a packaged function against the bare-script floor (bench/functions.ts): each
// model pinned to a local bucket and fetched once into a cache (as a Lambda instance's /tmp after
// its first fetch), then rounds of a new function process (bench/function-cold.mjs, started with
// the V8 flags of Lambda's Node runtime) and a new floor process (bench/floor.mjs, the same
// tokenizer and graph files) in alternating order. The function's phases come from its
// "cold start" log line; the floor's from its own line.
import { mkdirSync, rmSync, statSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { LAMBDA_NODE_FLAGS } from "../../scripts/compile-cache.js";
import { pinModel, resolveModel } from "../../src/models/index.js";
import { freePort, S3_ENV, startS3 } from "../../test/helpers/s3.js";
import { BENCH_DIR, CACHE } from "./models.js";
import { timeProcess } from "./procs.js";
import { median } from "./stats.js";

/** The goals: import phase, and cold start over the floor by model size. */
export const IMPORT_GOAL_MS = 80;
export const RATIO_GOAL: Record<string, number> = { "tiny-4mb": 1.2, "minilm-l6": 1.1 };

export interface ColdStartResult {
  model: string;
  /** The pin and the cache it was fetched into (the warm benchmark reuses them). */
  uri: string;
  cacheDir: string;
  modelBytes: number;
  /** Medians over the rounds, ms: the whole process (spawn to exit). */
  functionMs: number;
  floorMs: number;
  /** Median of the rounds' function / floor. */
  ratio: number;
  /**
   * The same for the main thread's CPU time until the answer (function) and the run's end
   * (floor): what the start costs the thread that answers, unlike wall time not inflated by other
   * processes on a shared machine (it leaves out the graph's hashing on its worker thread).
   */
  cpuRatio: number;
  mainCpuMs: { function: number; floor: number };
  ratioGoal: number;
  importGoalMs: number;
  /** The function's phases (medians, ms): its log line's, then `answer` (import resolved → answered). */
  phases: Record<string, number>;
  /** The floor's steps (medians, ms): `import` (process start → modules loaded), `tokenizer`, `session`, `run`. */
  floorPhases: Record<string, number>;
  compileCache: string;
  loadAverage: { before: number; after: number };
  runs: { function: number[]; floor: number[] };
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
    return { uri, cacheDir, dir };
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

/** Rounds of the function (`bundle`: its index.js) and the floor on one model, alternating which goes first. */
export async function coldStart(
  bundle: string,
  modelDir: string,
  name: string,
  opts: { rounds: number; mappedWeights: boolean },
): Promise<ColdStartResult> {
  const { uri, cacheDir, dir } = await cachedPin(modelDir, name, opts.mappedWeights);
  // As on Lambda, so that its defaults apply (e.g. no mapped-weights copy in /tmp).
  Object.assign(process.env, {
    AWS_LAMBDA_FUNCTION_NAME: "edgepool-embeddings",
    EDGEPOOL_MODEL_URI: uri,
    EDGEPOOL_CACHE_DIR: cacheDir,
    EDGEPOOL_LOG_LEVEL: "info",
  });
  const fn = [...LAMBDA_NODE_FLAGS, join(BENCH_DIR, "function-cold.mjs"), bundle];
  const floorArgs = [...LAMBDA_NODE_FLAGS, join(BENCH_DIR, "floor.mjs"), dir];
  const runs = { function: [] as number[], floor: [] as number[] };
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  const cpu = { function: [] as number[], floor: [] as number[] };
  const phases: Array<Record<string, number>> = [];
  const floorPhases: Array<Record<string, number>> = [];
  let compileCache = "";
  const before = loadavg()[0]!;
  const runFunction = async () => {
    const r = await timeProcess(process.execPath, fn);
    const log = jsonLine<{ phases: Record<string, number>; compile_cache: string }>(
      r.stdout,
      '"cold start"',
    );
    const b = jsonLine<{ bench: { imported: number; answered: number; mainCpu: number } }>(
      r.stdout,
      '"bench"',
    );
    if (!log || !b) throw new Error(`no cold start line from the function:\n${r.stdout}`);
    compileCache = log.compile_cache;
    phases.push({ ...log.phases, answer: b.bench.answered - b.bench.imported });
    cpu.function.push(b.bench.mainCpu);
    return r.ms;
  };
  const runFloor = async () => {
    const r = await timeProcess(process.execPath, floorArgs);
    const f = jsonLine<{ floor: Record<string, number> }>(r.stdout, '"floor"')!.floor;
    floorPhases.push({
      import: f.imported!,
      tokenizer: f.tokenizer! - f.imported!,
      session: f.session! - f.tokenizer!,
      run: f.run! - f.session!,
    });
    cpu.floor.push(f.mainCpu!);
    return r.ms;
  };
  for (let i = 0; i < opts.rounds; i++) {
    const [a, b] = i % 2 === 0 ? [runFunction, runFloor] : [runFloor, runFunction];
    const first = await a();
    const second = await b();
    const [f, floor] = i % 2 === 0 ? [first, second] : [second, first];
    runs.function.push(f);
    runs.floor.push(floor);
    ratios.push(f / floor);
    cpuRatios.push(cpu.function.at(-1)! / cpu.floor.at(-1)!);
  }
  return {
    model: name,
    uri,
    cacheDir,
    modelBytes: statSync(join(modelDir, "onnx", "model.onnx")).size,
    functionMs: median(runs.function),
    floorMs: median(runs.floor),
    ratio: median(ratios),
    cpuRatio: median(cpuRatios),
    mainCpuMs: { function: median(cpu.function), floor: median(cpu.floor) },
    ratioGoal: RATIO_GOAL[name] ?? Number.NaN,
    importGoalMs: IMPORT_GOAL_MS,
    phases: medians(phases),
    floorPhases: medians(floorPhases),
    compileCache,
    loadAverage: { before, after: loadavg()[0]! },
    runs,
  };
}

const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
const ms = (n: number | undefined) => (n === undefined ? "—" : `${n.toFixed(0)}`);

/** The lines `npm run bench:functions` prints for one model: each figure next to its goal. */
export function coldStartReport(r: ColdStartResult): string[] {
  const size = `${(r.modelBytes / 1e6).toFixed(1)} MB`;
  const p = r.phases;
  return [
    `cold start, ${r.model} (${size}): function ${ms(r.functionMs)} ms, floor ${ms(r.floorMs)} ms, ratio ${r.ratio.toFixed(2)} (goal ≤ ${r.ratioGoal}: ${verdict(r.ratio <= r.ratioGoal)}); import ${ms(p.import)} ms (goal ≤ ${r.importGoalMs}: ${verdict((p.import ?? Infinity) <= r.importGoalMs)}); compile cache ${r.compileCache}; load average ${r.loadAverage.before.toFixed(1)} → ${r.loadAverage.after.toFixed(1)}`,
    `  main-thread CPU until the answer: function ${ms(r.mainCpuMs.function)} ms, floor ${ms(r.mainCpuMs.floor)} ms, ratio ${r.cpuRatio.toFixed(2)}`,
    `  function phases (median ms): ${Object.entries(p)
      .map(([k, v]) => `${k} ${ms(v)}`)
      .join(", ")}`,
    `  floor steps (median ms): ${Object.entries(r.floorPhases)
      .map(([k, v]) => `${k} ${ms(v)}`)
      .join(", ")}`,
  ];
}
