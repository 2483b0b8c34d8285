// edgepool benchmark: raw ONNX Runtime limit, edgepool over HTTP, a naive transformers.js server,
// transformers.js on the whole array, cold start, peak RSS and padding efficiency, side by side on
// the same inputs. Writes bench/results/latest.json (and <model>.json).
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { env, pipeline } from "@huggingface/transformers";
import { mixedWorkload, stsSentences } from "./lib/data.js";
import { hasWrk, type LoadResult, runLoad, runWrk } from "./lib/load.js";
import { BENCH_DIR, ensureModel, modelBytes, ROOT } from "./lib/models.js";
import { peakRss, spawnServer, timeProcess } from "./lib/procs.js";
import { loadTokenizer, rawSession } from "./lib/raw.js";
import { median, medianOf } from "./lib/stats.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "minilm-l6" },
    runs: { type: "string", default: "3" },
    quick: { type: "boolean", default: false },
    "server-args": { type: "string", default: "" },
    client: { type: "string", default: hasWrk() ? "wrk" : "node" },
  },
});
const client = values.client === "wrk" ? "wrk" : "node";

/** One closed-loop load run: wrk for a fixed time (when installed), else the Node client over every body once. */
async function load(
  url: string,
  bodies: string[],
  concurrency: number,
  seconds: number,
): Promise<LoadResult> {
  if (client === "wrk")
    return runWrk(
      url,
      bodies,
      concurrency,
      values.quick ? Math.max(2, Math.round(seconds / 3)) : seconds,
    );
  return runLoad(url, bodies, concurrency);
}
const shape = values.model as "minilm-l6" | "bert-base";
const runs = Number(values.runs);
const serverArgs = values["server-args"]!.split(" ").filter(Boolean);
const modelDir = ensureModel(shape);
const CLI = join(ROOT, "dist", "cli", "main.js");
const embedBody = (input: string | string[]) => JSON.stringify({ input, model: "bench" });
/** Long inputs are cut to the model's maximum, as the raw session's are. */
const truncatedBody = (input: string) =>
  JSON.stringify({ input, model: "bench", truncate_prompt_tokens: -1 });

const sentences = stsSentences();
const scale = values.quick ? 0.25 : 1;
const loadSet = sentences.slice(0, Math.floor(sentences.length * scale));
const naiveSet = sentences.slice(0, Math.floor(600 * scale));
const singleSet = sentences.slice(0, Math.floor(300 * scale));
const tok = loadTokenizer(modelDir);
const mixed = mixedWorkload(
  (t) => tok.encode(t).ids.length,
  Math.floor(1000 * scale),
  Math.floor(100 * scale),
);
const log = (msg: string) => console.error(`[bench] ${msg}`);
let port = 18700;

async function metric(base: string, name: string): Promise<number> {
  // A fresh connection each time: a pooled keep-alive socket may be closing after wrk's run.
  for (let attempt = 0; ; attempt++) {
    try {
      const text = await (await fetch(`${base}/metrics`, { keepalive: false })).text();
      const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
      return m ? Number(m[1]) : Number.NaN;
    } catch (err) {
      if (attempt >= 2) throw err;
    }
  }
}

/** Ready means a first embedding came back (the cold-start measure ends here). */
async function answersEmbeddings(base: string): Promise<boolean> {
  const res = await fetch(`${base}/v1/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: embedBody("warm up"),
  });
  return res.status === 200;
}

async function startEdgepool() {
  return spawnServer(
    process.execPath,
    [
      CLI,
      "serve",
      "--model",
      modelDir,
      "--served-model-name",
      "bench",
      "--host",
      "127.0.0.1",
      "--port",
      String(++port),
      "--log-level",
      "warn",
      ...serverArgs,
    ],
    port,
    answersEmbeddings,
  );
}

async function startNaive() {
  return spawnServer(
    process.execPath,
    ["--import", "tsx", join(BENCH_DIR, "naive-server.ts"), modelDir, String(++port)],
    port,
    answersEmbeddings,
  );
}

/** Warm up, then the median of `runs` load runs at concurrency 1, 16 and 64 (one sentence per request). */
async function sweep(name: string, base: string, setFor: (c: number) => string[]) {
  const out: Record<number, LoadResult & { runs: number[] }> = {};
  for (const c of [1, 16, 64]) {
    const bodies = setFor(c).map((s) => embedBody(s));
    await runLoad(`${base}/v1/embeddings`, bodies.slice(0, 64), c);
    out[c] = await medianOf(
      runs,
      () => load(`${base}/v1/embeddings`, bodies, c, c === 1 ? 5 : 10),
      (r) => r.throughput,
    );
    log(
      `  ${name} c=${c}: ${out[c]!.throughput.toFixed(1)} req/s, p50 ${out[c]!.p50.toFixed(2)} ms`,
    );
  }
  return out;
}

const summary = (r: LoadResult) => ({
  throughput: r.throughput,
  p50: r.p50,
  p90: r.p90,
  p99: r.p99,
  errors: r.errors,
  requests: r.requests,
});

async function main() {
  log(
    `model ${shape} (${(modelBytes(modelDir) / 1e6).toFixed(1)} MB), ${loadSet.length} STS sentences, ${runs} runs, ${cpus().length} cores`,
  );

  log("raw onnxruntime-node session");
  const raw = await medianOf(
    runs,
    () => rawSession(modelDir, loadSet, singleSet),
    (r) => r.throughput,
  );

  log("edgepool over HTTP");
  const edge: Record<number, LoadResult & { runs: number[] }> = {};
  const server = await startEdgepool();
  Object.assign(edge, await sweep("edgepool", server.url, (c) => (c === 1 ? singleSet : loadSet)));
  log("mixed workload (sentences + 200–500-token paragraphs) at c=64");
  const real0 = await metric(server.url, "edgepool_batch_real_tokens_total");
  const pad0 = await metric(server.url, "edgepool_batch_padded_tokens_total");
  const mixedRun = await load(
    `${server.url}/v1/embeddings`,
    mixed.map((s) => truncatedBody(s)),
    64,
    15,
  );
  const real = (await metric(server.url, "edgepool_batch_real_tokens_total")) - real0;
  const padded = (await metric(server.url, "edgepool_batch_padded_tokens_total")) - pad0;
  const serverPeakRss = peakRss(server.proc.pid!);
  await server.stop();
  const rawMixed = await rawSession(modelDir, mixed, []).catch(() => null);

  log("naive transformers.js server");
  const naive: Record<number, LoadResult & { runs: number[] }> = {};
  const ns = await startNaive();
  Object.assign(
    naive,
    await sweep("naive", ns.url, (c) =>
      c === 1 ? singleSet.slice(0, Math.floor(100 * scale)) : naiveSet,
    ),
  );
  await ns.stop();

  log("transformers.js pipeline on the whole array");
  env.allowRemoteModels = false;
  env.localModelPath = `${dirname(modelDir)}/`;
  const extractor = await pipeline("feature-extraction", basename(modelDir), {
    dtype: "fp32",
    local_files_only: true,
  });
  await extractor(loadSet.slice(0, 8), { pooling: "mean", normalize: true });
  const whole = await medianOf(
    runs,
    async () => {
      const t = performance.now();
      await extractor(loadSet, { pooling: "mean", normalize: true });
      return { throughput: loadSet.length / ((performance.now() - t) / 1000) };
    },
    (r) => r.throughput,
  );
  await extractor.dispose();

  log("cold start");
  const colds: number[] = [];
  const floors: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = await startEdgepool();
    colds.push(s.startMs);
    await s.stop();
    floors.push((await timeProcess(process.execPath, [join(BENCH_DIR, "floor.mjs"), modelDir])).ms);
  }
  const baselineKb = Number(
    execFileSync(process.execPath, [
      "--input-type=module",
      "-e",
      `await import(${JSON.stringify(join(ROOT, "dist", "index.js"))}); const s = (await import("node:fs")).readFileSync("/proc/self/status", "utf8"); console.log(/VmHWM:\\s+(\\d+)/.exec(s)[1]);`,
    ]).toString(),
  );

  const e64 = edge[64]!;
  const results = {
    date: new Date().toISOString(),
    model: shape,
    modelBytes: modelBytes(modelDir),
    cores: cpus().length,
    node: process.version,
    serverArgs,
    client,
    inputs: { sentences: loadSet.length, mixed: mixed.length, runs },
    raw: {
      throughput: raw.throughput,
      bestBatchSize: raw.bestBatchSize,
      byBatchSize: raw.byBatchSize,
      singleMedianMs: raw.singleMedianMs,
      runs: raw.runs,
    },
    edgepool: Object.fromEntries(
      Object.entries(edge).map(([c, r]) => [c, { ...summary(r), runs: r.runs }]),
    ),
    naiveTransformersJs: Object.fromEntries(
      Object.entries(naive).map(([c, r]) => [c, { ...summary(r), runs: r.runs }]),
    ),
    transformersJsWholeArray: whole,
    mixed: {
      ...summary(mixedRun),
      realTokens: real,
      paddedTokens: padded,
      realOverComputed: real / padded,
      rawTokensPerSecond: rawMixed?.tokensPerSecond ?? null,
    },
    coldStart: {
      edgepoolMs: median(colds),
      floorMs: median(floors),
      runs: colds,
      floorRuns: floors,
    },
    memory: { serverPeakRssBytes: serverPeakRss, baselineRssBytes: baselineKb * 1024 },
    ratios: {
      c64VsRaw: e64.throughput / raw.throughput,
      c64VsNaiveC64: e64.throughput / naive[64]!.throughput,
      c64VsWholeArray: e64.throughput / whole.throughput,
      p50C1VsRawSingle: edge[1]!.p50 / (1.15 * raw.singleMedianMs + 1),
      coldStartVsFloor: median(colds) / median(floors),
      peakRssVsBaselinePlusModel: serverPeakRss / (baselineKb * 1024 + modelBytes(modelDir)),
      realOverComputedMixed: real / padded,
    },
  };
  const targets: Array<[string, number, string, number]> = [
    ["HTTP c=64 / raw session limit", results.ratios.c64VsRaw, "≥", 0.9],
    ["HTTP c=64 / naive transformers.js server c=64", results.ratios.c64VsNaiveC64, "≥", 4],
    ["HTTP c=64 / transformers.js whole array", results.ratios.c64VsWholeArray, "≥", 1.3],
    ["p50 c=1 / (1.15 × raw single + 1 ms)", results.ratios.p50C1VsRawSingle, "≤", 1],
    ["cold start / bare-script floor", results.ratios.coldStartVsFloor, "≤", 1.3],
    ["peak RSS / (baseline + model bytes)", results.ratios.peakRssVsBaselinePlusModel, "≤", 1.5],
    ["real / computed tokens (mixed, c=64)", results.ratios.realOverComputedMixed, "≥", 0.9],
  ];
  const lines = [
    `edgepool benchmark — ${shape}, ${results.cores} cores, ${process.version}, medians of ${runs} runs, load from ${client}`,
    "",
    `raw session limit        ${raw.throughput.toFixed(1)} seq/s (batch ${raw.bestBatchSize}); single ${raw.singleMedianMs.toFixed(2)} ms`,
    ...[1, 16, 64].map(
      (c) =>
        `edgepool HTTP c=${String(c).padEnd(3)}     ${edge[c]!.throughput.toFixed(1)} req/s  p50 ${edge[c]!.p50.toFixed(2)} ms  p99 ${edge[c]!.p99.toFixed(2)} ms`,
    ),
    ...[1, 16, 64].map(
      (c) =>
        `naive transformers.js c=${String(c).padEnd(3)} ${naive[c]!.throughput.toFixed(1)} req/s  p50 ${naive[c]!.p50.toFixed(2)} ms`,
    ),
    `transformers.js whole    ${whole.throughput.toFixed(1)} seq/s`,
    `mixed c=64               ${mixedRun.throughput.toFixed(1)} req/s, real/computed ${(real / padded).toFixed(3)}`,
    `cold start               ${median(colds).toFixed(0)} ms (floor ${median(floors).toFixed(0)} ms)`,
    `peak RSS                 ${(serverPeakRss / 2 ** 20).toFixed(0)} MiB (baseline ${(baselineKb / 1024).toFixed(0)} MiB + model ${(modelBytes(modelDir) / 2 ** 20).toFixed(0)} MiB)`,
    "",
    "target                                             measured   goal    ",
    ...targets.map(
      ([name, v, op, goal]) =>
        `${name.padEnd(50)} ${v.toFixed(3).padStart(8)}   ${op} ${goal}  ${(op === "≥" ? v >= goal : v <= goal) ? "met" : "MISSED"}`,
    ),
  ];
  console.log(lines.join("\n"));
  mkdirSync(join(BENCH_DIR, "results"), { recursive: true });
  const report = `${JSON.stringify({ ...results, table: lines }, null, 2)}\n`;
  writeFileSync(join(BENCH_DIR, "results", "latest.json"), report);
  writeFileSync(join(BENCH_DIR, "results", `${shape}.json`), report);
}

await main();
