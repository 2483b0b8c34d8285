// Quick server-configuration sweep: one edgepool server with the given flags, STS sentences at
// concurrency 1, 16 and 64, batch efficiency and peak RSS on one line. For tuning defaults:
//   node --import tsx bench/sweep.ts --workers 2 --intra-op-threads 1

import { join } from "node:path";
import { stsSentences } from "./lib/data.js";
import { runLoad } from "./lib/load.js";
import { ensureModel, ROOT } from "./lib/models.js";
import { getText, peakRss, serveArgs, spawnServer } from "./lib/procs.js";

const args = process.argv.slice(2);
const s = stsSentences();
const srv = await spawnServer(
  process.execPath,
  [
    join(ROOT, "dist", "cli", "main.js"),
    ...serveArgs(18999, "--model", ensureModel("minilm-l6"), ...args),
  ],
  18999,
  async (b) => (await fetch(`${b}/health`)).status === 200,
);
const body = (x: string) => JSON.stringify({ input: x });
await runLoad(`${srv.url}/v1/embeddings`, s.slice(0, 100).map(body), 16);
const out: string[] = [];
for (const c of [1, 16, 64]) {
  const r = await runLoad(`${srv.url}/v1/embeddings`, (c === 1 ? s.slice(0, 300) : s).map(body), c);
  out.push(`c=${c} ${r.throughput.toFixed(0)}/s p50 ${r.p50.toFixed(1)} p99 ${r.p99.toFixed(0)}`);
}
const m = await getText(`${srv.url}/metrics`);
const g = (n: string) => Number(new RegExp(`^${n} (\\S+)$`, "m").exec(m)?.[1]);
out.push(
  `eff ${(g("edgepool_batch_real_tokens_total") / g("edgepool_batch_padded_tokens_total")).toFixed(2)} avg batch ${(g("edgepool_batch_sequences_total") / g("edgepool_batches_total")).toFixed(1)}`,
);
out.push(`rss ${(peakRss(srv.proc.pid!) / 2 ** 20).toFixed(0)}MiB`);
console.log(args.join(" ").padEnd(50), out.join(" | "));
await srv.stop();
