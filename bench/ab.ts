// Interleaved A/B of two server configurations on the STS sentences: both servers up, short wrk
// runs alternating A, B, A, B… so that a loaded machine's drift hits both alike. Prints the
// median of each side and the median of the per-round ratios B/A.
//   node --import tsx bench/ab.ts --a="" --b="--workers 0" [--c 1,64] [--rounds 5]
//   [--seconds 3] [--bin-a path/to/other/dist/cli/main.js] (another build, e.g. before a change)
//   [--env-a="NAME=value …"] [--env-b=…] (environment of one side's server)
//   [--node-a="--flag …"] [--node-b=…] (node's own flags for one side's server, e.g. V8's)
import { join } from "node:path";
import { parseArgs } from "node:util";
import { shuffle, stsSentences } from "./lib/data.js";
import { hasWrk, type LoadResult, runLoad, runWrk } from "./lib/load.js";
import { ensureModel, ROOT } from "./lib/models.js";
import { type Child, mainThreadCpuMs, serveArgs, spawnServer } from "./lib/procs.js";
import { median } from "./lib/stats.js";

const { values } = parseArgs({
  options: {
    a: { type: "string", default: "" },
    b: { type: "string", default: "" },
    c: { type: "string", default: "1,64" },
    rounds: { type: "string", default: "5" },
    seconds: { type: "string", default: "3" },
    "bin-a": { type: "string", default: join(ROOT, "dist", "cli", "main.js") },
    "bin-b": { type: "string", default: join(ROOT, "dist", "cli", "main.js") },
    "env-a": { type: "string", default: "" },
    "env-b": { type: "string", default: "" },
    "node-a": { type: "string", default: "" },
    "node-b": { type: "string", default: "" },
  },
});

/** `NAME=value NAME2=value` to an environment object. */
const envOf = (spec: string) =>
  Object.fromEntries(
    spec
      .split(" ")
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );

async function start(
  bin: string,
  flags: string,
  port: number,
  env: string,
  nodeFlags: string,
): Promise<Child> {
  const args = flags.split(" ").filter(Boolean);
  if (!args.includes("--model")) args.push("--model", ensureModel("minilm-l6"));
  return spawnServer(
    process.execPath,
    [...nodeFlags.split(" ").filter(Boolean), bin, ...serveArgs(port, ...args)],
    port,
    async (b) => (await fetch(`${b}/health`)).status === 200,
    envOf(env),
  );
}

const base = 18500 + Math.floor(Math.random() * 80) * 2;
const servers = {
  A: await start(values["bin-a"]!, values.a!, base, values["env-a"]!, values["node-a"]!),
  B: await start(values["bin-b"]!, values.b!, base + 1, values["env-b"]!, values["node-b"]!),
};
// Shuffled (seeded): the file starts with ~1,400 short image captions, all that a 3 s run at c=64
// would reach in file order (570–580 req/s against 505 over the whole set on one machine).
const sentences = shuffle(stsSentences());
const bodies = sentences.map((s) => JSON.stringify({ input: s }));
for (const s of Object.values(servers))
  await runLoad(`${s.url}/v1/embeddings`, bodies.slice(0, 200), 16);

async function once(s: Child, c: number): Promise<LoadResult & { cpuUs: number }> {
  const url = `${s.url}/v1/embeddings`;
  const cpu0 = mainThreadCpuMs(s.proc.pid!);
  const r = hasWrk()
    ? runWrk(url, c === 1 ? bodies.slice(0, 300) : bodies, c, Number(values.seconds))
    : await runLoad(url, c === 1 ? bodies.slice(0, 300) : bodies, c);
  const cpuUs = ((mainThreadCpuMs(s.proc.pid!) - cpu0) / r.requests) * 1000;
  return { ...r, cpuUs };
}

for (const c of values.c!.split(",").map(Number)) {
  const out: Record<"A" | "B", Array<LoadResult & { cpuUs: number }>> = { A: [], B: [] };
  for (let i = 0; i < Number(values.rounds); i++) {
    for (const k of i % 2 === 0 ? (["A", "B"] as const) : (["B", "A"] as const))
      out[k].push(await once(servers[k], c));
  }
  const line = (k: "A" | "B") =>
    `${k}: ${median(out[k].map((r) => r.throughput)).toFixed(1)} req/s, p50 ${median(out[k].map((r) => r.p50)).toFixed(2)} ms, event-loop CPU ${median(out[k].map((r) => r.cpuUs)).toFixed(0)} µs/req`;
  const ratios = out.A.map((a, i) => out.B[i]!.throughput / a.throughput);
  const p50s = out.A.map((a, i) => out.B[i]!.p50 / a.p50);
  console.log(
    `c=${c}  ${line("A")}  |  ${line("B")}  |  B/A throughput ${median(ratios).toFixed(3)}, p50 ${median(p50s).toFixed(3)}`,
  );
}
await Promise.all(Object.values(servers).map((s) => s.stop()));
