/**
 * `npm run build:functions`: one minified ESM bundle per function (esbuild, target node24,
 * onnxruntime-node external) into dist/functions/<name>/: `function.js` and the chunks it loads
 * on demand, `index.js` (the handler's entry, which enables the compile cache first) and
 * `compile-cache/` (scripts/compile-cache.ts). serverless.yml packages each with
 * onnxruntime-node's linux/x64 binaries only. Prints a size table; fails when a bundle reaches the
 * limit.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { build, type Metafile } from "esbuild";
import { ROUTE_FAMILIES } from "../src/api/families.js";
import { COMPILE_CACHE_DIR, loaderSource, writeCompileCache } from "./compile-cache.js";
import { NODE_BUNDLE } from "./esbuild-node.js";

const ROOT = join(import.meta.dirname, "..");
export const FUNCTIONS_DIR = join(ROOT, "functions");
export const OUT_DIR = join(ROOT, "dist", "functions");
/** Each function's code must stay under this (the model comes from the bucket). */
export const BUNDLE_LIMIT = 2 * 1024 * 1024;
/** Functions that load no model: their bundle must not import ONNX Runtime (their zip has none). */
export const NO_MODEL = new Set(["rerank-jobs"]);
/** The package's version, answered by `GET /version`. */
export const VERSION = (
  JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }
).version;

/** Functions that always have a store (Postgres): they load the store, metering and jobs code. */
export const STORE_FUNCTIONS = new Set(["rerank-jobs", "jobs-worker"]);

/**
 * Code a function must not load before its model starts loading (it would lengthen every cold
 * start): the AWS SDK (loaded when a bucket or a secret is read), the Postgres client (when a
 * store is opened), the worker pool (functions run the session inline) and, unless the function
 * always has a store, Prometheus metrics (no scraper reaches an instance), the store, metering
 * and jobs code, and the HTTP side (Hono, zod, the routes), which loads when a request first
 * needs it (or while the model loads, for a function without the direct path). Hono's Lambda
 * adapter (an event to a `Request` and back, 6 kB) is the handler's own.
 */
export function notAtStartup(name: string): RegExp[] {
  const always = [
    /node_modules\/@aws-sdk\//,
    /node_modules\/@smithy\//,
    /node_modules\/pg\//,
    /^src\/engine\/node\/worker-pool\.ts$/,
  ];
  if (STORE_FUNCTIONS.has(name)) return always;
  return [
    ...always,
    /node_modules\/prom-client\//,
    /^src\/store\/store\.ts$/,
    /^src\/metering\/meter\.ts$/,
    /^src\/jobs\/worker\.ts$/,
    /node_modules\/hono\/(?!dist\/adapter\/aws-lambda\/|dist\/utils\/encode\.js$)/,
    /node_modules\/zod\//,
    /^src\/api\/app\.ts$/,
  ];
}

/** The source files in an entry's output and the chunks it imports statically (what its import loads). */
export function startupInputs(metafile: Metafile, entry: string): string[] {
  const seen = new Set([entry]);
  const queue = [entry];
  for (let out = queue.pop(); out !== undefined; out = queue.pop()) {
    for (const i of metafile.outputs[out]?.imports ?? []) {
      if (i.kind !== "import-statement" || i.external || seen.has(i.path)) continue;
      seen.add(i.path);
      queue.push(i.path);
    }
  }
  return [...seen].flatMap((o) => Object.keys(metafile.outputs[o]?.inputs ?? {}));
}

/** Entries in functions/ that are not Lambda functions: the Cloudflare Worker (built by wrangler). */
export const NOT_LAMBDA = new Set(["edge.ts"]);

export function functionNames(): string[] {
  return readdirSync(FUNCTIONS_DIR)
    .filter((f) => f.endsWith(".ts") && !NOT_LAMBDA.has(f))
    .map((f) => basename(f, ".ts"))
    .sort();
}

function dirSize(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((n, f) => n + dirSize(join(path, f)), 0);
}

export async function buildFunction(name: string): Promise<number> {
  const outdir = join(OUT_DIR, name);
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    ...NODE_BUNDLE,
    entryPoints: { function: join(FUNCTIONS_DIR, `${name}.ts`) },
    outdir,
    minify: true,
    metafile: true,
    external: ["onnxruntime-node"],
    define: { EDGEPOOL_VERSION: JSON.stringify(VERSION) },
  });
  const entry = Object.keys(result.metafile.outputs).find((o) =>
    o.endsWith(`${name}/function.js`),
  )!;
  const banned = notAtStartup(name);
  const early = startupInputs(result.metafile, entry).filter((f) =>
    banned.some((re) => re.test(f)),
  );
  if (early.length > 0) {
    throw new Error(`${name} loads at start-up what it should load on demand: ${early.join(", ")}`);
  }
  if (NO_MODEL.has(name)) {
    const ort = Object.values(result.metafile.outputs).flatMap((o) =>
      o.imports.filter((i) => i.path === "onnxruntime-node").map(() => o),
    );
    if (ort.length > 0) {
      throw new Error(`${name} loads no model but its bundle imports onnxruntime-node`);
    }
  }
  // The bundle is ESM (.js, top-level await): say so for Lambda and serverless-offline.
  writeFileSync(join(outdir, "package.json"), '{"type":"module"}\n');
  writeFileSync(join(outdir, "index.js"), loaderSource(result.metafile.outputs[entry]!.exports));
  return dirSize(outdir);
}

/** What each function's zip carries besides its bundle: onnxruntime-node's linux/x64 runtime. */
export function ortLinuxX64Size(): number {
  const ort = join(ROOT, "node_modules", "onnxruntime-node");
  return (
    dirSize(join(ort, "bin", "napi-v6", "linux", "x64")) +
    dirSize(join(ort, "dist")) +
    dirSize(join(ROOT, "node_modules", "onnxruntime-common", "dist", "cjs"))
  );
}

const mb = (n: number) => `${(n / 1048576).toFixed(2)} MB`;

/** The POST routes of each function (serverless.yml's deploy/aws-functions.cjs reads them). */
export function writeRoutes(): void {
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, "routes.json"), `${JSON.stringify(ROUTE_FAMILIES, null, 2)}\n`);
}

async function main(): Promise<void> {
  const names = functionNames();
  writeRoutes();
  const rows: Array<[string, number]> = [];
  for (const name of names) rows.push([name, await buildFunction(name)]);
  // Two at a time: each is a node process importing a function's modules.
  const caches = new Map<string, number>();
  for (let i = 0; i < names.length; i += 2) {
    await Promise.all(
      names.slice(i, i + 2).map(async (name) => {
        await writeCompileCache(join(OUT_DIR, name));
        caches.set(name, dirSize(join(OUT_DIR, name, COMPILE_CACHE_DIR)));
      }),
    );
  }
  const ort = ortLinuxX64Size();
  const width = Math.max(...names.map((n) => n.length), 8);
  console.log(
    `${"function".padEnd(width)}     bundle  compile cache  + ORT linux/x64 (package, unzipped)`,
  );
  for (const [name, size] of rows) {
    const cache = caches.get(name) ?? 0;
    console.log(
      `${name.padEnd(width)}  ${mb(size).padStart(9)}  ${mb(cache).padStart(13)}  ${mb(size + cache + ort).padStart(9)}`,
    );
  }
  const over = rows.filter(([, size]) => size >= BUNDLE_LIMIT);
  if (over.length > 0) {
    console.error(`Over the ${mb(BUNDLE_LIMIT)} bundle limit: ${over.map(([n]) => n).join(", ")}`);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.filename === process.argv[1]) await main();
