import { parseArgs } from "node:util";
import { s3Timeout } from "../config/model-flags.js";
import { UsageError } from "../config/usage-error.js";
import { type Dtype, pinModel, verifyPinned } from "../models/index.js";
import { stderrLine } from "../models/progress.js";

export const PIN_HELP = `Usage: edgepool pin <hub-id | dir> --to s3://bucket/models/ [options]

Pin a model to your bucket: hash every file it needs (configs, tokenizer, sentence-transformers
modules, the ONNX variant) into edgepool.manifest.json, upload the files and then the manifest
under <to>/<name>/<manifest-sha256>/, and print that URI for EDGEPOOL_MODEL_URI / --model.

Options:
  --to URI              destination: s3://bucket/prefix or r2://bucket/prefix (required)
  --revision REV        Hub revision (branch, tag or commit; default main)
  --name NAME           folder name under --to (default: the model's name)
  --dtype fp32|fp16|q8  which ONNX variant to pin (default fp32)
  --mapped-weights      pin the ONNX graph with its weights in a page-aligned <graph>_data file,
                        which ONNX Runtime maps instead of copying: a faster session start where
                        the model cache starts empty (AWS Lambda); same outputs
  --cache-dir DIR       download cache for Hub models
  --s3-endpoint URL     S3-compatible endpoint (R2, MinIO; or AWS_ENDPOINT_URL)
  --s3-timeout SECONDS  longest wait to connect, and between bytes of an answer (default 10)

Hub downloads use HF_TOKEN when set, and HF_ENDPOINT to reach a mirror.`;

export const VERIFY_HELP = `Usage: edgepool verify <s3://… | r2://…> [--s3-endpoint URL] [--s3-timeout SECONDS]

Download the manifest of a pinned model and re-hash every file in the bucket against it.
Exits 0 when every file matches; otherwise names the file and both sha256 values.`;

function dtypeOf(text: string | undefined): Dtype | undefined {
  if (text === undefined) return undefined;
  if (text !== "fp32" && text !== "fp16" && text !== "q8")
    throw new UsageError("--dtype must be fp32, fp16 or q8");
  return text;
}

export async function pinCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      to: { type: "string" },
      revision: { type: "string" },
      name: { type: "string" },
      dtype: { type: "string" },
      "mapped-weights": { type: "boolean" },
      "cache-dir": { type: "string" },
      "s3-endpoint": { type: "string" },
      "s3-timeout": { type: "string" },
    },
  });
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
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { "s3-endpoint": { type: "string" }, "s3-timeout": { type: "string" } },
  });
  if (positionals.length !== 1) throw new UsageError("Give exactly one s3:// or r2:// URI");
  const report = await verifyPinned(positionals[0]!, {
    ...(values["s3-endpoint"] ? { endpoint: values["s3-endpoint"] } : {}),
    ...s3Timeout(values["s3-timeout"]),
  });
  out(`ok: ${report.files} files, ${report.bytes} bytes match manifest ${report.manifestSha256}`);
}
