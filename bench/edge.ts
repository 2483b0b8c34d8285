// The in-Worker model's limits under workerd: bundle size (wrangler's own figures), and per
// model the wasm heap after loading and the first/second request times.
//   node --import tsx bench/edge.ts [model-dir …]   (default: the bert-embed-mean fixture)
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { createTestHarness } from "wrangler";
import {
  buildWorker,
  createEdgeKey,
  pinFolder,
  type R2Put,
  uploadPinned,
} from "../test/helpers/edge.js";
import { fixture } from "../test/helpers/fixtures.js";
import { ROOT } from "../test/helpers/server.js";

const dirs = process.argv.slice(2);
if (dirs.length === 0) dirs.push(fixture("bert-embed-mean"));
const outdir = await mkdtemp(join(tmpdir(), "edgepool-edge-bench-"));
const log = await buildWorker(outdir);
console.log(log.match(/Total Upload: .*/)?.[0] ?? "no size reported");
console.log(
  `edge.js (minified): ${((await stat(join(outdir, "edge.js"))).size / 1024).toFixed(0)} KiB`,
);
const KEY = "bench-key";

for (const dir of dirs) {
  const name = basename(dir);
  const pinned = await pinFolder(dir, name);
  const bytes = pinned.manifest.files.reduce((n, f) => n + f.size, 0);
  const harness = createTestHarness({
    root: ROOT,
    workers: [
      {
        configPath: "./wrangler.jsonc",
        prebuiltWorkerDir: outdir,
        vars: {
          ORIGINS: [],
          LOCAL_MODEL: { model: name, prefix: pinned.prefix, routes: ["/v1/embeddings"] },
        },
      },
    ],
  });
  await harness.listen();
  const worker = harness.getWorker();
  const env = (await worker.getEnv()) as { MODELS: R2Put; DB: unknown };
  await createEdgeKey(env.DB, KEY).catch(() => undefined); // already there from an earlier run
  await uploadPinned(env.MODELS, dir, pinned);
  const call = async () => {
    const t = performance.now();
    const res = await harness.fetch("/v1/embeddings", {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: name, input: ["a short sentence to embed", "and another"] }),
    });
    await res.arrayBuffer();
    return {
      ms: performance.now() - t,
      status: res.status,
      heap: Number(res.headers.get("x-edgepool-wasm-heap")),
    };
  };
  const first = await call();
  const second = await call();
  console.log(
    JSON.stringify({
      model: name,
      model_mb: +(bytes / 1e6).toFixed(1),
      status: first.status,
      wasm_heap_mb: +(second.heap / 1e6).toFixed(1),
      first_request_ms: Math.round(first.ms),
      second_request_ms: Math.round(second.ms),
    }),
  );
  await harness.close();
}
await rm(outdir, { recursive: true, force: true });
