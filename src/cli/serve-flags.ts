import { parseArgs } from "node:util";
import { checkApiKeys } from "../api/auth.js";
import {
  DEFAULT_MAX_CLIENT_BATCH_SIZE,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_PAYLOAD_LIMIT,
} from "../api/defaults.js";
import { listFrom } from "../config/list.js";
import { engineOptions, intFlag, MODEL_FLAGS, MODEL_FLAGS_HELP } from "../config/model-flags.js";
import { SERVE_STORE_FLAGS, SERVE_STORE_HELP } from "../config/store-flags.js";
import { UsageError } from "../config/usage-error.js";
import { DEFAULT_TEMPLATE_LIMITS } from "../engine/template-limits.js";
import { splitModels } from "./multi-model.js";
import {
  CONCURRENT_REQUESTS_PER_WORKER,
  DEFAULT_SERVE_WORKERS,
  defaultMaxConcurrentRequests,
  HTTP_DEFAULTS,
} from "./serve-limits.js";
import { fromVllmArgs } from "./vllm-args.js";

export const SERVE_HELP = `Usage: edgepool serve [MODEL] [options]     (MODEL: the same as --model)

Serve a pooling model over HTTP: vLLM pooling routes, OpenAI /v1/embeddings, Cohere/Jina rerank
and TEI routes. /health answers 503 until the model has loaded.

Server options:
  --host HOST                   address to bind (default 0.0.0.0)
  --port N                      port (default 8000; 0 picks a free one)
  --api-key KEY                 require this key (Authorization: Bearer KEY); repeatable.
                                Also EDGEPOOL_API_KEYS=key1,key2. /health, /ping, /metrics,
                                /version, /docs and /openapi.json stay public.
  --max-client-batch-size N     most inputs per request (default ${DEFAULT_MAX_CLIENT_BATCH_SIZE})
  --payload-limit BYTES         largest request body (default ${DEFAULT_PAYLOAD_LIMIT}); larger gets 413
  --max-response-bytes BYTES    largest answer, estimated before running as inputs × tokens ×
                                width × 24 bytes (default ${DEFAULT_MAX_RESPONSE_BYTES}); larger gets 413.
                                Answers over 1 MB are streamed.
  --trust-request-chat-template accept chat_template in requests (refused by default, as vLLM);
                                each renders in a worker with a ${DEFAULT_TEMPLATE_LIMITS.heapMb} MB heap and a time limit
  --chat-template-timeout MS    time limit of a request's chat template (default ${DEFAULT_TEMPLATE_LIMITS.timeoutMs})
  --log-level LEVEL             trace|debug|info|warn|error|silent (default info)
  --shutdown-timeout SECONDS    on SIGTERM, wait this long for in-flight requests (default 30);
                                exits 1 when it had to cut any
  --headers-timeout SECONDS     longest wait for a request's headers (default ${HTTP_DEFAULTS.headersTimeoutMs / 1000})
  --request-timeout SECONDS     longest wait for a whole request, body included (default ${HTTP_DEFAULTS.requestTimeoutMs / 1000})
  --keep-alive-timeout SECONDS  close idle kept-alive connections after this (default ${HTTP_DEFAULTS.keepAliveTimeoutMs / 1000})
  (--max-concurrent-requests defaults, for serve, to ${CONCURRENT_REQUESTS_PER_WORKER} × workers:
   ${defaultMaxConcurrentRequests()} with the defaults; more get 429 at once)
  --fallback-model DIR          serve this folder when --model cannot be fetched (no network)
  --model B [--served-model-name NAME]
                                repeat --model to serve several models in one process; a
                                --served-model-name right after a later --model names that one.
                                Requests pick one by their "model" (none → the first); each has
                                its own engine, scheduler and limits (the same flags), sharing the CPU
  (serve runs the session in ${DEFAULT_SERVE_WORKERS} worker thread by default; --workers 0 runs it on the event loop)

vLLM spellings are accepted: --flag_name for --flag-name, --override-pooler-config (old name of
--pooler-config) and --task embed|classify|score|reward (old name, mapped to --convert with a
warning); --trust-remote-code is a no-op (no model code runs).

${SERVE_STORE_HELP}

${MODEL_FLAGS_HELP}`;

/** `serve`'s flags: the model flags, the server's, and the store's. */
export const SERVE_FLAGS = {
  ...MODEL_FLAGS,
  host: { type: "string" },
  port: { type: "string" },
  "api-key": { type: "string", multiple: true },
  "max-client-batch-size": { type: "string" },
  "payload-limit": { type: "string" },
  "max-response-bytes": { type: "string" },
  "trust-request-chat-template": { type: "boolean" },
  "chat-template-timeout": { type: "string" },
  "log-level": { type: "string" },
  "shutdown-timeout": { type: "string" },
  "fallback-model": { type: "string" },
  "headers-timeout": { type: "string" },
  "request-timeout": { type: "string" },
  "keep-alive-timeout": { type: "string" },
  ...SERVE_STORE_FLAGS,
} as const;

const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

/**
 * Keys from `--api-key` (each refused when empty or padded: an empty flag must never turn auth
 * off) and `EDGEPOOL_API_KEYS` (comma-separated; set but holding no key is refused too).
 */
export function staticApiKeys(flags: readonly string[], env: string | undefined): string[] {
  try {
    checkApiKeys(flags, "--api-key");
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const envKeys = listFrom(env);
  if (env !== undefined && env.trim() !== "" && envKeys.length === 0)
    throw new UsageError("EDGEPOOL_API_KEYS holds no key (comma-separated, non-empty keys)");
  return [...flags, ...envKeys];
}

type Values = ReturnType<typeof parseArgs<{ options: typeof SERVE_FLAGS }>>["values"];

/** Node's HTTP timeouts from the flags; headers must arrive within the request timeout. */
function httpTimeouts(values: Values) {
  const seconds = (flag: string, text: string | undefined, fallbackMs: number) =>
    (intFlag(flag, text) ?? fallbackMs / 1000) * 1000;
  const requestTimeout = seconds(
    "request-timeout",
    values["request-timeout"],
    HTTP_DEFAULTS.requestTimeoutMs,
  );
  const headersTimeout = seconds(
    "headers-timeout",
    values["headers-timeout"],
    HTTP_DEFAULTS.headersTimeoutMs,
  );
  return {
    headersTimeout: Math.min(headersTimeout, requestTimeout),
    requestTimeout,
    keepAliveTimeout: seconds(
      "keep-alive-timeout",
      values["keep-alive-timeout"],
      HTTP_DEFAULTS.keepAliveTimeoutMs,
    ),
    connectionsCheckingInterval: HTTP_DEFAULTS.checkIntervalMs,
  };
}

/** The request limits of the app (`createApp`'s options). */
function requestLimits(values: Values) {
  return {
    maxClientBatchSize:
      intFlag("max-client-batch-size", values["max-client-batch-size"]) ??
      DEFAULT_MAX_CLIENT_BATCH_SIZE,
    payloadLimit: intFlag("payload-limit", values["payload-limit"]) ?? DEFAULT_PAYLOAD_LIMIT,
    trustRequestChatTemplate: values["trust-request-chat-template"] ?? false,
    chatTemplateLimits: {
      ...DEFAULT_TEMPLATE_LIMITS,
      timeoutMs:
        intFlag("chat-template-timeout", values["chat-template-timeout"]) ??
        DEFAULT_TEMPLATE_LIMITS.timeoutMs,
    },
    maxResponseBytes:
      intFlag("max-response-bytes", values["max-response-bytes"]) ?? DEFAULT_MAX_RESPONSE_BYTES,
  };
}

/**
 * Every flag of `serve`, read and checked before the model starts loading (a usage error exits
 * at once): vLLM's spellings, the further `--model`s, the engine's options with serve's defaults,
 * the listener, the app's limits and the shutdown timeout.
 */
export function parseServeFlags(argv: readonly string[]) {
  const vllm = fromVllmArgs(argv, { positionalModel: true, options: SERVE_FLAGS });
  const { argv: args, extras } = splitModels(vllm.argv);
  const { values } = parseArgs({ args, options: SERVE_FLAGS });
  const level = values["log-level"] ?? "info";
  if (!LEVELS.includes(level))
    throw new UsageError(`--log-level must be one of ${LEVELS.join(", ")}`);
  const engine = engineOptions(values);
  engine.workers ??= DEFAULT_SERVE_WORKERS;
  engine.maxConcurrentRequests ??= defaultMaxConcurrentRequests(engine.workers);
  engine.servedModelName ??= engine.model;
  const port = intFlag("port", values.port, 0) ?? 8000;
  if (port > 65535) throw new UsageError("--port must be at most 65535");
  return {
    values,
    notes: vllm.notes,
    extras,
    level,
    engine,
    servedName: engine.servedModelName,
    fallback: values["fallback-model"],
    listen: { hostname: values.host ?? "0.0.0.0", port, serverOptions: httpTimeouts(values) },
    apiKeys: staticApiKeys(values["api-key"] ?? [], process.env.EDGEPOOL_API_KEYS),
    shutdownMs: (intFlag("shutdown-timeout", values["shutdown-timeout"], 0) ?? 30) * 1000,
    limits: requestLimits(values),
  };
}

export type ServeFlags = ReturnType<typeof parseServeFlags>;
