import {
  defaultBatchTokensPerRequest,
  ENGINE_DEFAULTS,
  INLINE_AFTER_LONE_BATCHES,
  INLINE_SESSION_MAX_MIB,
} from "../engine/defaults.js";
import type { FlagTable } from "./flags.js";
import { CONCURRENT_REQUESTS_PER_WORKER, DEFAULT_SERVE_WORKERS } from "./serve-limits.js";

/** Where the model comes from (`serve`, `embed`; `pin`, `verify` and `quantize` take some). */
export const MODEL_SOURCE_FLAGS = {
  model: {
    type: "string",
    value: "MODEL",
    help: "a folder (Hugging Face / optimum ONNX layout), a Hub id org/name, or a pinned s3:// or r2:// URI; also EDGEPOOL_MODEL_URI",
  },
  revision: {
    type: "string",
    value: "REV",
    help: "Hub revision: branch, tag or commit",
    shown: "main",
  },
  dtype: {
    type: "string",
    value: "fp32|fp16|q8",
    help: "ONNX file: onnx/model.onnx, model_fp16.onnx or model_quantized.onnx",
    shown: "fp32",
  },
  "onnx-file": {
    type: "string",
    value: "PATH",
    help: "the ONNX file in the folder, in place of --dtype's",
  },
  "cache-dir": {
    type: "string",
    value: "DIR",
    help: "download cache; also EDGEPOOL_CACHE_DIR",
    shown: "~/.cache/edgepool; /tmp/edgepool on Lambda",
  },
  "s3-endpoint": {
    type: "string",
    value: "URL",
    help: "S3-compatible endpoint for s3:// and r2:// URIs; also AWS_ENDPOINT_URL",
  },
  "s3-timeout": {
    type: "string",
    value: "SECONDS",
    help: "longest wait to connect to a bucket, and between bytes; 3 attempts",
    shown: 10,
  },
} as const satisfies FlagTable;

/** How the model is read: vLLM's model configuration. */
export const MODEL_CONFIG_FLAGS = {
  runner: {
    type: "string",
    value: "auto|pooling",
    help: "only pooling models are served",
    shown: "auto",
  },
  convert: {
    type: "string",
    value: "auto|none|embed|classify|reward",
    help: "the task, in place of the architecture's (reward: deprecated in vLLM)",
    shown: "auto",
  },
  "pooler-config": {
    type: "string",
    value: "JSON",
    help: `vLLM's pooler config, e.g. '{"pooling_type":"MEAN","normalize":true}'`,
  },
  "hf-overrides": {
    type: "string",
    value: "JSON",
    help: `merged into config.json, e.g. '{"is_matryoshka":true}'`,
  },
  "max-model-len": {
    type: "string",
    value: "N",
    help: "refuse longer prompts, in tokens (cut them with --auto-truncate)",
    shown: "the model's",
  },
  "auto-truncate": {
    type: "boolean",
    help: "cut prompts over the limit instead of refusing them, unless the request says (TEI)",
  },
} as const satisfies FlagTable;

/** ONNX Runtime: where and how the session runs. */
export const RUNTIME_FLAGS = {
  device: {
    type: "string",
    value: "cpu|cuda|auto",
    help: "execution provider; auto tries CUDA, else the CPU with a log line saying why",
    shown: "cpu",
  },
  "intra-op-threads": {
    type: "string",
    value: "N",
    help: "ONNX Runtime threads per session",
    shown: "the cores divided by the sessions",
  },
  "inter-op-threads": { type: "string", value: "N", help: "ONNX Runtime inter-op threads" },
  "graph-optimization-level": {
    type: "string",
    value: "LEVEL",
    help: "disabled, basic, extended or all",
    shown: "all",
  },
  "no-mem-arena": {
    type: "boolean",
    help: "no CPU memory arena in ONNX Runtime: less memory, slower",
  },
  spinning: {
    type: "string",
    value: "on|off",
    help: "ONNX Runtime threads spin between a run's operators (~0.8 ms faster per short run)",
    shown: "on",
  },
  "mapped-weights": {
    type: "string",
    value: "on|off|auto",
    help: "map the weights from a copy of the graph in the model cache (written at the first load): less memory, faster starts. auto: on, except on AWS Lambda and for models verified against a manifest",
    shown: "auto",
  },
} as const satisfies FlagTable;

/** How many sequences and tokens one micro-batch runs. */
export const BATCH_FLAGS = {
  "max-batch-size": {
    type: "string",
    value: "N",
    help: "most sequences per micro-batch",
    shown: ENGINE_DEFAULTS.maxBatchSize,
  },
  "max-batch-tokens": {
    type: "string",
    value: "N",
    help: "padded tokens per micro-batch (longest × count)",
    shown: `${ENGINE_DEFAULTS.maxBatchTokens} on the CPU, ${ENGINE_DEFAULTS.maxBatchTokensGpu} on a GPU`,
  },
} as const satisfies FlagTable;

/** The engine's flags that only a server needs: names, routes, scheduling and request limits. */
export const SERVED_MODEL_FLAGS = {
  "served-model-name": {
    type: "string",
    value: "NAME",
    help: "the name requests and responses use",
    shown: "--model",
  },
  "score-template": {
    type: "string",
    value: "NAME|FILE",
    help: "how /score and /rerank render a pair for an LLM reranker: qwen3_reranker or a Jinja file",
    shown: "qwen3_reranker when config.json has is_original_qwen3_reranker",
  },
  "io-processor-plugin": {
    type: "string",
    value: "NAME|MODULE",
    help: 'serve task "plugin" on /pooling with this IO processor: nearest-label (built in) or a module',
  },
  workers: {
    type: "string",
    value: "N",
    help: "threads with a session each; 0 runs it on the event loop (no thread hop, one session)",
    shown: DEFAULT_SERVE_WORKERS,
  },
  "inline-session": {
    type: "string",
    value: "auto|on|off",
    help: `with workers, also a session on the event loop for a small micro-batch that runs alone (a lone request skips the thread hop; created after ${INLINE_AFTER_LONE_BATCHES} lone requests in a row and released under concurrent load; while up, that session's memory again: ~45 MiB for MiniLM-L6, ~370 MB for BERT-base)`,
    shown: `auto: on for a graph of up to ${INLINE_SESSION_MAX_MIB} MiB with its external data`,
  },
  "max-batch-tokens-per-request": {
    type: "string",
    value: "N",
    help: "most tokens of one request per micro-batch (larger ones run as several, interleaved)",
    shown: `a quarter of --max-batch-tokens: ${defaultBatchTokensPerRequest(ENGINE_DEFAULTS.maxBatchTokens)} on the CPU`,
  },
  "min-batch-efficiency": {
    type: "string",
    value: "F",
    help: "keep real / computed tokens per micro-batch ≥ F (0–1; 0: by the token budget alone)",
    shown: ENGINE_DEFAULTS.minBatchEfficiency,
  },
  "max-concurrent-requests": {
    type: "string",
    value: "N",
    help: "requests queued or running; more get 429 at once",
    shown: `${CONCURRENT_REQUESTS_PER_WORKER} per worker thread`,
  },
  "max-input-chars": {
    type: "string",
    value: "N",
    help: "longest text input in characters, refused (400) before tokenizing",
    shown: ENGINE_DEFAULTS.maxInputChars,
  },
  "max-request-tokens": {
    type: "string",
    value: "N",
    help: "most prompt tokens of one request, summed over its inputs (a pair counts its joined tokens); more is refused (413) before any compute",
    shown: ENGINE_DEFAULTS.maxRequestTokens,
  },
} as const satisfies FlagTable;

/** Every flag of a command that loads a model (vLLM's names); the functions read each as env. */
export const MODEL_FLAGS = {
  ...MODEL_SOURCE_FLAGS,
  ...MODEL_CONFIG_FLAGS,
  ...RUNTIME_FLAGS,
  ...BATCH_FLAGS,
  ...SERVED_MODEL_FLAGS,
} as const satisfies FlagTable;
