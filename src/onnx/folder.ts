import { existsSync, statSync } from "node:fs";
import { cp, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { ModelConfigError } from "../core/index.js";
import { listFiles } from "../models/files.js";
import {
  MANIFEST_FILE,
  type Manifest,
  type ModelSourceOptions,
  onnxFileFor,
  parseManifest,
  resolveModel,
  selectModelFiles,
} from "../models/index.js";
import { manifestText, sha256File } from "../models/manifest.js";
import { progress } from "../models/progress.js";
import {
  matmulWeightBytes,
  type QuantizeOptions,
  type QuantizeReport,
  quantizeDynamicInt8,
} from "./int8.js";
import { encodeOnnx, readOnnx } from "./onnx-proto.js";

/** Where `--dtype q8` looks, as optimum and transformers.js name it. */
export const QUANTIZED_FILE = onnxFileFor("q8");

export interface QuantizeFolderResult extends QuantizeReport {
  source: string;
  out: string;
  file: string;
  bytes: number;
}

/** The fp32 graph of a model folder: `onnx/model.onnx`, or `model.onnx` at the top. */
function fp32Graph(dir: string): string {
  for (const f of [onnxFileFor("fp32"), "model.onnx"]) if (existsSync(join(dir, f))) return f;
  throw new ModelConfigError(`${dir} has no fp32 ONNX graph (onnx/model.onnx or model.onnx)`);
}

/**
 * Quantize a model (folder, Hub id or pinned bucket URI) to int8: copy its files to `out`
 * (unless it is the same folder), write `onnx/model_quantized.onnx` there, and record the new
 * file in the folder's `edgepool.manifest.json` (created when there is none), so that
 * `--dtype q8` serves it and a later load verifies it.
 */
export async function quantizeFolder(
  model: string,
  out: string,
  opts: QuantizeOptions & { store?: Omit<ModelSourceOptions, "dtype"> } = {},
): Promise<QuantizeFolderResult> {
  const { dir } = await resolveModel(model, opts.store ?? {});
  const source = fp32Graph(dir);
  if (existsSync(out) && !statSync(out).isDirectory())
    throw new ModelConfigError(`--out ${out} exists and is not a folder`);
  if (resolve(out) !== resolve(dir)) {
    await mkdir(out, { recursive: true });
    await cp(dir, out, { recursive: true, dereference: true, force: true });
  }
  const graph = readOnnx(join(dir, source));
  const bar = progress(`quantize ${source}`, matmulWeightBytes(graph), {
    starting: (size) => `quantizing ${size} of MatMul/Gemm weights`,
    ...(opts.store?.log ? { log: opts.store.log } : {}),
  });
  let report: QuantizeReport;
  try {
    report = quantizeDynamicInt8(graph, { ...opts, onWeight: (n) => bar.add(n) });
  } finally {
    bar.stop();
  }
  if (report.quantizedNodes === 0) {
    throw new ModelConfigError(
      `${join(dir, source)} has no MatMul or Gemm with a constant 2-D float weight to quantize`,
    );
  }
  const bytes = encodeOnnx(graph);
  const target = join(out, QUANTIZED_FILE);
  await mkdir(join(out, "onnx"), { recursive: true });
  await writeFile(`${target}.partial`, bytes);
  await rename(`${target}.partial`, target);
  await recordInManifest(out, model);
  return { ...report, source: join(dir, source), out, file: target, bytes: bytes.length };
}

/** Add (or update) the quantized graph in the folder's manifest; create one if there is none. */
async function recordInManifest(dir: string, model: string): Promise<void> {
  const path = join(dir, MANIFEST_FILE);
  const all = await listFiles(dir);
  let manifest: Manifest;
  if (existsSync(path)) {
    manifest = parseManifest(await readFile(path, "utf8"));
  } else {
    const wanted = new Set([...selectModelFiles(all, "fp32"), ...selectModelFiles(all, "q8")]);
    manifest = {
      version: 1,
      source: { type: "dir", id: basename(resolve(model)), revision: null },
      files: [],
    };
    for (const f of wanted) if (f !== QUANTIZED_FILE) manifest.files.push(await fileEntry(dir, f));
  }
  manifest.files = manifest.files.filter((f) => f.path !== QUANTIZED_FILE);
  manifest.files.push(await fileEntry(dir, QUANTIZED_FILE));
  await writeFile(path, manifestText(manifest));
}

async function fileEntry(dir: string, path: string) {
  const full = join(dir, path);
  return { path, size: statSync(full).size, sha256: await sha256File(full) };
}
