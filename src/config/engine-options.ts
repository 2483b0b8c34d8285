import { existsSync, readFileSync } from "node:fs";
import type { Convert, Runner } from "../core/index.js";
import type { Device, EngineOptions } from "../engine/index.js";
import { SCORE_TEMPLATES } from "../engine/score-template.js";
import type { Dtype } from "../models/index.js";
import { type FlagValues, intFlag, jsonFlag, oneOf } from "./flags.js";
import type { MODEL_FLAGS } from "./model-flags.js";
import { UsageError } from "./usage-error.js";

/** `--s3-timeout SECONDS` as bucket options. */
export function s3Timeout(text: string | undefined): { timeoutMs?: number } {
  const seconds = intFlag("s3-timeout", text);
  return seconds === undefined ? {} : { timeoutMs: seconds * 1000 };
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

/** The engine's options from the model flags a command was given (each checked). */
export function engineOptions(values: FlagValues<typeof MODEL_FLAGS>): EngineOptions {
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
  set("poolerConfig", jsonFlag("pooler-config", values["pooler-config"]));
  set("hfOverrides", jsonFlag("hf-overrides", values["hf-overrides"]));
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
  const inline = oneOf("inline-session", values["inline-session"], ["auto", "on", "off"] as const);
  if (inline !== undefined) opts.inlineSession = inline === "auto" ? "auto" : inline === "on";
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
