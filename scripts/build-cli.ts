/**
 * Part of `npm run build`, after tsc: the `edgepool` command (dist/cli/main.js) as one esbuild
 * bundle with its session worker beside it and a chunk per lazily loaded part (each command, the
 * HTTP stack, the stores, the S3 SDK). Node loads a few files instead of ~900 modules: `serve`
 * answers its first request ~50 ms sooner (docs/performance.md). The library (dist/index.js)
 * stays tsc's output.
 */
import { chmodSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { NODE_BUNDLE } from "./esbuild-node.js";

const ROOT = join(import.meta.dirname, "..");
const OUT = join(ROOT, "dist", "cli");

mkdirSync(OUT, { recursive: true });
for (const f of readdirSync(OUT)) if (f.endsWith(".chunk.js")) rmSync(join(OUT, f));
await build({
  ...NODE_BUNDLE,
  entryPoints: {
    main: join(ROOT, "src", "cli", "main.ts"),
    // Found by prewarm.ts as ./session-worker.js beside the code that starts it.
    "session-worker": join(ROOT, "src", "engine", "node", "session-worker.ts"),
  },
  chunkNames: "[name]-[hash].chunk",
  outdir: OUT,
  allowOverwrite: true,
  external: ["onnxruntime-node"],
});
// The package's bin: executable, as npm makes the bins of the packages it installs (`npx
// edgepool` in this repository runs this file as it is built, before any install links it).
chmodSync(join(OUT, "main.js"), 0o755);
