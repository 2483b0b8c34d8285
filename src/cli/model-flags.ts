import type { ParseArgsConfig } from "node:util";
import type { Convert, JsonObject, Runner } from "../core/index.js";
import { isJsonObject } from "../core/index.js";
import { type Device, ENGINE_DEFAULTS, type EngineOptions } from "../engine/index.js";

/** Flags shared by every command that loads a model (vLLM's names). */
export const MODEL_FLAGS = {
  model: { type: "string" },
  "served-model-name": { type: "string" },
  runner: { type: "string" },
  convert: { type: "string" },
  "pooler-config": { type: "string" },
  "hf-overrides": { type: "string" },
  "max-model-len": { type: "string" },
  device: { type: "string" },
  "onnx-file": { type: "string" },
  "max-batch-size": { type: "string" },
  "max-batch-tokens": { type: "string" },
  "max-concurrent-requests": { type: "string" },
  "min-batch-efficiency": { type: "string" },
  workers: { type: "string" },
  "intra-op-threads": { type: "string" },
  "inter-op-threads": { type: "string" },
  "graph-optimization-level": { type: "string" },
  "no-mem-arena": { type: "boolean" },
  "allow-spinning": { type: "boolean" },
} as const satisfies ParseArgsConfig["options"];

export const MODEL_FLAGS_HELP = `Model options:
  --model DIR                 model folder (Hugging Face / optimum ONNX layout)
  --served-model-name NAME    name used in responses (default: --model)
  --runner auto|pooling       runner (only pooling models are served)
  --convert auto|embed|classify
                              override the task implied by the architecture
  --pooler-config JSON        e.g. '{"pooling_type":"MEAN","normalize":true}'
  --hf-overrides JSON         merged into config.json, e.g. '{"is_matryoshka":true}'
  --max-model-len N           refuse (or truncate) prompts longer than N tokens
  --device cpu|cuda           execution provider (default cpu)
  --onnx-file PATH            ONNX file inside the folder (default onnx/model.onnx)
  --max-batch-size N          most sequences per micro-batch (default ${ENGINE_DEFAULTS.maxBatchSize})
  --max-batch-tokens N        padded-token budget per micro-batch, longest × count
                              (default ${ENGINE_DEFAULTS.maxBatchTokens})
  --max-concurrent-requests N requests queued or running before 429 (default ${ENGINE_DEFAULTS.maxConcurrentRequests})
  --min-batch-efficiency F    keep real/computed tokens per micro-batch ≥ F, 0–1
                              (default ${ENGINE_DEFAULTS.minBatchEfficiency}; 0 packs by budget alone)
  --workers N                 worker threads with a session each; 0 = main thread
  --intra-op-threads N        ONNX Runtime threads per session (default: ONNX Runtime's choice)
  --inter-op-threads N        ONNX Runtime inter-op threads
  --graph-optimization-level disabled|basic|extended|all  (default all)
  --no-mem-arena              disable ONNX Runtime's CPU memory arena (less memory, slower)
  --allow-spinning            let ONNX Runtime threads spin between tasks (lower latency when
                              idle; steals cores from the event loop under load)`;

export class UsageError extends Error {}

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
  if (!values.model) throw new UsageError("--model is required");
  const opts: EngineOptions = { model: values.model };
  const set = <K extends keyof EngineOptions>(k: K, v: EngineOptions[K] | undefined) => {
    if (v !== undefined) opts[k] = v;
  };
  set("servedModelName", values["served-model-name"]);
  set("runner", oneOf<Runner>("runner", values.runner, ["auto", "pooling"]));
  set("convert", oneOf<Convert>("convert", values.convert, ["auto", "embed", "classify", "none"]));
  set("poolerConfig", json("pooler-config", values["pooler-config"]));
  set("hfOverrides", json("hf-overrides", values["hf-overrides"]));
  set("maxModelLen", intFlag("max-model-len", values["max-model-len"]));
  set("device", oneOf<Device>("device", values.device, ["cpu", "cuda"]));
  set("onnxFile", values["onnx-file"]);
  set("maxBatchSize", intFlag("max-batch-size", values["max-batch-size"]));
  set("maxBatchTokens", intFlag("max-batch-tokens", values["max-batch-tokens"]));
  set(
    "maxConcurrentRequests",
    intFlag("max-concurrent-requests", values["max-concurrent-requests"]),
  );
  set("workers", intFlag("workers", values.workers, 0));
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
  if (values["allow-spinning"]) session.allowSpinning = true;
  opts.session = session;
  return opts;
}
