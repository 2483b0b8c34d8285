// Event-loop CPU per request, by phase, from a V8 CPU profile of the server's main thread under
// load (one sentence per request, wrk at the given concurrency):
//   node --import tsx bench/profile.ts [--concurrency 64] [--seconds 10] [--bin other/dist/cli/main.js] [-- serve flags…]
// Each sample is charged to the first phase found walking its stack from the leaf up, so the
// phases add up to the main thread's busy time; "idle" (program/idle samples) is left out.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { shuffle, stsSentences } from "./lib/data.js";
import { hasWrk, runLoad, runWrk } from "./lib/load.js";
import { ensureModel, ROOT } from "./lib/models.js";
import { mainThreadCpuMs, serveArgs, spawnServer } from "./lib/procs.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Phases in the order they are tested against a frame (first match wins), leaf to root. */
const PHASES: Array<[string, (fn: string, url: string) => boolean]> = [
  ["garbage collection", (fn) => fn === "(garbage collector)"],
  ["tokenization", (_, url) => /tokenizers|engine\/tokenizer/.test(url)],
  ["transfer to the worker", (fn, url) => /worker-pool/.test(url) || fn === "postMessage"],
  ["scheduling", (_, url) => /engine\/(scheduler|batch|inline)/.test(url)],
  ["pooling", (_, url) => /core\/(pool|dense|matryoshka|activation|heads)/.test(url)],
  ["response JSON", (_, url) => /api\/(format|routes\/)/.test(url)],
  ["validation", (_, url) => /zod|api\/(body|prompts)/.test(url)],
  ["routing and middleware", (_, url) => /hono|api\//.test(url)],
  [
    "HTTP parse and write",
    (_, url) =>
      /node:_http|node:net|node:stream|node-server|node:internal\/(http|streams|stream_base)/.test(
        url,
      ),
  ],
  ["ONNX Runtime (in-thread)", (_, url) => /onnxruntime/.test(url)],
];

/** Per-phase milliseconds of the samples taken between `from` and `to` (µs, monotonic clock). */
export function phases(
  profile: CpuProfile,
  from = 0,
  to = Number.POSITIVE_INFINITY,
): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, string>();
  const phaseOf = (id: number): string => {
    const hit = memo.get(id);
    if (hit) return hit;
    const path: number[] = [];
    let cur: number | undefined = id;
    let found = "other JavaScript";
    while (cur !== undefined) {
      const known = memo.get(cur);
      if (known && known !== "other JavaScript") {
        found = known;
        break;
      }
      path.push(cur);
      const { functionName, url } = byId.get(cur)!.callFrame;
      if (functionName === "(idle)" || functionName === "(program)") {
        found = functionName === "(idle)" ? "idle" : "native (program)";
        break;
      }
      const match = PHASES.find(([, test]) => test(functionName, url));
      if (match) {
        found = match[0];
        break;
      }
      cur = parent.get(cur);
    }
    memo.set(id, found);
    return found;
  };
  const out = new Map<string, number>();
  const top = new Map<string, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (at < from || at > to) return;
    const phase = phaseOf(id);
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    out.set(phase, (out.get(phase) ?? 0) + ms);
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url ? `${url.split("/").slice(-2).join("/")}:${lineNumber + 1}` : "";
    const key = `${phase} | ${functionName} ${where}`;
    top.set(key, (top.get(key) ?? 0) + ms);
  });
  if (process.env.EDGEPOOL_PROFILE_TOP) {
    const n = Number(process.env.EDGEPOOL_PROFILE_TOP);
    for (const [k, v] of [...top].sort((a, b) => b[1] - a[1]).slice(0, n))
      console.log(`    ${v.toFixed(0).padStart(6)} ms  ${k}`);
  }
  return out;
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      concurrency: { type: "string", default: "64" },
      seconds: { type: "string", default: "10" },
      // The unbundled server: the bundle's functions would all sit in dist/cli/*.js.
      bin: { type: "string", default: join(ROOT, "bench", "lib", "serve-unbundled.mjs") },
    },
  });
  const dir = mkdtempSync(join(tmpdir(), "edgepool-prof-"));
  const port = 18600 + Math.floor(Math.random() * 90);
  const srv = await spawnServer(
    process.execPath,
    [
      "--cpu-prof",
      "--cpu-prof-dir",
      dir,
      values.bin,
      ...serveArgs(port, "--model", ensureModel("minilm-l6"), ...positionals),
    ],
    port,
    async (b) => (await fetch(`${b}/health`)).status === 200,
  );
  const url = `${srv.url}/v1/embeddings`;
  const bodies = shuffle(stsSentences()).map((s) => JSON.stringify({ input: s }));
  const c = Number(values.concurrency);
  await runLoad(url, bodies.slice(0, 200), c);
  // V8's profile clock is the monotonic clock that process.hrtime reads.
  const from = Number(process.hrtime.bigint() / 1000n);
  const cpu0 = mainThreadCpuMs(srv.proc.pid!);
  const r = hasWrk()
    ? runWrk(url, bodies, c, Number(values.seconds))
    : await runLoad(url, bodies, c);
  const cpuMs = mainThreadCpuMs(srv.proc.pid!) - cpu0;
  const to = Number(process.hrtime.bigint() / 1000n);
  const total = r.requests;
  await srv.stop();
  const main = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .find((f) => f.split(".")[4] === "0");
  if (!main) throw new Error(`no main-thread profile in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, main), "utf8")) as CpuProfile;
  rmSync(dir, { recursive: true, force: true });
  const byPhase = phases(profile, from, to);
  let busy = 0;
  for (const [k, v] of byPhase) if (k !== "idle") busy += v;
  // The profile splits the time; the thread's CPU clock (not inflated by waiting for a core on a
  // loaded machine) sets the total.
  const perRequestUs = (cpuMs / total) * 1000;
  console.log(
    `c=${c}, ${total} requests (${r.throughput.toFixed(0)} req/s), ${positionals.join(" ") || "default flags"}; main-thread CPU ${perRequestUs.toFixed(0)} µs per request, by phase (µs):`,
  );
  for (const [k, v] of [...byPhase].sort((a, b) => b[1] - a[1])) {
    if (k === "idle") continue;
    console.log(`  ${k.padEnd(28)} ${((v / busy) * perRequestUs).toFixed(0).padStart(6)}`);
  }
}

if (import.meta.main) await main();
