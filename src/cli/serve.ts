import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { parseArgs } from "node:util";
import { checkApiKeys } from "../api/auth.js";
import {
  DEFAULT_MAX_CLIENT_BATCH_SIZE,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_PAYLOAD_LIMIT,
} from "../api/defaults.js";
import { listFrom } from "../config/list.js";
import { engineOptions, intFlag, MODEL_FLAGS, MODEL_FLAGS_HELP } from "../config/model-flags.js";
import { SERVE_STORE_FLAGS, SERVE_STORE_HELP, storeServices } from "../config/store-flags.js";
import { UsageError } from "../config/usage-error.js";
import type { Engine } from "../engine/index.js";
import { prewarmWorkers } from "../engine/node/prewarm.js";
import { DEFAULT_TEMPLATE_LIMITS } from "../engine/template-limits.js";
import { loadExtraModels, modelMemory, splitModels } from "./multi-model.js";
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

export function packageVersion(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
    ) as { version?: string };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

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

/**
 * Exiting while a worker thread is still creating its ONNX session aborts natively (no exit
 * code): on a failure after the load started, let it settle (bounded), then close the engine.
 */
async function closeWhenSettled(loading: Promise<Engine>): Promise<void> {
  const settled = loading.then((engine) => engine.close()).catch(() => undefined);
  await Promise.race([settled, new Promise((r) => setTimeout(r, 10_000).unref())]);
}

const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

export async function serveCommand(argv: string[]): Promise<void> {
  const options = {
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
  const vllm = fromVllmArgs(argv, { positionalModel: true, options });
  const { argv: args, extras } = splitModels(vllm.argv);
  const { values } = parseArgs({ args, options });
  const level = values["log-level"] ?? "info";
  if (!LEVELS.includes(level))
    throw new UsageError(`--log-level must be one of ${LEVELS.join(", ")}`);
  const engineOpts = engineOptions(values);
  engineOpts.workers ??= DEFAULT_SERVE_WORKERS;
  engineOpts.maxConcurrentRequests ??= defaultMaxConcurrentRequests(engineOpts.workers);
  const seconds = (flag: string, text: string | undefined, fallbackMs: number) =>
    (intFlag(flag, text) ?? fallbackMs / 1000) * 1000;
  const serverOptions = {
    headersTimeout: seconds(
      "headers-timeout",
      values["headers-timeout"],
      HTTP_DEFAULTS.headersTimeoutMs,
    ),
    requestTimeout: seconds(
      "request-timeout",
      values["request-timeout"],
      HTTP_DEFAULTS.requestTimeoutMs,
    ),
    keepAliveTimeout: seconds(
      "keep-alive-timeout",
      values["keep-alive-timeout"],
      HTTP_DEFAULTS.keepAliveTimeoutMs,
    ),
    connectionsCheckingInterval: HTTP_DEFAULTS.checkIntervalMs,
  };
  // Node requires headers within the request timeout.
  serverOptions.headersTimeout = Math.min(
    serverOptions.headersTimeout,
    serverOptions.requestTimeout,
  );
  const port = intFlag("port", values.port, 0) ?? 8000;
  if (port > 65535) throw new UsageError("--port must be at most 65535");
  const hostname = values.host ?? "0.0.0.0";
  const apiKeys = staticApiKeys(values["api-key"] ?? [], process.env.EDGEPOOL_API_KEYS);
  const shutdownMs = (intFlag("shutdown-timeout", values["shutdown-timeout"], 0) ?? 30) * 1000;
  // Every flag is read before the model starts loading: a usage error exits at once.
  const limits = {
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
  const servedName = engineOpts.servedModelName ?? engineOpts.model;
  engineOpts.servedModelName = servedName;
  // The CLI started the default number of workers before loading this module; settle the count.
  prewarmWorkers(engineOpts.workers);
  // Start loading the model first: its session loads in a worker thread while this thread
  // loads the logger, the store and the HTTP stack, once the session is under way. The outcome is
  // handled once the server listens.
  const sessionLoading = new Promise<void>((resolve) => {
    engineOpts.onSessionLoading = resolve;
  });
  const fallback = values["fallback-model"];
  let loadedFrom = engineOpts.model;
  const rssBefore = process.memoryUsage().rss;
  const loading: Promise<Engine> = import("../engine/node/load.js").then(async ({ loadEngine }) => {
    try {
      return await loadEngine(engineOpts);
    } catch (err) {
      if (!fallback || (err as Error).name !== "ModelStoreError") throw err;
      (await logging).log.warn(
        { model: engineOpts.model, error: (err as Error).message, fallback },
        "could not fetch the model; serving the fallback model instead",
      );
      loadedFrom = fallback;
      return loadEngine({ ...engineOpts, model: fallback });
    }
  });
  // Signals are handled from here on: one that arrives before the server listens stops the load
  // (the session is closed once created; an exit during its creation aborts natively).
  let stopping = false;
  // The further models' loads (serve --model a --model b), closed like the first one on stop.
  const extraLoads: Promise<Engine>[] = [];
  let onStop = (_signal: string): void => {
    void closeWhenSettled(loading).then(() => process.exit(0));
  };
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    onStop(signal);
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  // Loaded after the model's modules (they come first), before loadEngine runs (a later tick).
  // (Wrapped: pino's Logger type has a string index signature, which `await` reads as a `then`.)
  const logging = import("pino").then(({ default: pino }) => ({
    log: pino({ level, base: { service: "edgepool" } }),
  }));
  engineOpts.onWarning = (message) => void logging.then(({ log }) => log.warn(message));
  // Download progress and cache notes (a bar instead when stderr is a terminal).
  engineOpts.store = {
    ...engineOpts.store,
    log: (message) => void logging.then(({ log }) => log.info(message)),
  };
  engineOpts.onPhase = (phase, ms) =>
    void logging.then(({ log }) =>
      phase === "mapped_weights"
        ? log.info(
            { ms: Math.round(ms), cacheDir: engineOpts.store?.cacheDir },
            "wrote a copy of the graph with its weights in an external data file into the model cache; later starts map it (--mapped-weights off to load the graph as it is)",
          )
        : log.debug({ phase, ms: Math.round(ms) }, "load phase"),
    );
  // The logger, the store and the HTTP stack load while the session does; a failure here stops
  // the load before it is reported (an exit during session creation aborts natively).
  const stack = async () => {
    const { log } = await logging;
    for (const note of vllm.notes) log.warn(note);
    const services = await storeServices(values, log, process.env, {
      redis: async (url, store, log) => {
        const { RedisLimiter } = await import("../metering/redis-limiter.js");
        return RedisLimiter.connect(
          url,
          (id, from) => store.ledger.spent(id, from),
          (err) => log.error({ err: (err as Error).message }, "redis"),
        );
      },
    });
    await Promise.race([
      sessionLoading,
      loading.then(
        () => undefined,
        () => undefined,
      ),
    ]);
    const [{ createApp, ModelHost }, { serve: serveNode }] = await Promise.all([
      import("../api/index.js"),
      import("@hono/node-server"),
    ]);
    const host = new ModelHost([servedName]);
    const extraHosts = extras.map((m) => new ModelHost([m.servedModelName]));
    const { app, jobs } = createApp(host, {
      models: extraHosts,
      apiKeys,
      meter: services?.meter,
      jobs: services?.jobs,
      logger: log,
      version: packageVersion(),
      ...limits,
    });
    return { log, services, host, extraHosts, app, jobs, serveNode };
  };
  let started: Awaited<ReturnType<typeof stack>>;
  try {
    started = await stack();
  } catch (err) {
    await closeWhenSettled(loading);
    throw err;
  }
  const { log, services, host, extraHosts, app, jobs, serveNode } = started;
  if (stopping) return;

  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const s = serveNode({ fetch: app.fetch, hostname, port, serverOptions }, () =>
        resolve(s as Server),
      );
      s.once("error", reject);
    });
  } catch (err) {
    // The model's worker threads would keep the process alive: stop here, loudly.
    log.fatal({ err: (err as Error).message, host: hostname, port }, "cannot listen");
    await closeWhenSettled(loading);
    process.exit(1);
  }
  // Requests accepted and not yet answered: a shutdown that cuts any exits non-zero.
  let inFlight = 0;
  server.on("request", (_req, res) => {
    inFlight++;
    res.once("close", () => inFlight--);
  });
  const address = server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  log.info(
    {
      url: `http://${hostname}:${actualPort}`,
      model: engineOpts.model,
      auth: apiKeys.length > 0 || services !== null,
    },
    "listening",
  );

  onStop = (signal: string) => {
    host.state = "stopping";
    log.info({ signal }, "shutting down: finishing in-flight requests");
    let cut = 0;
    const force = setTimeout(() => {
      cut = inFlight;
      log.warn({ cut }, "shutdown timeout: closing remaining connections");
      server.closeAllConnections();
    }, shutdownMs);
    force.unref();
    server.close(async () => {
      // Jobs under way finish (or their lease lapses); every ledger row recorded is written.
      await jobs?.stop();
      // A model may still be loading: its session is closed once created.
      await closeWhenSettled(loading);
      for (const extra of extraLoads) await closeWhenSettled(extra);
      await services?.meter
        .close()
        .catch((err: Error) => log.error({ err: err.message }, "ledger"));
      await services?.store.close();
      log.info({ cut }, "stopped");
      process.exit(cut > 0 ? 1 : 0);
    });
    server.closeIdleConnections();
    setInterval(() => server.closeIdleConnections(), 50).unref();
  };

  try {
    const engine = await loading;
    if (engine.config._edgepool_fixture) {
      log.warn(
        { model: loadedFrom, note: engine.config._edgepool_fixture },
        "SERVING A TEST FIXTURE WITH RANDOM WEIGHTS: its outputs mean nothing. Pass --model with a real model folder.",
      );
    }
    if (engine.deviceFallback) {
      log.warn({ reason: engine.deviceFallback }, "--device auto: running on the CPU");
    }
    host.memory = await modelMemory(engine, rssBefore);
    log.info({ model: servedName, memory: host.memory }, "model loaded");
    await loadExtraModels(extras, extraHosts, engineOpts, log, {
      loads: extraLoads,
      stopping: () => stopping,
    });
    if (stopping) return;
    host.setReady(engine);
    if (services?.runWorker) jobs?.start();
    log.info(
      {
        model: servedName,
        models:
          extras.length > 0 ? [servedName, ...extras.map((m) => m.servedModelName)] : undefined,
        tasks: engine.tasks,
        maxModelLen: engine.maxModelLen,
        device: engine.device,
      },
      "model ready",
    );
  } catch (err) {
    log.fatal({ err: (err as Error).message }, "model failed to load");
    host.setFailed((err as Error).message);
    server.close();
    process.exit(1);
  }
}
