import type { Logger } from "pino";
import type { ModelHost } from "../api/host.js";
import type { Engine } from "../engine/engine.js";
import type { EngineOptions } from "../engine/node/load.js";
import type { ExtraModel } from "./multi-model.js";
import { loadExtraModels, modelMemory } from "./multi-model.js";
import type { Shutdown } from "./shutdown.js";

type Logging = Promise<{ log: Logger }>;

/** The engine's warnings, download progress and load phases, written once the logger is up. */
export function logLoading(opts: EngineOptions, logging: Logging): void {
  opts.onWarning = (message) => void logging.then(({ log }) => log.warn(message));
  // Download progress and cache notes (a bar instead when stderr is a terminal).
  opts.store = {
    ...opts.store,
    log: (message) => void logging.then(({ log }) => log.info(message)),
  };
  opts.onPhase = (phase, ms) =>
    void logging.then(({ log }) =>
      phase === "mapped_weights"
        ? log.info(
            { ms: Math.round(ms), cacheDir: opts.store?.cacheDir },
            "wrote a copy of the graph with its weights in an external data file into the model cache; later starts map it (--mapped-weights off to load the graph as it is)",
          )
        : log.debug({ phase, ms: Math.round(ms) }, "load phase"),
    );
}

/** The first model's load, under way. */
export interface ModelLoad {
  loading: Promise<Engine>;
  /** Settles once the session has started loading (or the load failed before). */
  started: Promise<void>;
  /** What was loaded: `--model`, or `--fallback-model` when the model could not be fetched. */
  loadedFrom: () => string;
  /** Why `--fallback-model` is served instead of `--model`; null while it is not. */
  fallbackReason: () => string | null;
  rssBefore: number;
}

/**
 * Start loading the first model before anything else (its session loads in a worker thread while
 * this thread loads the logger, the store and the HTTP stack). A model that cannot be fetched
 * (`ModelStoreError`) is replaced by `--fallback-model`, with a warning.
 */
export function startModelLoad(
  opts: EngineOptions,
  fallback: string | undefined,
  /** The logger, loaded after the model's modules start loading. */
  logging: () => Logging,
): ModelLoad {
  const sessionLoading = new Promise<void>((resolve) => {
    opts.onSessionLoading = resolve;
  });
  let loadedFrom = opts.model;
  let fallbackReason: string | null = null;
  const rssBefore = process.memoryUsage().rss;
  const loading = import("../engine/node/load.js").then(async ({ loadEngine }) => {
    try {
      return await loadEngine(opts);
    } catch (err) {
      if (!fallback || (err as Error).name !== "ModelStoreError") throw err;
      (await logging()).log.warn(
        { model: opts.model, error: (err as Error).message, fallback },
        "could not fetch the model; serving the fallback model instead",
      );
      loadedFrom = fallback;
      fallbackReason = (err as Error).message;
      return loadEngine({ ...opts, model: fallback });
    }
  });
  const started = Promise.race([
    sessionLoading,
    loading.then(
      () => undefined,
      () => undefined,
    ),
  ]);
  return {
    loading,
    started,
    loadedFrom: () => loadedFrom,
    fallbackReason: () => fallbackReason,
    rssBefore,
  };
}

/** What the server serves (its `listening` and `model ready` lines say it). */
export function servedModels(load: ModelLoad, opts: EngineOptions, extras: readonly ExtraModel[]) {
  const names = [opts.servedModelName ?? opts.model, ...extras.map((m) => m.servedModelName)];
  // What was loaded: with --fallback-model, not the model the served name was meant for.
  return {
    model: names[0],
    ...(extras.length > 0 ? { models: names } : {}),
    loaded: load.loadedFrom(),
  };
}

/** Why `--fallback-model` is served, for the `listening` line; nothing when it is not. */
export function fallbackNote(load: ModelLoad, opts: EngineOptions): { fallback?: string } {
  const reason = load.fallbackReason();
  if (reason === null) return {};
  return { fallback: `serving --fallback-model: ${opts.model} could not be fetched: ${reason}` };
}

/**
 * Before the server listens: wait for the first model, say what it is, then load the further
 * ones. A model that fails throws (serve exits with one line, never having listened).
 */
export async function loadModels(
  load: ModelLoad,
  parts: {
    opts: EngineOptions;
    host: ModelHost;
    extras: readonly ExtraModel[];
    extraHosts: readonly ModelHost[];
    log: Logger;
    shutdown: Shutdown;
  },
): Promise<Engine> {
  const { host, log } = parts;
  const servedName = parts.opts.servedModelName ?? parts.opts.model;
  try {
    const engine = await load.loading;
    if (engine.config._edgepool_fixture) {
      log.warn(
        { model: load.loadedFrom(), note: engine.config._edgepool_fixture },
        "SERVING A TEST FIXTURE WITH RANDOM WEIGHTS: its outputs mean nothing. Pass --model with a real model folder.",
      );
    }
    if (engine.deviceFallback) {
      log.warn({ reason: engine.deviceFallback }, "--device auto: running on the CPU");
    }
    host.memory = await modelMemory(engine, load.rssBefore);
    log.info({ model: servedName, memory: host.memory }, "model loaded");
    await loadExtraModels(parts.extras, parts.extraHosts, parts.opts, log, parts.shutdown);
    return engine;
  } catch (err) {
    log.fatal({ err: (err as Error).message }, "model failed to load");
    host.setFailed((err as Error).message);
    throw err;
  }
}
