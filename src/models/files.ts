import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";

export type Dtype = "fp32" | "fp16" | "q8";

/** The ONNX file a dtype selects, as optimum / transformers.js name them. */
export function onnxFileFor(dtype: Dtype = "fp32"): string {
  return { fp32: "onnx/model.onnx", fp16: "onnx/model_fp16.onnx", q8: "onnx/model_quantized.onnx" }[
    dtype
  ];
}

const METADATA = [
  "config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "modules.json",
  "sentence_bert_config.json",
  "config_sentence_transformers.json",
  "1_Pooling/config.json",
  // sentence-transformers 5's Router (asymmetric models), OpenSearch's query IDF table
  "router_config.json",
  "idf.json",
  // Stanford ColBERT checkpoints' settings (their projection is in model.safetensors)
  "artifact.metadata",
];

/** Module files beside the graph that the model's families read. */
const MODULE_FILES = [
  /^\d+_Dense\/(config\.json|model\.safetensors)$/,
  // SPLADE: SpladePooling's config, a Router's query-side static weights
  /^(\w+_)?\d+_SpladePooling\/config\.json$/,
  /^\w+_\d+_SparseStaticEmbedding\/(config\.json|model\.safetensors)$/,
  // bge-m3's heads, converted by scripts/bge-m3-heads-to-safetensors.py
  /^(sparse|colbert)_linear\.safetensors$/,
];

/**
 * The files a model needs out of everything its repository holds: configs, tokenizer,
 * sentence-transformers modules (Dense weights included), the heads and tables its family reads
 * (SPLADE's pooling and IDF, bge-m3's converted heads, a Stanford ColBERT checkpoint's weights,
 * which hold its projection), and the chosen ONNX variant with its external data.
 */
export function selectModelFiles(available: readonly string[], dtype: Dtype = "fp32"): string[] {
  const have = new Set(available);
  const onnx = have.has(onnxFileFor(dtype))
    ? onnxFileFor(dtype)
    : dtype === "fp32" && have.has("model.onnx")
      ? "model.onnx"
      : null;
  const out = METADATA.filter((f) => have.has(f));
  out.push(...available.filter((f) => MODULE_FILES.some((p) => p.test(f))));
  if (have.has("artifact.metadata") && have.has("model.safetensors")) out.push("model.safetensors");
  if (onnx) {
    out.push(onnx);
    out.push(...available.filter((f) => f.startsWith(`${onnx}_data`) || f === `${onnx}.data`));
  }
  return [...new Set(out)];
}

/** Every file below a folder, as `/`-separated relative paths. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) out.push(relative(dir, full).split(sep).join("/"));
    }
  };
  if (existsSync(dir)) await walk(dir);
  return out.sort();
}
