// Functions benchmark: a packaged function's cold start (new process → first answer, model already
// in the /tmp cache) against the bare-script floor on a ~4 MB and a ~90 MB model, with its phases
// and each figure next to its goal (bench/lib/function-cold-start.ts); warm single-request latency
// through the Lambda handler (in-process invoke), spinning on and off, against the raw single run;
// bundle and package sizes. Interleaved A/B in one process. Writes bench/results/functions.json.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { OUT_DIR } from "../scripts/build-functions.js";
import { FAMILY_NAMES } from "../src/api/index.js";
import type { BufferedHandler } from "../src/lambda/index.js";
import { zipEntries } from "../test/helpers/zip.js";
import { stsSentences } from "./lib/data.js";
import { type ColdStartResult, coldStart, coldStartReport } from "./lib/function-cold-start.js";
import { BENCH_DIR, CACHE, ensureModel, ROOT } from "./lib/models.js";
import { timeProcess } from "./lib/procs.js";
import { loadTokenizer } from "./lib/raw.js";
import { median, percentile } from "./lib/stats.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "9" },
    // Cold start on each: ~4 MB (start-up dominates) and ~90 MB (the weights dominate).
    models: { type: "string", default: "tiny-4mb,minilm-l6" },
    "skip-warm": { type: "boolean", default: false },
    requests: { type: "string", default: "300" },
    // Pin with `edgepool pin --mapped-weights` (weights in a data file that ONNX Runtime maps).
    "mapped-weights": { type: "boolean", default: false },
    "skip-package": { type: "boolean", default: false },
  },
});
const runs = Number(values.runs);
const log = (msg: string) => console.error(`[bench:functions] ${msg}`);
const bundle = join(OUT_DIR, "embeddings", "index.js");
const threads = availableParallelism();

async function importHandler(spinning: "on" | "off", uri: string, cacheDir: string) {
  Object.assign(process.env, {
    AWS_LAMBDA_FUNCTION_NAME: "edgepool-embeddings",
    EDGEPOOL_MODEL_URI: uri,
    EDGEPOOL_CACHE_DIR: cacheDir,
    EDGEPOOL_SPINNING: spinning,
    EDGEPOOL_LOG_LEVEL: "warn",
  });
  // A query string gives a separate module instance: a second function instance in this process.
  // The function module itself: the compile cache is the cold start's business, not this one's.
  const url = `${pathToFileURL(join(dirname(bundle), "function.js")).href}?spinning=${spinning}`;
  return ((await import(url)) as { handler: BufferedHandler }).handler;
}

async function warmLatency(modelDir: string, uri: string, cacheDir: string) {
  const texts = stsSentences().slice(0, Number(values.requests));
  const tok = loadTokenizer(modelDir);
  const raw: Record<string, ort.InferenceSession> = {};
  // Spinning raw sessions stop spinning when a run returns, as the function's own do: threads of
  // one variant still spinning after its run would take the cores from the next (the handler's
  // overhead measured 1.29–1.37 ms p50 that way, 0.45 ms with both stopping).
  for (const spin of ["on", "off"]) {
    raw[spin] = await ort.InferenceSession.create(join(modelDir, "onnx", "model.onnx"), {
      intraOpNumThreads: threads,
      graphOptimizationLevel: "all",
      ...(spin === "off"
        ? {
            extra: {
              session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } },
            },
          }
        : { extra: { session: { force_spinning_stop: "1" } } }),
    });
  }
  const handlers = {
    on: await importHandler("on", uri, cacheDir),
    off: await importHandler("off", uri, cacheDir),
  };
  const rawRun = async (session: ort.InferenceSession, text: string) => {
    const t = performance.now();
    const ids = tok.encode(text, { maxTokens: 256 }).ids;
    const n = ids.length;
    await session.run({
      input_ids: new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), [1, n]),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(n).fill(1n), [1, n]),
      token_type_ids: new ort.Tensor("int64", new BigInt64Array(n), [1, n]),
    });
    return performance.now() - t;
  };
  const handlerRun = async (handler: BufferedHandler, text: string) => {
    const body = JSON.stringify({ input: text });
    const path = "/v1/embeddings";
    const event = {
      version: "2.0",
      routeKey: `POST ${path}`,
      rawPath: path,
      rawQueryString: "",
      headers: { "content-type": "application/json" },
      body,
      isBase64Encoded: false,
      requestContext: {
        http: { method: "POST", path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1" },
      },
    };
    const t = performance.now();
    const res = await handler(event as never);
    const ms = performance.now() - t;
    if (res.statusCode !== 200) throw new Error(res.body);
    return ms;
  };
  const times: Record<string, number[]> = { rawOn: [], rawOff: [], fnOn: [], fnOff: [] };
  for (const text of texts.slice(0, 20)) {
    await rawRun(raw.on!, text);
    await rawRun(raw.off!, text);
    await handlerRun(handlers.on, text);
    await handlerRun(handlers.off, text);
  }
  // Interleaved, rotating the order, so drift on a shared machine hits every variant alike.
  const variants: Array<[string, (t: string) => Promise<number>]> = [
    ["rawOn", (t) => rawRun(raw.on!, t)],
    ["rawOff", (t) => rawRun(raw.off!, t)],
    ["fnOn", (t) => handlerRun(handlers.on, t)],
    ["fnOff", (t) => handlerRun(handlers.off, t)],
  ];
  for (const [i, text] of texts.entries()) {
    for (let k = 0; k < variants.length; k++) {
      const [name, fn] = variants[(i + k) % variants.length]!;
      times[name]!.push(await fn(text));
    }
  }
  // On a loaded machine p50 inflates every extra step; p10 and min approach the uncontended cost.
  const stat = (xs: number[]) => ({
    min: Math.min(...xs),
    p10: percentile(xs, 10),
    p50: median(xs),
    p90: percentile(xs, 90),
  });
  const [rawOn, rawOff, fnOn, fnOff] = [times.rawOn!, times.rawOff!, times.fnOn!, times.fnOff!].map(
    stat,
  ) as [
    ReturnType<typeof stat>,
    ReturnType<typeof stat>,
    ReturnType<typeof stat>,
    ReturnType<typeof stat>,
  ];
  return {
    requests: texts.length,
    threads,
    rawOn,
    rawOff,
    fnOn,
    fnOff,
    overheadOnMs: {
      p50: fnOn.p50 - rawOn.p50,
      p10: fnOn.p10 - rawOn.p10,
      min: fnOn.min - rawOn.min,
    },
    overheadOffMs: {
      p50: fnOff.p50 - rawOff.p50,
      p10: fnOff.p10 - rawOff.p10,
      min: fnOff.min - rawOff.min,
    },
    fasterSpinning: fnOn.p50 <= fnOff.p50 ? "on" : "off",
  };
}

async function packageSizes() {
  const out = join(CACHE, "functions", "package");
  rmSync(out, { recursive: true, force: true });
  const res = await timeProcess(process.execPath, [
    join(ROOT, "node_modules", "osls", "bin", "serverless.js"),
    "package",
    "--package",
    out,
    // Any pin will do for the sizes: <name>/<manifest sha256>, one per model role; no API keys.
    ...["model", "rerankModel", "classifyModel"].map((p) => `--param=${p}=bench/${"0".repeat(64)}`),
    "--param=public=true",
  ]);
  log(`osls package: ${(res.ms / 1000).toFixed(1)} s`);
  return Object.fromEntries(
    FAMILY_NAMES.map((f) => {
      const { buffer, entries } = zipEntries(join(out, `${f}.zip`));
      const bundleBytes = entries
        .filter((e) => e.name.startsWith("dist/"))
        .reduce((n, e) => n + e.size, 0);
      return [
        f,
        {
          bundleBytes,
          zipBytes: buffer.length,
          unzippedBytes: entries.reduce((n, e) => n + e.size, 0),
        },
      ];
    }),
  );
}

async function main() {
  log(
    `machine: ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)} (a loaded machine inflates every figure), ORT threads ${threads}`,
  );
  const cold: ColdStartResult[] = [];
  for (const name of values.models!.split(",") as Array<"tiny-4mb" | "minilm-l6">) {
    log(`cold start, ${name}: packaged function vs bare script, ${runs} alternating rounds`);
    const r = await coldStart(bundle, ensureModel(name), name, {
      rounds: runs,
      mappedWeights: values["mapped-weights"]!,
    });
    for (const line of coldStartReport(r)) log(line);
    cold.push(r);
  }
  const pinned = cold.find((c) => c.model === "minilm-l6");
  let warm = null;
  if (!values["skip-warm"] && pinned) {
    log("warm single request: handler vs raw session (interleaved)");
    warm = await warmLatency(ensureModel("minilm-l6"), pinned.uri, pinned.cacheDir);
    for (const spin of ["On", "Off"] as const) {
      const o = warm[`overhead${spin}Ms`];
      log(
        `  spinning ${spin.toLowerCase()}: raw p50 ${warm[`raw${spin}`].p50.toFixed(2)} ms, handler p50 ${warm[`fn${spin}`].p50.toFixed(2)} ms; overhead p50 ${o.p50.toFixed(2)}, p10 ${o.p10.toFixed(2)}, min ${o.min.toFixed(2)} ms`,
      );
    }
  }
  const sizes = values["skip-package"] ? null : await packageSizes();
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    loadAverage: loadavg(),
    cores: cpus().length,
    models: "random weights of the tiny-4mb and minilm-l6 shapes, bert-base-uncased tokenizer",
    coldStart: cold,
    warm,
    sizes,
  };
  mkdirSync(join(BENCH_DIR, "results"), { recursive: true });
  writeFileSync(
    join(BENCH_DIR, "results", "functions.json"),
    `${JSON.stringify(results, null, 2)}\n`,
  );
  console.log(JSON.stringify(results, null, 2));
}

await main();
process.exit(0);
