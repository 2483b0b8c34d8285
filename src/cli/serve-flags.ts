import { checkApiKeys } from "../api/auth.js";
import {
  DEFAULT_MAX_CLIENT_BATCH_SIZE,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_PAYLOAD_LIMIT,
} from "../api/defaults.js";
import { engineOptions } from "../config/engine-options.js";
import { type FlagTable, type FlagValues, intFlag } from "../config/flags.js";
import { listFrom } from "../config/list.js";
import { MODEL_FLAGS } from "../config/model-flags.js";
import {
  DEFAULT_SERVE_WORKERS,
  defaultMaxConcurrentRequests,
  HTTP_DEFAULTS,
} from "../config/serve-limits.js";
import { SERVE_STORE_FLAGS } from "../config/store-flags.js";
import { UsageError } from "../config/usage-error.js";
import { DEFAULT_TEMPLATE_LIMITS } from "../engine/template-limits.js";
import { parseCommandLine } from "./args.js";
import { splitModels } from "./multi-model.js";
import { fromVllmArgs } from "./vllm-args.js";

/** The server's own flags: where it listens, its keys, timeouts and request limits. */
export const SERVER_FLAGS = {
  host: { type: "string", value: "HOST", help: "address to bind", shown: "0.0.0.0" },
  port: { type: "string", value: "N", help: "port; 0 picks a free one", shown: 8000 },
  "api-key": {
    type: "string",
    multiple: true,
    value: "KEY",
    help: "require this key (Authorization: Bearer KEY); repeatable; also EDGEPOOL_API_KEYS=a,b. /health, /ping, /metrics, /version and /docs stay public",
  },
  "log-level": {
    type: "string",
    value: "LEVEL",
    help: "trace, debug, info, warn, error or silent",
    shown: "info",
  },
  "shutdown-timeout": {
    type: "string",
    value: "SECONDS",
    help: "on SIGTERM, wait this long for requests in flight (exit 1 if any is cut)",
    shown: 30,
  },
  "headers-timeout": {
    type: "string",
    value: "SECONDS",
    help: "longest wait for a request's headers",
    shown: HTTP_DEFAULTS.headersTimeoutMs / 1000,
  },
  "request-timeout": {
    type: "string",
    value: "SECONDS",
    help: "longest wait for a whole request, body included",
    shown: HTTP_DEFAULTS.requestTimeoutMs / 1000,
  },
  "keep-alive-timeout": {
    type: "string",
    value: "SECONDS",
    help: "close idle kept-alive connections after this",
    shown: HTTP_DEFAULTS.keepAliveTimeoutMs / 1000,
  },
  "trust-request-chat-template": {
    type: "boolean",
    help: `accept chat_template in requests (refused by default, as vLLM); each renders in a worker with a ${DEFAULT_TEMPLATE_LIMITS.heapMb} MB heap and a time limit`,
  },
  "chat-template-timeout": {
    type: "string",
    value: "MS",
    help: "time limit of a request's chat template",
    shown: DEFAULT_TEMPLATE_LIMITS.timeoutMs,
  },
  "max-client-batch-size": {
    type: "string",
    value: "N",
    help: "most inputs per request",
    shown: DEFAULT_MAX_CLIENT_BATCH_SIZE,
  },
  "payload-limit": {
    type: "string",
    value: "BYTES",
    help: "largest request body; larger gets 413",
    shown: DEFAULT_PAYLOAD_LIMIT,
  },
  "max-response-bytes": {
    type: "string",
    value: "BYTES",
    help: "largest answer, estimated as inputs × tokens × width × 24 bytes before running; more gets 413",
    shown: DEFAULT_MAX_RESPONSE_BYTES,
  },
  "fallback-model": {
    type: "string",
    value: "DIR",
    help: "serve this folder when --model cannot be fetched; the log says so, and why",
  },
} as const satisfies FlagTable;

/** `serve`'s flags: the model's, the server's, and the store's. */
export const SERVE_FLAGS = {
  ...MODEL_FLAGS,
  ...SERVER_FLAGS,
  ...SERVE_STORE_FLAGS,
} as const satisfies FlagTable;

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

type Values = FlagValues<typeof SERVE_FLAGS>;

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
  const { values } = parseCommandLine(args, SERVE_FLAGS);
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
