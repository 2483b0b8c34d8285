import { existsSync, readFileSync } from "node:fs";
import type { ParseArgsConfig } from "node:util";
import type { Convert, JsonObject, Runner } from "../core/index.js";
import { isJsonObject } from "../core/index.js";
import { defaultBatchTokensPerRequest, ENGINE_DEFAULTS } from "../engine/defaults.js";
import type { Device, EngineOptions } from "../engine/index.js";
import { SCORE_TEMPLATES } from "../engine/score-template.js";
import type { Dtype } from "../models/index.js";
import { UsageError } from "./usage-error.js";

/** Flags shared by every command that loads a model (vLLM's names). */
export const MODEL_FLAGS = {
  model: { type: "string" },
  "served-model-name": { type: "string" },
  runner: { type: "string" },
  convert: { type: "string" },
  "pooler-config": { type: "string" },
  "hf-overrides": { type: "string" },
  "score-template": { type: "string" },
  "io-processor-plugin": { type: "string" },
  "max-model-len": { type: "string" },
  "auto-truncate": { type: "boolean" },
  device: { type: "string" },
  "onnx-file": { type: "string" },
  dtype: { type: "string" },
  revision: { type: "string" },
  "cache-dir": { type: "string" },
  "s3-endpoint": { type: "string" },
  "s3-timeout": { type: "string" },
  "max-batch-size": { type: "string" },
  "max-batch-tokens": { type: "string" },
  "max-batch-tokens-per-request": { type: "string" },
  "max-concurrent-requests": { type: "string" },
  "min-batch-efficiency": { type: "string" },
  "max-input-chars": { type: "string" },
  "max-request-tokens": { type: "string" },
  workers: { type: "string" },
  "intra-op-threads": { type: "string" },
  "inter-op-threads": { type: "string" },
  "graph-optimization-level": { type: "string" },
  "no-mem-arena": { type: "boolean" },
  spinning: { type: "string" },
  "mapped-weights": { type: "string" },
} as const satisfies ParseArgsConfig["options"];

export const MODEL_FLAGS_HELP = `Model options:
  --model MODEL               a model folder (Hugging Face / optimum ONNX layout), a pinned
                              s3://bucket/prefix or r2://bucket/prefix, or a Hub id org/name
                              (default: EDGEPOOL_MODEL_URI)
  --revision REV              Hub revision (branch, tag or commit; default main)
  --dtype fp32|fp16|q8        ONNX variant: onnx/model.onnx, model_fp16.onnx, model_quantized.onnx
  --cache-dir DIR             download cache (default ~/.cache/edgepool, /tmp/edgepool on Lambda,
                              or EDGEPOOL_CACHE_DIR)
  --s3-endpoint URL           S3-compatible endpoint for s3:// / r2:// (or AWS_ENDPOINT_URL)
  --s3-timeout SECONDS        longest wait to connect to the bucket, and between bytes of an
                              answer; 3 attempts (default 10)
  --served-model-name NAME    name used in responses (default: --model)
  --runner auto|pooling       runner (only pooling models are served)
  --convert auto|embed|classify|reward
                              override the task implied by the architecture (reward:
                              deprecated in vLLM; token_classify with a reward head, else embed)
  --pooler-config JSON        e.g. '{"pooling_type":"MEAN","normalize":true}'
  --hf-overrides JSON         merged into config.json, e.g. '{"is_matryoshka":true}'
  --io-processor-plugin NAME|MODULE
                              serve task "plugin" on /pooling with this IO processor: the
                              built-in nearest-label, or a module exporting one
  --score-template NAME|FILE  how /score and /rerank render a pair for an LLM reranker:
                              qwen3_reranker, or a Jinja file (messages: system = instruction,
                              query, document); default qwen3_reranker when the config has
                              is_original_qwen3_reranker
  --max-model-len N           refuse (or truncate) prompts longer than N tokens
  --auto-truncate             cut prompts over the limit instead of refusing them (TEI), unless
                              the request sets its own truncation
  --device cpu|cuda|auto      execution provider (default cpu); auto tries CUDA and falls back
                              to the CPU with one log line saying why
  --onnx-file PATH            ONNX file inside the folder (default onnx/model.onnx)
  --max-batch-size N          most sequences per micro-batch (default ${ENGINE_DEFAULTS.maxBatchSize})
  --max-batch-tokens N        padded-token budget per micro-batch, longest × count
                              (default ${ENGINE_DEFAULTS.maxBatchTokens})
  --max-batch-tokens-per-request N
                              most tokens of one request per micro-batch: a larger request
                              runs as several, interleaved with other requests', which wait
                              for about one such share (default: a quarter of
                              --max-batch-tokens, ${defaultBatchTokensPerRequest(ENGINE_DEFAULTS.maxBatchTokens)})
  --max-concurrent-requests N requests queued or running before 429 (default ${ENGINE_DEFAULTS.maxConcurrentRequests})
  --min-batch-efficiency F    keep real/computed tokens per micro-batch ≥ F, 0–1
                              (default ${ENGINE_DEFAULTS.minBatchEfficiency}; 0 packs by budget alone)
  --max-input-chars N         longest text input in characters, refused (400) before
                              tokenizing (default ${ENGINE_DEFAULTS.maxInputChars})
  --max-request-tokens N      most prompt tokens one request may run, summed over its inputs
                              after tokenization (a cross-encoder pair counts its joined
                              tokens); more is refused (413) before any compute
                              (default ${ENGINE_DEFAULTS.maxRequestTokens})
  --workers N                 worker threads with a session each; 0 = the event loop's thread
                              (no thread hop for a lone request, one session in memory)
  --intra-op-threads N        ONNX Runtime threads per session (default: the machine's cores
                              divided by the sessions, at least 1)
  --inter-op-threads N        ONNX Runtime inter-op threads
  --graph-optimization-level disabled|basic|extended|all  (default all)
  --no-mem-arena              disable ONNX Runtime's CPU memory arena (less memory, slower)
  --spinning on|off           ONNX Runtime threads spin between the operators of a run
                              (~0.8 ms faster per short run) and stop when it returns
                              (default on)
  --mapped-weights on|off|auto
                              create the session from a copy of the graph whose weights are in
                              an external data file in the cache (written at the first load),
                              which ONNX Runtime maps instead of copying: less memory, faster
                              starts, one more copy of the weights on disk (default auto: on,
                              except on AWS Lambda and for models verified against a manifest,
                              e.g. pinned: pin those with --mapped-weights)`;

/** `--s3-timeout SECONDS` as bucket options. */
export function s3Timeout(text: string | undefined): { timeoutMs?: number } {
  const seconds = intFlag("s3-timeout", text);
  return seconds === undefined ? {} : { timeoutMs: seconds * 1000 };
}

function json(flag: string, text: string | undefined): JsonObject | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--${flag} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isJsonObject(value)) throw new UsageError(`--${flag} must be a JSON object`);
  return value;
}

/** `--score-template`: a built-in name, or a Jinja file whose text is the template. */
function scoreTemplate(value: string | undefined): string | undefined {
  if (value === undefined || SCORE_TEMPLATES[value]) return value;
  if (!existsSync(value)) {
    throw new UsageError(
      `--score-template must be ${Object.keys(SCORE_TEMPLATES).join(", ")} or a Jinja file (${value} does not exist)`,
    );
  }
  return readFileSync(value, "utf8");
}

export function intFlag(flag: string, text: string | undefined, min = 1): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${flag} must be an integer ≥ ${min}`);
  return n;
}

function oneOf<T extends string>(
  flag: string,
  text: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (text === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(text)) {
    throw new UsageError(`--${flag} must be one of ${allowed.join(", ")}`);
  }
  return text as T;
}

type ModelFlagValues = {
  [K in keyof typeof MODEL_FLAGS]?: (typeof MODEL_FLAGS)[K]["type"] extends "boolean"
    ? boolean | undefined
    : string | undefined;
};

export function engineOptions(values: ModelFlagValues): EngineOptions {
  const given = values.model ?? process.env.EDGEPOOL_MODEL_URI;
  if (!given) throw new UsageError("--model is required (or set EDGEPOOL_MODEL_URI)");
  const model = values.revision && !given.includes("@") ? `${given}@${values.revision}` : given;
  const opts: EngineOptions = { model };
  opts.store = {
    ...(values["cache-dir"] ? { cacheDir: values["cache-dir"] } : {}),
    ...(values["s3-endpoint"] ? { endpoint: values["s3-endpoint"] } : {}),
    ...s3Timeout(values["s3-timeout"]),
  };
  const set = <K extends keyof EngineOptions>(k: K, v: EngineOptions[K] | undefined) => {
    if (v !== undefined) opts[k] = v;
  };
  set("servedModelName", values["served-model-name"]);
  set("dtype", oneOf<Dtype>("dtype", values.dtype, ["fp32", "fp16", "q8"]));
  set("runner", oneOf<Runner>("runner", values.runner, ["auto", "pooling"]));
  set(
    "convert",
    oneOf<Convert>("convert", values.convert, ["auto", "embed", "classify", "none", "reward"]),
  );
  set("poolerConfig", json("pooler-config", values["pooler-config"]));
  set("hfOverrides", json("hf-overrides", values["hf-overrides"]));
  set("scoreTemplate", scoreTemplate(values["score-template"]));
  set("ioProcessorPlugin", values["io-processor-plugin"]);
  set("maxModelLen", intFlag("max-model-len", values["max-model-len"]));
  if (values["auto-truncate"]) opts.autoTruncate = true;
  set("device", oneOf<Device>("device", values.device, ["cpu", "cuda", "auto"]));
  set("onnxFile", values["onnx-file"]);
  set("maxBatchSize", intFlag("max-batch-size", values["max-batch-size"]));
  set("maxBatchTokens", intFlag("max-batch-tokens", values["max-batch-tokens"]));
  set(
    "maxBatchTokensPerRequest",
    intFlag("max-batch-tokens-per-request", values["max-batch-tokens-per-request"]),
  );
  set(
    "maxConcurrentRequests",
    intFlag("max-concurrent-requests", values["max-concurrent-requests"]),
  );
  set("maxInputChars", intFlag("max-input-chars", values["max-input-chars"]));
  set("maxRequestTokens", intFlag("max-request-tokens", values["max-request-tokens"]));
  set("workers", intFlag("workers", values.workers, 0));
  const mapped = oneOf("mapped-weights", values["mapped-weights"], ["on", "off", "auto"] as const);
  if (mapped !== undefined) opts.mappedWeights = mapped === "auto" ? "auto" : mapped === "on";
  const efficiency = values["min-batch-efficiency"];
  if (efficiency !== undefined) {
    const f = Number(efficiency);
    if (!(f >= 0 && f <= 1)) throw new UsageError("--min-batch-efficiency must be between 0 and 1");
    opts.minBatchEfficiency = f;
  }
  const session: NonNullable<EngineOptions["session"]> = {};
  const intra = intFlag("intra-op-threads", values["intra-op-threads"]);
  const inter = intFlag("inter-op-threads", values["inter-op-threads"]);
  const level = oneOf("graph-optimization-level", values["graph-optimization-level"], [
    "disabled",
    "basic",
    "extended",
    "all",
  ] as const);
  if (intra !== undefined) session.intraOpNumThreads = intra;
  if (inter !== undefined) session.interOpNumThreads = inter;
  if (level !== undefined) session.graphOptimizationLevel = level;
  if (values["no-mem-arena"]) session.enableCpuMemArena = false;
  const spinning = oneOf("spinning", values.spinning, ["on", "off"] as const);
  if (spinning !== undefined) session.allowSpinning = spinning === "on";
  opts.session = session;
  return opts;
}
