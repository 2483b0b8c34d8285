import { parseArgs } from "node:util";
import { UsageError } from "../config/usage-error.js";
import { formatBytes, stderrLine } from "../models/progress.js";

export const QUANTIZE_HELP = `Usage: edgepool quantize <model-folder | hub-id | s3://…> --out <folder> [options]

Dynamic int8 quantization of the model's ONNX graph: every MatMul (and plain Gemm) with a
constant weight becomes ONNX Runtime's DynamicQuantizeMatMul with per-output-channel int8
weights (activations are quantized at run time); everything else is unchanged. Writes the
model's files plus onnx/model_quantized.onnx into --out and records it in
edgepool.manifest.json. Serve it with: edgepool serve --model <folder> --dtype q8

Options:
  --out DIR             destination folder (required; may be the model folder itself)
  --reduce-range        7-bit weights: for x86 CPUs without AVX-512 VNNI / AVX-VNNI, where
                        8-bit products can saturate (slightly less accurate)
  --revision REV        Hub revision (branch, tag or commit; default main)
  --cache-dir DIR       download cache for Hub models
  --s3-endpoint URL     S3-compatible endpoint for s3:// / r2:// (or AWS_ENDPOINT_URL)`;

export async function quantizeCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      "reduce-range": { type: "boolean" },
      revision: { type: "string" },
      "cache-dir": { type: "string" },
      "s3-endpoint": { type: "string" },
    },
  });
  const [given, ...rest] = positionals;
  if (!given || rest.length > 0)
    throw new UsageError("Give exactly one model: a folder, a Hub id or a pinned bucket URI");
  if (!values.out) throw new UsageError("--out <folder> is required");
  const model = values.revision && !given.includes("@") ? `${given}@${values.revision}` : given;
  const { quantizeFolder } = await import("../onnx/folder.js");
  const t0 = performance.now();
  const r = await quantizeFolder(model, values.out, {
    ...(values["reduce-range"] ? { reduceRange: true } : {}),
    store: {
      log: stderrLine,
      ...(values["cache-dir"] ? { cacheDir: values["cache-dir"] } : {}),
      ...(values["s3-endpoint"] ? { endpoint: values["s3-endpoint"] } : {}),
    },
  });
  process.stderr.write(
    `quantized ${r.quantizedNodes} MatMul/Gemm nodes (${r.skippedNodes} left in fp32: no constant 2-D weight); weights ${formatBytes(r.fp32Bytes)} → ${formatBytes(r.int8Bytes)}; ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  out(r.file);
}
