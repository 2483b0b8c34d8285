// edgepool benchmark: the raw ONNX Runtime limit, edgepool over HTTP, a naive server (one pipeline
// call per request, no batching, no worker), the mixed workload, memory, cold start and int8, side
// by side on the same inputs, and small requests' latency while one 2,048 × 512-token request runs
// (bench/lib/fairness.ts); prints every figure next to its goal, with the load average. The raw
// session and edgepool are measured in interleaved rounds (bench/lib/rounds.ts): each ratio is the
// median of the rounds' ratios. Writes bench/results/latest.json (and <model>.json). `--quick`
// runs a quarter of the inputs, one round.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { mappedWeightsGraph } from "../src/engine/node/mapped-weights.js";
import { defaultCacheDir } from "../src/models/index.js";
import { mixedWorkload, stsSentences } from "./lib/data.js";
import { FAIRNESS_GOAL, measureFairness } from "./lib/fairness.js";
import { type Goal, goal, goalsTable, info } from "./lib/goals.js";
import { crossEncoderSpearman, ensureQuantized, int8Cosines, sessionCreation } from "./lib/int8.js";
import { hasWrk, type LoadResult, runLoad, runWrk } from "./lib/load.js";
import { BENCH_DIR, ensureModel, modelBytes, ROOT } from "./lib/models.js";
import { metric, peakRss, serveArgs, spawnServer, timeProcess } from "./lib/procs.js";
import { loadTokenizer, rawSession } from "./lib/raw.js";
import { type Measured, measured, perRound, rounds, type Server } from "./lib/rounds.js";
import { median, medianOf } from "./lib/stats.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "minilm-l6" },
    runs: { type: "string" },
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
const runs = Number(values.runs ?? (values.quick ? 1 : 3));
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

/** Ready means a first embedding came back (the cold-start measure ends here). */
async function answersEmbeddings(base: string): Promise<boolean> {
  const res = await fetch(`${base}/v1/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: embedBody("warm up"),
  });
  return res.status === 200;
}

async function startEdgepool(model = modelDir, extra: string[] = []) {
  return spawnServer(
    process.execPath,
    [
      CLI,
      ...serveArgs(
        ++port,
        "--model",
        model,
        ...extra,
        "--served-model-name",
        "bench",
        ...serverArgs,
      ),
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

type Swept = Measured & { runs: number[] };

/**
 * Warm up, then the median of `runs` load runs at each concurrency (one sentence per request),
 * with the server's event-loop (main-thread) CPU time per request. For the references run by
 * themselves (the naive server, int8).
 */
async function sweep(
  name: string,
  server: Server,
  setFor: (c: number) => string[],
  levels: readonly number[] = [1, 16, 64],
) {
  const out: Record<number, Swept> = {};
  for (const c of levels) {
    const bodies = setFor(c).map((s) => embedBody(s));
    await runLoad(`${server.url}/v1/embeddings`, bodies.slice(0, 64), c);
    const r = await medianOf(
      runs,
      () => measured(server, (url) => load(url, bodies, c, c === 1 ? 5 : 10)),
      (x) => x.throughput,
    );
    out[c] = r;
    log(
      `  ${name} c=${c}: ${r.throughput.toFixed(1)} req/s, p50 ${r.p50.toFixed(2)} ms, event-loop CPU ${(r.cpuMsPerRequest * 1000).toFixed(0)} µs/request`,
    );
  }
  return out;
}

const summary = (r: LoadResult & { cpuMsPerRequest?: number }) => ({
  cpuMsPerRequest: r.cpuMsPerRequest ?? null,
  throughput: r.throughput,
  p50: r.p50,
  p90: r.p90,
  p99: r.p99,
  errors: r.errors,
  requests: r.requests,
});

const ms = (x: number) => `${x.toFixed(2)} ms`;

/** The run with the median throughput, with every run's throughput. */
function medianRun<T extends { throughput: number }>(xs: readonly T[]): T & { runs: number[] } {
  const sorted = [...xs].sort((a, b) => a.throughput - b.throughput);
  return { ...sorted[Math.floor(sorted.length / 2)]!, runs: xs.map((x) => x.throughput) };
}

/**
 * The STS sentences in interleaved rounds: the raw session (its best batch and its single-sentence
 * latency), edgepool at c=1, 16 and 64, and edgepool with --inline-session off at c=1.
 */
async function stsRounds(server: Server, offServer: Server) {
  const bodies = loadSet.map((s) => embedBody(s));
  const singles = singleSet.map((s) => embedBody(s));
  for (const s of [server, offServer])
    await runLoad(`${s.url}/v1/embeddings`, bodies.slice(0, 200), 16);
  const at = (srv: Server, set: string[], c: number, seconds: number) => () =>
    measured(srv, (url) => load(url, set, c, seconds));
  return rounds(
    runs,
    {
      raw: () => rawSession(modelDir, loadSet, singleSet),
      c1: at(server, singles, 1, 5),
      c16: at(server, bodies, 16, 10),
      c64: at(server, bodies, 64, 10),
      inlineOffC1: at(offServer, singles, 1, 5),
    },
    (i, r) =>
      log(
        `  round ${i + 1}: raw ${r.raw.throughput.toFixed(1)} seq/s (batch ${r.raw.bestBatchSize}), single ${ms(r.raw.singleMedianMs)}; c=1 p50 ${ms(r.c1.p50)} (--inline-session off ${ms(r.inlineOffC1.p50)}); c=16 ${r.c16.throughput.toFixed(1)}, c=64 ${r.c64.throughput.toFixed(1)} req/s, event-loop CPU ${(r.c64.cpuMsPerRequest * 1000).toFixed(0)} µs/request`,
      ),
  );
}

/** The mixed workload in interleaved rounds: the raw session (every count, token budgets) and edgepool at c=64. */
async function mixedRounds(server: Server) {
  const bodies = mixed.map((s) => truncatedBody(s));
  return rounds(
    runs,
    {
      raw: () => rawSession(modelDir, mixed, [], { budgets: [2048, 4096, 8192, 16384] }),
      edge: async () => {
        const real0 = await metric(server.url, "edgepool_batch_real_tokens_total");
        const pad0 = await metric(server.url, "edgepool_batch_padded_tokens_total");
        const r = await measured(server, (url) => load(url, bodies, 64, 15));
        const real = (await metric(server.url, "edgepool_batch_real_tokens_total")) - real0;
        const padded = (await metric(server.url, "edgepool_batch_padded_tokens_total")) - pad0;
        return { ...r, real, padded };
      },
    },
    (i, r) =>
      log(
        `  round ${i + 1}: raw best count batch ${r.raw.throughput.toFixed(1)} seq/s; edgepool ${r.edge.throughput.toFixed(1)} req/s, real/computed ${(r.edge.real / r.edge.padded).toFixed(3)}`,
      ),
  );
}

async function main() {
  const loadBefore = loadavg();
  log(
    `model ${shape} (${(modelBytes(modelDir) / 1e6).toFixed(1)} MB), ${loadSet.length} STS sentences, ${runs} runs, ${cpus().length} cores, load from ${client}, load average ${loadBefore.map((l) => l.toFixed(1)).join(" ")}`,
  );

  log(
    `raw onnxruntime-node session and edgepool over HTTP (${serverArgs.join(" ") || "default flags"}), interleaved rounds`,
  );
  const server = await startEdgepool();
  const offServer = await startEdgepool(modelDir, ["--inline-session", "off"]);
  const sts = await stsRounds(server, offServer);
  await offServer.stop();
  log("mixed workload (1 in 11 a 200–500-token paragraph) at c=64 against the raw session");
  // Peak RSS on the mixed workload, the goal's measure, from a server that served only it (after
  // 20 lone requests, which bring its session for lone batches up: the load must release it); the
  // STS server's peak after both workloads is also shown:
  // ONNX Runtime's arena keeps the regions each workload's shapes made it grow.
  const mixServer = await startEdgepool();
  await runLoad(
    `${mixServer.url}/v1/embeddings`,
    singleSet.slice(0, 20).map((t) => embedBody(t)),
    1,
  );
  const mix = await mixedRounds(mixServer);
  const serverPeakRss = peakRss(mixServer.proc.pid!);
  await mixServer.stop();
  await load(
    `${server.url}/v1/embeddings`,
    mixed.map((t) => truncatedBody(t)),
    64,
    15,
  );
  const bothPeakRss = peakRss(server.proc.pid!);
  await server.stop();
  const figures = {
    c64VsRaw: perRound(sts, (r) => r.c64.throughput / r.raw.throughput),
    c1MinusRawSingle: perRound(sts, (r) => r.c1.p50 - r.raw.singleMedianMs),
    inlineOffVsDefaultC1: perRound(sts, (r) => r.inlineOffC1.p50 / r.c1.p50),
    cpuC64: perRound(sts, (r) => r.c64.cpuMsPerRequest),
    mixedVsRaw: perRound(mix, (r) => r.edge.throughput / r.raw.throughput),
    realOverComputed: perRound(mix, (r) => r.edge.real / r.edge.padded),
  };
  const raw = medianRun(sts.map((r) => r.raw));
  const edge: Record<number, Swept> = {
    1: medianRun(sts.map((r) => r.c1)),
    16: medianRun(sts.map((r) => r.c16)),
    64: medianRun(sts.map((r) => r.c64)),
  };
  const inlineOff = medianRun(sts.map((r) => r.inlineOffC1));
  const mixedRun = medianRun(mix.map((r) => r.edge));
  const rawMixed = medianRun(mix.map((r) => r.raw));

  log("naive server (transformers.js pipeline per request, no batching, no worker)");
  const ns = await startNaive();
  const naive = await sweep(
    "naive",
    ns,
    (c) => (c === 1 ? singleSet.slice(0, Math.floor(100 * scale)) : naiveSet),
    [1, 64],
  );
  await ns.stop();

  log("int8: edgepool quantize, raw int8 session, edgepool --dtype q8, accuracy");
  const q8Dir = ensureQuantized(modelDir);
  const rawQ8 = await medianOf(
    runs,
    () => rawSession(q8Dir, loadSet, singleSet, { onnxFile: "onnx/model_quantized.onnx" }),
    (r) => r.throughput,
  );
  const q8Server = await startEdgepool(q8Dir, ["--dtype", "q8"]);
  const edgeQ8 = await sweep(
    "edgepool q8",
    q8Server,
    (c) => (c === 1 ? singleSet : loadSet),
    [1, 64],
  );
  // The serving ratio from interleaved rounds, both servers up and c=64 loads alternating: runs
  // minutes apart drift by up to ±20 % on a small VM, which the figures above include.
  const fp32Server = await startEdgepool();
  const q8Bodies = loadSet.map((s) => embedBody(s));
  const q8Rounds: number[] = [];
  for (let i = 0; i < Math.max(runs, 3); i++) {
    const rate = async (srv: { url: string }) =>
      (await load(`${srv.url}/v1/embeddings`, q8Bodies, 64, 6)).throughput;
    let fp32: number;
    let q8: number;
    if (i % 2 === 0) {
      fp32 = await rate(fp32Server);
      q8 = await rate(q8Server);
    } else {
      q8 = await rate(q8Server);
      fp32 = await rate(fp32Server);
    }
    q8Rounds.push(q8 / fp32);
  }
  await fp32Server.stop();
  await q8Server.stop();
  log(`  q8 / fp32 at c=64, interleaved: ${q8Rounds.map((r) => r.toFixed(2)).join(", ")}`);
  const cosine = await int8Cosines(q8Dir, values.quick ? loadSet : sentences);
  const spearmanCross = await crossEncoderSpearman(
    join(ROOT, "test", "fixtures", "models", "bert-cross-encoder"),
  );

  log("cold start: serve, the library on the calling thread (a function's path), the bare floor");
  // The copy whose weights ONNX Runtime maps, as the servers above wrote it at their first load.
  const mappedGraph = (
    await mappedWeightsGraph(join(modelDir, "onnx", "model.onnx"), defaultCacheDir(), log)
  ).path;
  // One process start varies by ±20 % on a small VM (page faults on fresh memory dominate): rounds
  // of the four, in rotating order, and each ratio is the median of the rounds' ratios.
  const colds: number[] = [];
  const libs: number[] = [];
  const floors: number[] = [];
  const mappedFloors: number[] = [];
  const coldRounds = Math.max(3 * runs, 7);
  const timeServe = async () => {
    const s = await startEdgepool();
    await s.stop();
    return s.startMs;
  };
  const timeScript = async (script: string, ...args: string[]) =>
    (await timeProcess(process.execPath, [join(BENCH_DIR, script), modelDir, ...args])).ms;
  for (let i = 0; i < coldRounds; i++) {
    const steps = [
      async () => colds.push(await timeServe()),
      async () => libs.push(await timeScript("cold-library.mjs")),
      async () => floors.push(await timeScript("floor.mjs")),
      async () => mappedFloors.push(await timeScript("floor.mjs", mappedGraph)),
    ];
    for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]!();
  }
  const coldRatio = (xs: number[], ref = floors) => median(xs.map((x, i) => x / ref[i]!));
  const creation = await sessionCreation(modelDir, Math.max(runs, 3), mappedGraph);
  const baselineKb = Number(
    execFileSync(process.execPath, [
      "--input-type=module",
      "-e",
      `await import(${JSON.stringify(join(ROOT, "dist", "index.js"))}); const s = (await import("node:fs")).readFileSync("/proc/self/status", "utf8"); console.log(/VmHWM:\\s+(\\d+)/.exec(s)[1]);`,
    ]).toString(),
  );

  // The MiniLM-L6 shape only: the scenario's 512-token inputs need its graph's 512 positions.
  const largeInputs = values.quick ? 256 : 2048;
  log(`fairness: small requests while one request of ${largeInputs} × 512 tokens runs, and idle`);
  const fairness =
    shape === "minilm-l6"
      ? await measureFairness({
          bin: CLI,
          inputs: largeInputs,
          tokens: 512,
          clients: 4,
          idleSeconds: values.quick ? 5 : 10,
          loadedSeconds: values.quick ? 30 : 60,
          flags: serverArgs,
          alone: false,
          port: ++port,
        })
      : null;

  const e64 = edge[64]!;
  const memoryRef = baselineKb * 1024 + modelBytes(modelDir);
  const ratios = {
    p50C1MinusRawSingleMs: figures.c1MinusRawSingle,
    p50C1VsNaiveC1: edge[1]!.p50 / naive[1]!.p50,
    c64VsRaw: figures.c64VsRaw,
    eventLoopCpuMsPerRequestC64: figures.cpuC64,
    inlineSessionOffP50C1VsDefault: figures.inlineOffVsDefaultC1,
    c64VsNaiveC64: e64.throughput / naive[64]!.throughput,
    mixedVsRawBestCount: figures.mixedVsRaw,
    realOverComputedMixed: figures.realOverComputed,
    peakRssVsBaselinePlusModel: serverPeakRss / memoryRef,
    peakRssAfterBothWorkloadsVsReference: bothPeakRss / memoryRef,
    coldStartVsFloor: coldRatio(colds),
    coldStartLibraryVsFloor: coldRatio(libs),
    coldStartVsMappedFloor: coldRatio(colds, mappedFloors),
    preOptimizedVsSourceSessionCreation: creation.preOptimizedMs / creation.sourceMs,
    mappedVsSourceSessionCreation: creation.mappedMs / creation.sourceMs,
    rawInt8VsRawFp32: rawQ8.throughput / raw.throughput,
    q8C64VsFp32C64: median(q8Rounds),
    q8C64VsFp32C64SeparateRuns: edgeQ8[64]!.throughput / e64.throughput,
    int8CosineMin: cosine.min,
    int8CosineMean: cosine.mean,
    crossEncoderSpearmanInt8: spearmanCross,
    smallP99UnderLargeVsIdle: fairness?.ratio ?? Number.NaN,
  };
  const loadAfter = loadavg();
  const results = {
    date: new Date().toISOString(),
    model: shape,
    modelBytes: modelBytes(modelDir),
    cores: cpus().length,
    loadAverage: { before: loadBefore, after: loadAfter },
    node: process.version,
    serverArgs,
    client,
    inputs: { sentences: loadSet.length, mixed: mixed.length, runs },
    raw,
    rawMixed,
    rawInt8: rawQ8,
    edgepool: Object.fromEntries(
      Object.entries(edge).map(([c, r]) => [c, { ...summary(r), runs: r.runs }]),
    ),
    edgepoolInlineSessionOff: { 1: { ...summary(inlineOff), runs: inlineOff.runs } },
    edgepoolQ8: Object.fromEntries(
      Object.entries(edgeQ8).map(([c, r]) => [c, { ...summary(r), runs: r.runs }]),
    ),
    naive: Object.fromEntries(
      Object.entries(naive).map(([c, r]) => [c, { ...summary(r), runs: r.runs }]),
    ),
    mixed: {
      ...summary(mixedRun),
      realTokens: mixedRun.real,
      paddedTokens: mixedRun.padded,
      runs: mixedRun.runs,
    },
    coldStart: {
      edgepoolMs: median(colds),
      libraryMs: median(libs),
      floorMs: median(floors),
      runs: colds,
      libraryRuns: libs,
      floorRuns: floors,
      mappedFloorRuns: mappedFloors,
      sessionCreation: creation,
    },
    memory: {
      serverPeakRssBytes: serverPeakRss,
      afterBothWorkloadsPeakRssBytes: bothPeakRss,
      baselineRssBytes: baselineKb * 1024,
    },
    int8: { cosine },
    fairness,
    ratios,
  };
  const goals: Goal[] = [
    goal("p50 c=1 − raw single run (ms)", ratios.p50C1MinusRawSingleMs, "≤", 0.5),
    goal("c=64 / raw best batch", ratios.c64VsRaw, "≥", 1),
    goal("mixed c=64 / raw best count batch (mixed)", ratios.mixedVsRawBestCount, "≥", 1),
    goal(
      "peak RSS, mixed workload / (Node baseline + model bytes)",
      ratios.peakRssVsBaselinePlusModel,
      "≤",
      2.5,
    ),
    goal("event-loop CPU per request, c=64 (ms)", ratios.eventLoopCpuMsPerRequestC64, "≤", 0.25),
    goal(
      `small p99 during one ${largeInputs} × 512 request / idle`,
      ratios.smallP99UnderLargeVsIdle,
      "≤",
      FAIRNESS_GOAL,
    ),
    goal("p50 c=1 / naive server p50 c=1", ratios.p50C1VsNaiveC1, "≤", 1),
    goal("real / computed tokens (mixed, c=64)", ratios.realOverComputedMixed, "≥", 0.9),
    goal("cold start serve / bare-script floor", ratios.coldStartVsFloor, "≤", 1.2),
    goal("cold start library (functions) / floor", ratios.coldStartLibraryVsFloor, "≤", 1.2),
    goal("raw int8 / raw fp32 best batch", ratios.rawInt8VsRawFp32, "≥", 1.8),
    goal("edgepool q8 c=64 / fp32 c=64 (interleaved rounds)", ratios.q8C64VsFp32C64, "≥", 1.5),
    goal("int8 cosine to fp32, min over sentences", ratios.int8CosineMin, "≥", 0.99),
    goal("cross-encoder Spearman int8 vs fp32", ratios.crossEncoderSpearmanInt8, "≥", 0.99),
    info("c=64 / naive server c=64", ratios.c64VsNaiveC64),
    info(
      "peak RSS, STS then mixed on one server / reference",
      ratios.peakRssAfterBothWorkloadsVsReference,
    ),
    info("p50 c=1 with --inline-session off / default", ratios.inlineSessionOffP50C1VsDefault),
    info("q8 c=64 / fp32 c=64, runs minutes apart", ratios.q8C64VsFp32C64SeparateRuns),
    info("session creation pre-optimised / source", ratios.preOptimizedVsSourceSessionCreation),
    info("session creation mapped weights / source", ratios.mappedVsSourceSessionCreation),
    info("cold start serve / floor on the mapped copy", ratios.coldStartVsMappedFloor),
  ];
  const avg = (l: number[]) => l.map((x) => x.toFixed(1)).join(" ");
  const lines = [
    `edgepool benchmark — ${shape}, ${results.cores} cores (load average ${avg(loadBefore)} before, ${avg(loadAfter)} after), ${process.version}, ${runs} interleaved rounds, load from ${client}, ${results.date}`,
    "",
    `raw session              ${raw.throughput.toFixed(1)} seq/s (best batch ${raw.bestBatchSize}); single ${ms(raw.singleMedianMs)}`,
    ...[1, 16, 64].map(
      (c) =>
        `edgepool HTTP c=${String(c).padEnd(3)}     ${edge[c]!.throughput.toFixed(1)} req/s  p50 ${ms(edge[c]!.p50)}  p99 ${ms(edge[c]!.p99)}  event-loop CPU ${(edge[c]!.cpuMsPerRequest * 1000).toFixed(0)} µs/req`,
    ),
    `--inline-session off c=1 p50 ${ms(inlineOff.p50)} (a lone request through the worker thread)`,
    ...[1, 64].map(
      (c) =>
        `naive server c=${String(c).padEnd(3)}       ${naive[c]!.throughput.toFixed(1)} req/s  p50 ${ms(naive[c]!.p50)}`,
    ),
    `mixed c=64               ${mixedRun.throughput.toFixed(1)} req/s, real/computed ${(mixedRun.real / mixedRun.padded).toFixed(3)}; raw by count ${Object.entries(
      rawMixed.byBatchSize,
    )
      .map(([k, v]) => `${k}:${v.toFixed(0)}`)
      .join(" ")}; raw by token budget ${Object.entries(rawMixed.byTokenBudget)
      .map(([k, v]) => `${k}:${v.toFixed(0)}`)
      .join(" ")} seq/s`,
    `peak RSS                 ${(serverPeakRss / 2 ** 20).toFixed(0)} MiB on the mixed workload (baseline ${(baselineKb / 1024).toFixed(0)} MiB + model ${(modelBytes(modelDir) / 2 ** 20).toFixed(0)} MiB); ${(bothPeakRss / 2 ** 20).toFixed(0)} MiB after the STS runs and then the mixed workload on one server`,
    `cold start (${coldRounds} rounds) serve ${median(colds).toFixed(0)} ms, library ${median(libs).toFixed(0)} ms, floor ${median(floors).toFixed(0)} ms (${median(mappedFloors).toFixed(0)} ms on the mapped copy); session creation ${creation.sourceMs.toFixed(0)} ms (source) / ${creation.preOptimizedMs.toFixed(0)} ms (pre-optimised) / ${creation.mappedMs.toFixed(0)} ms (mapped weights)`,
    fairness
      ? `one large request        ${largeInputs} × 512 tokens ${fairness.finished ? "in" : "abandoned after"} ${fairness.largeSeconds.toFixed(1)} s (${Math.round(fairness.largeTokensPerSecond)} tokens/s beside 4 clients of small requests); small p50/p99 ${fairness.loaded.p50.toFixed(1)}/${fairness.loaded.p99.toFixed(1)} ms meanwhile, ${fairness.idle.p50.toFixed(1)}/${fairness.idle.p99.toFixed(1)} ms idle`
      : "one large request        (the MiniLM-L6 shape only)",
    `int8                     raw ${rawQ8.throughput.toFixed(1)} seq/s, single ${ms(rawQ8.singleMedianMs)}; edgepool q8 c=64 ${edgeQ8[64]!.throughput.toFixed(1)} req/s, c=1 p50 ${ms(edgeQ8[1]!.p50)}; cosine min ${cosine.min.toFixed(6)} mean ${cosine.mean.toFixed(6)} (${cosine.count} sentences)`,
    "",
    ...goalsTable(goals),
    "",
    "(cold start of the functions: npm run bench:functions, run next by npm run bench)",
  ];
  console.log(lines.join("\n"));
  mkdirSync(join(BENCH_DIR, "results"), { recursive: true });
  const report = `${JSON.stringify({ ...results, table: lines }, null, 2)}\n`;
  writeFileSync(join(BENCH_DIR, "results", "latest.json"), report);
  writeFileSync(join(BENCH_DIR, "results", `${shape}.json`), report);
}

await main();
