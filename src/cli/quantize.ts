import { type FlagTable, pickFlags } from "../config/flags.js";
import { MODEL_SOURCE_FLAGS } from "../config/model-flags.js";
import { UsageError } from "../config/usage-error.js";
import { formatBytes, stderrLine } from "../models/progress.js";
import { parseCommandLine } from "./args.js";
import { renderHelp } from "./help.js";

const QUANTIZE_FLAGS = {
  out: {
    type: "string",
    value: "DIR",
    help: "destination folder (required; may be the model folder itself)",
  },
  "full-range": {
    type: "boolean",
    help: "8-bit weights instead of 7: slightly more accurate, only for CPUs with AVX-512 VNNI / AVX-VNNI or Arm (on other x86 CPUs 8-bit products saturate and outputs drift)",
  },
  "reduce-range": {
    type: "boolean",
    help: "7-bit weights, correct on every CPU (the default; ONNX Runtime's name for it)",
  },
  ...pickFlags(MODEL_SOURCE_FLAGS, "revision", "cache-dir", "s3-endpoint"),
} as const satisfies FlagTable;

export const QUANTIZE_HELP = renderHelp({
  usage: ["edgepool quantize <folder | hub-id | s3://…> --out DIR [options]"],
  about: [
    "Dynamic int8 quantization of the model's ONNX graph: every MatMul (and plain Gemm) with a constant weight becomes ONNX Runtime's DynamicQuantizeMatMul with per-output-channel int8 weights (activations are quantized at run time); everything else is unchanged. Writes the model's files plus onnx/model_quantized.onnx into --out and records it in edgepool.manifest.json.",
  ],
  flags: QUANTIZE_FLAGS,
  sections: [
    { title: "Options", flags: Object.keys(QUANTIZE_FLAGS) as (keyof typeof QUANTIZE_FLAGS)[] },
  ],
  examples: [
    {
      say: "an int8 copy, then serve it",
      run: "edgepool quantize ./bge-small-en-v1.5 --out ./bge-small-q8",
    },
    { say: "", run: "edgepool serve ./bge-small-q8 --dtype q8" },
  ],
});

export async function quantizeCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseCommandLine(argv, QUANTIZE_FLAGS, { positionals: true });
  const [given, ...rest] = positionals;
  if (!given || rest.length > 0)
    throw new UsageError("Give exactly one model: a folder, a Hub id or a pinned bucket URI");
  if (!values.out) throw new UsageError("--out <folder> is required");
  if (values["full-range"] && values["reduce-range"])
    throw new UsageError("--full-range and --reduce-range contradict each other: give one");
  const model = values.revision && !given.includes("@") ? `${given}@${values.revision}` : given;
  const { quantizeFolder } = await import("../onnx/folder.js");
  const t0 = performance.now();
  const r = await quantizeFolder(model, values.out, {
    ...(values["full-range"] ? { fullRange: true } : {}),
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
