// One large request against small ones: small-request latency (4 closed-loop clients, one STS
// sentence per request) while one request of 2,048 inputs × 512 tokens runs, against the same
// clients on the idle server; the goal is a p99 under load ≤ 5× the idle p99. Also prints the
// large request's time and tokens/s (what sizes --max-request-tokens). Loopback only, bounded.
//   node --import tsx bench/fairness.ts [--inputs 2048] [--tokens 512] [--clients 4]
//     [--idle-seconds 10] [--loaded-seconds 60] [--flags="--max-batch-tokens-per-request 2048"] [--bin dist/cli/main.js]
//     [--alone] (also time the large request by itself: tokens/s without other load)
// --inputs 256 runs the same shape in about an eighth of the time (a quick check). Past
// --loaded-seconds the large request is abandoned (closing its connection cancels it) and its
// rate beside the small load is read from the server's token counters.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { FAIRNESS_GOAL, type Latencies, measureFairness } from "./lib/fairness.js";
import { ROOT } from "./lib/models.js";

const { values } = parseArgs({
  options: {
    inputs: { type: "string", default: "2048" },
    tokens: { type: "string", default: "512" },
    clients: { type: "string", default: "4" },
    "idle-seconds": { type: "string", default: "10" },
    "loaded-seconds": { type: "string", default: "60" },
    flags: { type: "string", default: "" },
    bin: { type: "string", default: join(ROOT, "dist", "cli", "main.js") },
    alone: { type: "boolean", default: false },
  },
});
const inputs = Number(values.inputs);
const clients = Number(values.clients);
const r = await measureFairness({
  bin: values.bin!,
  inputs,
  tokens: Number(values.tokens),
  clients,
  idleSeconds: Number(values["idle-seconds"]),
  loadedSeconds: Number(values["loaded-seconds"]),
  flags: values.flags!.split(" ").filter(Boolean),
  alone: values.alone!,
  port: 18700 + Math.floor(Math.random() * 100),
});

const ms = (x: number) => `${x.toFixed(1)} ms`;
const line = (name: string, l: Latencies) =>
  `small requests, ${clients} clients, ${name} ${l.requests} requests, p50 ${ms(l.p50)}, p99 ${ms(l.p99)}, max ${ms(l.max)}, errors ${l.errors}`;
const tokens = inputs * r.tokensPerInput;
if (r.aloneTokensPerSecond !== null)
  console.log(
    `large request alone: ${Math.round(r.aloneTokensPerSecond).toLocaleString("en")} tokens/s`,
  );
console.log(
  `large request: ${inputs} inputs × ${r.tokensPerInput} tokens (${tokens.toLocaleString("en")} tokens, ${(r.bodyBytes / 1e6).toFixed(2)} MB), ${r.finished ? "answered in" : "abandoned after"} ${r.largeSeconds.toFixed(1)} s, ${Math.round(r.largeTokensPerSecond).toLocaleString("en")} tokens/s with the small load beside it; peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
);
console.log(line("idle:  ", r.idle));
console.log(line("loaded:", r.loaded));
console.log(
  `p99 loaded / idle: ${r.ratio.toFixed(2)} (goal ≤ ${FAIRNESS_GOAL}): ${r.ratio <= FAIRNESS_GOAL ? "met" : "MISSED"}`,
);
