// Raw session throughput on a device vs edgepool's HTTP throughput at concurrency 64 on the same
// device, and their ratio. Run by bench/gpu.sh (which installs what a bare GPU machine needs).
//   node --import tsx bench/gpu.ts --device cuda|auto|cpu [--shape bert-base] [--seconds 30]
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { padBatch } from "../src/engine/batch.js";
import { readModelFolder } from "../src/engine/node/model-folder.js";
import { type Device, loadOnnxModel } from "../src/engine/node/session.js";
import { TextTokenizer } from "../src/engine/tokenizer.js";
import { runLoad } from "./lib/load.js";
import { CACHE, ROOT } from "./lib/models.js";
import { spawnServer } from "./lib/procs.js";

const { values } = parseArgs({
  options: {
    device: { type: "string", default: "auto" },
    shape: { type: "string", default: "bert-base" },
    seconds: { type: "string", default: "30" },
    concurrency: { type: "string", default: "64" },
    "batch-size": { type: "string", default: "64" },
    port: { type: "string", default: "18089" },
  },
});
const device = values.device as Device;
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const batchSize = Number(values["batch-size"]);

/** shared/ data when the checkout has it (STS sentences, bert-base-uncased); else the fixture's. */
function sharedDir(): string | null {
  const candidates = [
    process.env.EDGEPOOL_SHARED_DIR,
    join(ROOT, "shared"),
    join(ROOT, "..", "shared"),
    "/work/shared",
  ];
  return candidates.find((d) => d && existsSync(join(d, "data"))) ?? null;
}

function texts(shared: string | null): string[] {
  if (shared) {
    const csv = readFileSync(join(shared, "data", "stsbenchmark", "sts-test.csv"), "utf8");
    return csv.split("\n").flatMap((l) => {
      const c = l.split("\t");
      return c.length >= 7 ? [c[5]!, c[6]!] : [];
    });
  }
  const words = "the quick brown fox jumps over a lazy dog while rain falls on the old city".split(
    " ",
  );
  return Array.from({ length: 2000 }, (_, i) =>
    Array.from({ length: 6 + (i % 30) }, (_, j) => words[(i * 7 + j * 3) % words.length]).join(" "),
  );
}

function ensureModel(shape: string, shared: string | null): string {
  const dir = join(CACHE, `gpu-${shape}`);
  if (existsSync(join(dir, "onnx", "model.onnx"))) return dir;
  const tokenizer = shared
    ? join(shared, "data", "tokenizers", "bert-base-uncased")
    : join(ROOT, "test", "fixtures", "models", "bert-embed-mean");
  console.error(`building a ${shape}-shaped model into ${dir} (python3-torch)…`);
  execFileSync(
    process.env.EDGEPOOL_PYTHON ?? "/usr/bin/python3",
    [join(ROOT, "test", "fixtures", "generate.py"), "--bench", shape, dir, tokenizer],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  return dir;
}

const shared = sharedDir();
const sentences = texts(shared);
const dir = ensureModel(values.shape!, shared);
const folder = await readModelFolder(dir);
const tok = new TextTokenizer(folder.tokenizerJson, folder.tokenizerConfig);
const seqs = sentences
  .map((t) => ({ ids: tok.encode(t, { maxTokens: 256 }).ids, typeIds: null }))
  .sort((a, b) => a.ids.length - b.ids.length);

// 1. The raw session: length-sorted batches of `batchSize`, for `seconds` (after one warm-up).
const model = await loadOnnxModel(folder.onnxPath, folder.config, { device });
if (model.fallback) console.error(`--device ${device}: running on the CPU (${model.fallback})`);
const output = model.outputs[0]!.name;
const batchCount = Math.ceil(seqs.length / batchSize);
await model.run(padBatch(seqs.slice(0, batchSize), 0, "right"), [{ name: output }]);
let sequences = 0;
const t0 = performance.now();
for (let b = 0; performance.now() - t0 < seconds * 1000; b = (b + 1) % batchCount) {
  // padBatch's arrays are handed to ONNX Runtime; build each run's batch afresh.
  const batch = padBatch(seqs.slice(b * batchSize, (b + 1) * batchSize), 0, "right");
  await model.run(batch, [{ name: output }]);
  sequences += batch.batch;
}
const raw = sequences / ((performance.now() - t0) / 1000);
await model.release();

// 2. edgepool serve on the same device, one text per request, `concurrency` clients.
const port = Number(values.port);
const server = await spawnServer(
  process.execPath,
  [
    join(ROOT, "dist", "cli", "main.js"),
    "serve",
    "--model",
    dir,
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--device",
    device,
    "--max-batch-size",
    String(batchSize),
    "--served-model-name",
    "bench",
  ],
  port,
  async (base) => (await fetch(`${base}/health`)).ok,
);
const bodies = Array.from(
  { length: Math.max(concurrency * 4, Math.round(raw * seconds)) },
  (_, i) => JSON.stringify({ model: "bench", input: sentences[i % sentences.length] }),
);
await runLoad(`${server.url}/v1/embeddings`, bodies.slice(0, concurrency * 2), concurrency); // warm-up
const load = await runLoad(`${server.url}/v1/embeddings`, bodies, concurrency);
await server.stop();

console.log(
  JSON.stringify(
    {
      device: model.device,
      fallback: model.fallback,
      shape: values.shape,
      raw_sequences_per_s: Math.round(raw),
      http_requests_per_s: Math.round(load.throughput),
      concurrency,
      http_p50_ms: Math.round(load.p50),
      http_p99_ms: Math.round(load.p99),
      http_errors: load.errors,
      ratio_http_to_raw: Number((load.throughput / raw).toFixed(3)),
    },
    null,
    2,
  ),
);
