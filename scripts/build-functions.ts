/**
 * `npm run build:functions`: one minified ESM bundle per function (esbuild, target node24,
 * onnxruntime-node external) into dist/functions/<name>/, and the Lambda layer holding
 * onnxruntime-node's linux/x64 binaries only into dist/layers/onnxruntime/. Prints a size table and
 * fails when a bundle reaches the limit.
 */
import { cpSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { build } from "esbuild";

const ROOT = join(import.meta.dirname, "..");
export const FUNCTIONS_DIR = join(ROOT, "functions");
export const OUT_DIR = join(ROOT, "dist", "functions");
export const LAYER_DIR = join(ROOT, "dist", "layers", "onnxruntime");
/** Each function's code must stay under this (the model comes from the bucket, ORT from the layer). */
export const BUNDLE_LIMIT = 2 * 1024 * 1024;

export function functionNames(): string[] {
  return readdirSync(FUNCTIONS_DIR)
    .filter((f) => f.endsWith(".ts"))
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
  await build({
    entryPoints: { index: join(FUNCTIONS_DIR, `${name}.ts`) },
    outdir,
    bundle: true,
    // Dynamic imports (the S3 SDK, used only when the model is not yet in /tmp) become chunks
    // loaded on demand, off the cold-start path of a warm cache.
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node24",
    minify: true,
    legalComments: "none",
    external: ["onnxruntime-node"],
    // Bundled CommonJS packages call require() for Node built-ins.
    banner: {
      js: 'import{createRequire as __cr}from"node:module";const require=__cr(import.meta.url);',
    },
    logLevel: "warning",
  });
  // The bundle is ESM (.js, top-level await): say so for Lambda and serverless-offline.
  writeFileSync(join(outdir, "package.json"), '{"type":"module"}\n');
  return dirSize(outdir);
}

/** onnxruntime-node and onnxruntime-common with only the linux/x64 binaries, as a Lambda layer. */
export function buildLayer(): number {
  rmSync(LAYER_DIR, { recursive: true, force: true });
  const modules = join(LAYER_DIR, "nodejs", "node_modules");
  const ortSrc = join(ROOT, "node_modules", "onnxruntime-node");
  const ort = join(modules, "onnxruntime-node");
  mkdirSync(ort, { recursive: true });
  cpSync(join(ortSrc, "package.json"), join(ort, "package.json"));
  cpSync(join(ortSrc, "dist"), join(ort, "dist"), {
    recursive: true,
    filter: (f) => statSync(f).isDirectory() || f.endsWith(".js"),
  });
  const bin = join("bin", "napi-v6", "linux", "x64");
  cpSync(join(ortSrc, bin), join(ort, bin), {
    recursive: true,
    // The CPU runtime only: CUDA/TensorRT provider libraries (a GPU install) have no use on Lambda.
    filter: (f) => !/providers_(cuda|tensorrt)/.test(f),
  });
  const common = join(modules, "onnxruntime-common");
  cpSync(join(ROOT, "node_modules", "onnxruntime-common"), common, {
    recursive: true,
    filter: (f) => !f.endsWith(".map") && !f.endsWith(".ts"),
  });
  return dirSize(LAYER_DIR);
}

const mb = (n: number) => `${(n / 1048576).toFixed(2)} MB`;

async function main(): Promise<void> {
  const names = functionNames();
  const rows: Array<[string, number]> = [];
  for (const name of names) rows.push([name, await buildFunction(name)]);
  const layer = buildLayer();
  const width = Math.max(...names.map((n) => n.length), 8);
  console.log(`${"function".padEnd(width)}  bundle (unzipped)`);
  for (const [name, size] of rows) console.log(`${name.padEnd(width)}  ${mb(size).padStart(9)}`);
  console.log(
    `${"layer".padEnd(width)}  ${mb(layer).padStart(9)}  onnxruntime-node linux/x64 (${dirname(LAYER_DIR).split("/").at(-1)}/onnxruntime)`,
  );
  const over = rows.filter(([, size]) => size >= BUNDLE_LIMIT);
  if (over.length > 0) {
    console.error(`Over the ${mb(BUNDLE_LIMIT)} bundle limit: ${over.map(([n]) => n).join(", ")}`);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.filename === process.argv[1]) await main();
