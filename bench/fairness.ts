// One large request against small ones: small-request latency (4 closed-loop clients, one STS
// sentence per request) while one request of 2,048 inputs × 512 tokens runs, against the same
// clients on the idle server; the goal is a p99 under load ≤ 5× the idle p99. Also prints the
// large request's time and tokens/s (what sizes --max-request-tokens). Loopback only, bounded.
//   node --import tsx bench/fairness.ts [--inputs 2048] [--tokens 512] [--clients 4]
//     [--idle-seconds 10] [--flags="--max-batch-tokens-per-request 2048"] [--bin dist/cli/main.js]
//     [--alone] (also time the large request by itself: tokens/s without other load)
// --inputs 256 runs the same shape in about an eighth of the time (a quick check).
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { shuffle, stsSentences } from "./lib/data.js";
import { CACHE, ensureModel, ROOT } from "./lib/models.js";
import { peakRss, spawnServer } from "./lib/procs.js";
import { percentile } from "./lib/stats.js";

const { values } = parseArgs({
  options: {
    inputs: { type: "string", default: "2048" },
    tokens: { type: "string", default: "512" },
    clients: { type: "string", default: "4" },
    "idle-seconds": { type: "string", default: "10" },
    flags: { type: "string", default: "" },
    bin: { type: "string", default: join(ROOT, "dist", "cli", "main.js") },
    alone: { type: "boolean", default: false },
  },
});
const inputs = Number(values.inputs);
const tokens = Number(values.tokens);
const clients = Number(values.clients);
const GOAL = 5;

/**
 * The bench model with sentence-transformers' 256-token cap lifted to its graph's 512 positions
 * (a copy of the folder: serve follows no links out of it), so that 512-token inputs are within
 * its limits.
 */
function model512(): string {
  const src = ensureModel("minilm-l6");
  const dir = join(CACHE, "minilm-l6-512");
  if (!existsSync(join(dir, "config.json"))) {
    cpSync(src, dir, { recursive: true });
    writeFileSync(
      join(dir, "sentence_bert_config.json"),
      JSON.stringify({ max_seq_length: 512, do_lower_case: false }),
    );
  }
  return dir;
}

/** Whether the server build knows a flag (an older build, `--bin`, may not). */
function supports(flag: string): boolean {
  return execFileSync(process.execPath, [values.bin!, "serve", "--help"], {
    encoding: "utf8",
  }).includes(flag);
}

const port = 18700 + Math.floor(Math.random() * 100);
const server = await spawnServer(
  process.execPath,
  [
    values.bin!,
    "serve",
    "--model",
    tokens > 256 ? model512() : ensureModel("minilm-l6"),
    "--port",
    String(port),
    "--host",
    "127.0.0.1",
    "--log-level",
    "warn",
    // The large request is the scenario: allow it (builds from before the flag have no limit).
    ...(supports("--max-request-tokens") ? ["--max-request-tokens", String(inputs * tokens)] : []),
    ...values.flags!.split(" ").filter(Boolean),
  ],
  port,
  async (b) => (await fetch(`${b}/health`)).status === 200,
);

const agent = new http.Agent({ keepAlive: true, maxSockets: clients + 1 });
function post(path: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const smalls = shuffle(stsSentences()).map((s) => JSON.stringify({ input: s }));
let next = 0;
/** `clients` closed-loop clients of small requests until `stop()`; each latency in ms. */
async function smallLoad(stop: () => boolean): Promise<{ latencies: number[]; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (!stop()) {
        const t = performance.now();
        const r = await post("/v1/embeddings", smalls[next++ % smalls.length]!);
        latencies.push(performance.now() - t);
        if (r.status !== 200) errors++;
      }
    }),
  );
  return { latencies, errors };
}

// Every input is `tokens - 2` dots: BERT's tokenizer makes each a token, plus [CLS] and [SEP].
const largeInput = ".".repeat(tokens - 2);
const counted = JSON.parse((await post("/tokenize", JSON.stringify({ prompt: largeInput }))).text)
  .count as number;
if (counted !== tokens) throw new Error(`a large input is ${counted} tokens, not ${tokens}`);
const largeBody = JSON.stringify({ input: Array.from({ length: inputs }, () => largeInput) });

// Warm up, then the idle figures.
const warm = next + 200;
await smallLoad(() => next >= warm);
const idleUntil = performance.now() + Number(values["idle-seconds"]) * 1000;
const idle = await smallLoad(() => performance.now() > idleUntil);

// --alone: the large request by itself first (its tokens/s without other load).
if (values.alone) {
  const t = performance.now();
  const r = await post("/v1/embeddings", largeBody);
  const seconds = (performance.now() - t) / 1000;
  if (r.status !== 200) throw new Error(`the large request: ${r.status} ${r.text.slice(0, 300)}`);
  console.log(
    `large request alone: status ${r.status}, ${seconds.toFixed(1)} s, ${Math.round((inputs * counted) / seconds).toLocaleString("en")} tokens/s`,
  );
}

// The large request, and the same clients while it runs.
let largeDone = false;
const t0 = performance.now();
const large = post("/v1/embeddings", largeBody).then((r) => {
  largeDone = true;
  return { ...r, seconds: (performance.now() - t0) / 1000 };
});
const loaded = await smallLoad(() => largeDone);
const answer = await large;
if (answer.status !== 200)
  throw new Error(`the large request: ${answer.status} ${answer.text.slice(0, 300)}`);
const rss = peakRss(server.proc.pid!);
await server.stop();
agent.destroy();

const stat = (l: number[]) => ({
  p50: percentile(l, 50),
  p99: percentile(l, 99),
  max: Math.max(...l),
});
const a = stat(idle.latencies);
const b = stat(loaded.latencies);
const ratio = b.p99 / a.p99;
const ms = (x: number) => `${x.toFixed(1)} ms`;
console.log(
  `large request: ${inputs} inputs × ${counted} tokens (${(inputs * counted).toLocaleString("en")} tokens, ${(largeBody.length / 1e6).toFixed(2)} MB), status ${answer.status}, ${answer.seconds.toFixed(1)} s, ${Math.round((inputs * counted) / answer.seconds).toLocaleString("en")} tokens/s with the small load beside it; peak RSS ${(rss / 2 ** 20).toFixed(0)} MiB`,
);
console.log(
  `small requests, ${clients} clients, idle:   ${idle.latencies.length} requests, p50 ${ms(a.p50)}, p99 ${ms(a.p99)}, max ${ms(a.max)}, errors ${idle.errors}`,
);
console.log(
  `small requests, ${clients} clients, loaded: ${loaded.latencies.length} requests, p50 ${ms(b.p50)}, p99 ${ms(b.p99)}, max ${ms(b.max)}, errors ${loaded.errors}`,
);
console.log(
  `p99 loaded / idle: ${ratio.toFixed(2)} (goal ≤ ${GOAL}): ${ratio <= GOAL ? "met" : "MISSED"}`,
);
