import { s3Timeout } from "../config/engine-options.js";
import { type FlagTable, pickFlags } from "../config/flags.js";
import { MODEL_SOURCE_FLAGS } from "../config/model-flags.js";
import { UsageError } from "../config/usage-error.js";
import { type Dtype, pinModel, verifyPinned } from "../models/index.js";
import { stderrLine } from "../models/progress.js";
import { parseCommandLine } from "./args.js";
import { renderHelp } from "./help.js";

const PIN_FLAGS = {
  to: {
    type: "string",
    value: "URI",
    help: "destination: s3://bucket/prefix or r2://bucket/prefix (required)",
  },
  name: { type: "string", value: "NAME", help: "folder under --to", shown: "the model's name" },
  ...pickFlags(MODEL_SOURCE_FLAGS, "revision", "dtype"),
  // pin's own: a boolean (serve's --mapped-weights on|off|auto chooses how a model is loaded).
  "mapped-weights": {
    type: "boolean",
    help: "pin the graph with its weights in a page-aligned <graph>_data file, which ONNX Runtime maps instead of copying: a faster session start where the model cache starts empty (AWS Lambda); same outputs",
  },
  ...pickFlags(MODEL_SOURCE_FLAGS, "cache-dir", "s3-endpoint", "s3-timeout"),
} as const satisfies FlagTable;

export const PIN_HELP = renderHelp({
  usage: ["edgepool pin <hub-id | dir> --to s3://bucket/models/ [options]"],
  about: [
    "Pin a model to your bucket: hash every file it needs (configs, tokenizer, sentence-transformers modules, the ONNX variant) into edgepool.manifest.json, upload the files and then the manifest under <to>/<name>/<manifest-sha256>/, and print that URI for EDGEPOOL_MODEL_URI or --model.",
  ],
  flags: PIN_FLAGS,
  sections: [
    {
      title: "Options",
      flags: Object.keys(PIN_FLAGS) as (keyof typeof PIN_FLAGS)[],
      text: "Hub downloads use HF_TOKEN when set, and HF_ENDPOINT to reach a mirror.",
    },
  ],
  examples: [
    {
      say: "a Hub model into a bucket; prints its s3:// URI",
      run: "edgepool pin BAAI/bge-small-en-v1.5 --to s3://my-bucket/models/",
    },
  ],
});

const VERIFY_FLAGS = pickFlags(MODEL_SOURCE_FLAGS, "s3-endpoint", "s3-timeout");

export const VERIFY_HELP = renderHelp({
  usage: ["edgepool verify <s3://… | r2://…> [options]"],
  about: [
    "Download the manifest of a pinned model and re-hash every file in the bucket against it. Exits 0 when every file matches; otherwise names the file and both sha256 values.",
  ],
  flags: VERIFY_FLAGS,
  sections: [{ title: "Options", flags: ["s3-endpoint", "s3-timeout"] }],
});

function dtypeOf(text: string | undefined): Dtype | undefined {
  if (text === undefined) return undefined;
  if (text !== "fp32" && text !== "fp16" && text !== "q8")
    throw new UsageError("--dtype must be fp32, fp16 or q8");
  return text;
}

export async function pinCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseCommandLine(argv, PIN_FLAGS, { positionals: true });
  const [source, ...rest] = positionals;
  if (!source || rest.length > 0)
    throw new UsageError("Give exactly one model: a Hub id or a folder");
  if (!values.to) throw new UsageError("--to s3://bucket/prefix is required");
  const dtype = dtypeOf(values.dtype);
  const result = await pinModel(source, values.to, {
    ...(values.revision ? { revision: values.revision } : {}),
    ...(values.name ? { name: values.name } : {}),
    ...(dtype ? { dtype } : {}),
    ...(values["mapped-weights"] ? { mappedWeights: true } : {}),
    log: stderrLine,
    ...(values["cache-dir"] ? { cacheDir: values["cache-dir"] } : {}),
    ...(values["s3-endpoint"] ? { endpoint: values["s3-endpoint"] } : {}),
    ...s3Timeout(values["s3-timeout"]),
  });
  const bytes = result.manifest.files.reduce((n, f) => n + f.size, 0);
  process.stderr.write(
    `pinned ${result.manifest.files.length} files (${(bytes / 1e6).toFixed(1)} MB), manifest sha256 ${result.manifestSha256}\n`,
  );
  out(result.uri);
}

export async function verifyCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseCommandLine(argv, VERIFY_FLAGS, { positionals: true });
  if (positionals.length !== 1) throw new UsageError("Give exactly one s3:// or r2:// URI");
  const report = await verifyPinned(positionals[0]!, {
    ...(values["s3-endpoint"] ? { endpoint: values["s3-endpoint"] } : {}),
    ...s3Timeout(values["s3-timeout"]),
  });
  out(`ok: ${report.files} files, ${report.bytes} bytes match manifest ${report.manifestSha256}`);
}
