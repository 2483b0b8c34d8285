// Memory and speed of the mixed workload (sentences and 200–500-token paragraphs) at c=64 for
// each `--max-batch-tokens` budget, with ONNX Runtime's CPU arena on and off: the sweep behind the
// defaults (README). One server per configuration; peak RSS is the server's VmHWM.
//   node --import tsx bench/memory-sweep.ts [--budgets 1024,2048,4096,8192] [--arena on,off] [--seconds 10]
//     [--smaps] [--lone-first N] [-- serve flags…]
// --smaps also prints where the resident memory is after the load (/proc/PID/smaps, by mapping).
// --lone-first N sends N lone sentences first (one at a time), as `npm run bench` does: the
// server's session for lone batches is then up when the load starts, and released by it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { mixedWorkload } from "./lib/data.js";
import { hasWrk, runLoad, runWrk } from "./lib/load.js";
import { ensureModel, ROOT } from "./lib/models.js";
import { metric, peakRss, serveArgs, spawnServer } from "./lib/procs.js";
import { loadTokenizer } from "./lib/raw.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    budgets: { type: "string", default: "1024,2048,4096,8192" },
    seconds: { type: "string", default: "10" },
    arena: { type: "string", default: "on,off" },
    smaps: { type: "boolean", default: false },
    "lone-first": { type: "string", default: "0" },
  },
});
const model = ensureModel("minilm-l6");
const tok = loadTokenizer(model);
const bodies = mixedWorkload((t) => tok.encode(t).ids.length, 1000, 100).map((s) =>
  JSON.stringify({ input: s, truncate_prompt_tokens: -1 }),
);
const port = 18400 + Math.floor(Math.random() * 90);

/** Resident memory now, by mapping (file path, or [heap] / anonymous), largest first. */
function residentByMapping(pid: number): string {
  const byName = new Map<string, number>();
  let name = "";
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) name = head[1] || "anonymous";
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) byName.set(name, (byName.get(name) ?? 0) + Number(rss[1]));
  }
  return [...byName]
    .sort((a, b) => b[1] - a[1])
    .filter(([, kb]) => kb >= 1024)
    .map(([n, kb]) => `    ${(kb / 1024).toFixed(0).padStart(5)} MiB  ${n}`)
    .join("\n");
}

console.log("budget  arena  req/s   errors  real/computed  peak RSS");
for (const budget of values.budgets!.split(",")) {
  for (const arena of values.arena!.split(",").map((a) => a === "on")) {
    const srv = await spawnServer(
      process.execPath,
      [
        join(ROOT, "dist", "cli", "main.js"),
        ...serveArgs(port, "--model", model),
        "--max-batch-tokens",
        budget,
        ...(arena ? [] : ["--no-mem-arena"]),
        ...positionals,
      ],
      port,
      async (b) => (await fetch(`${b}/health`)).status === 200,
    );
    const url = `${srv.url}/v1/embeddings`;
    const lone = Number(values["lone-first"]);
    if (lone > 0) {
      const sentences = bodies.filter((b) => b.length < 200).slice(0, lone);
      await runLoad(url, sentences, 1);
      if (values.smaps)
        console.log(`  after ${lone} lone requests:\n${residentByMapping(srv.proc.pid!)}`);
    }
    await runLoad(url, bodies.slice(0, 100), 16);
    const r = hasWrk()
      ? runWrk(url, bodies, 64, Number(values.seconds))
      : await runLoad(url, bodies, 64);
    const eff =
      (await metric(srv.url, "edgepool_batch_real_tokens_total")) /
      (await metric(srv.url, "edgepool_batch_padded_tokens_total"));
    const rss = peakRss(srv.proc.pid!) / 2 ** 20;
    console.log(
      `${budget.padStart(6)}  ${arena ? "on " : "off"}  ${r.throughput.toFixed(1).padStart(6)}  ${String(r.errors).padStart(6)}  ${eff.toFixed(3).padStart(13)}  ${rss.toFixed(0)} MiB`,
    );
    if (values.smaps) console.log(residentByMapping(srv.proc.pid!));
    await srv.stop();
  }
}
