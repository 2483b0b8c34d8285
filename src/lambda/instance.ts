import { readdirSync } from "node:fs";
import { getCompileCacheDir } from "node:module";
import type { Logger } from "pino";
import { ModelHost } from "../api/host.js";
import type { Engine, EngineOptions, LoadPhase } from "../engine/index.js";

export type ColdStartPhase = "import" | LoadPhase;

/** How the engine is made: `Engine.load` in production; tests pass the same with other options. */
export type EngineLoader = (opts: EngineOptions) => Promise<Engine>;

const round = (ms: number) => Math.round(ms * 10) / 10;

/**
 * Node's compile cache as this process found it: `shipped` when the package carries one for this
 * Node (version, V8 flags, user), `empty` when it was enabled without one (another Node: modules
 * compiled as usual), `off` when not enabled (read-only folder without this Node's cache).
 */
export function compileCacheState(): "shipped" | "empty" | "off" {
  const dir = getCompileCacheDir();
  if (!dir) return "off";
  try {
    return readdirSync(dir).length > 0 ? "shipped" : "empty";
  } catch {
    return "empty";
  }
}

/**
 * The one engine of a function instance. Loaded in the init phase and reused by every invocation;
 * a failed load leaves the host answering 503 with the reason, and the next invocation tries
 * again (a reused sandbox never keeps a failure forever).
 */
export class FunctionInstance {
  readonly host: ModelHost;
  /** Completed loads (a warm invocation does not add one). */
  loads = 0;
  private loading: Promise<void> | null = null;

  constructor(
    servedName: string,
    private readonly options: () => EngineOptions,
    private readonly loader: EngineLoader,
    private readonly log: Logger,
    private readonly functionName: string,
  ) {
    this.host = new ModelHost([servedName]);
  }

  /** Load unless ready; concurrent callers share one attempt. Never throws: failures go to the host. */
  ensure(): Promise<void> {
    if (this.host.state === "ready") return Promise.resolve();
    this.loading ??= this.load().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    const phases: Partial<Record<ColdStartPhase, number>> = {};
    // Time since the process started: runtime start-up and this bundle's import (first load only).
    if (this.loads === 0 && this.host.failure === null) phases.import = round(performance.now());
    const start = performance.now();
    let model = "";
    this.host.state = "loading";
    try {
      const opts = this.options();
      model = opts.model;
      const engine = await this.loader({
        ...opts,
        // Download progress lines (a cold start that fetches the model) go to the function's log.
        store: { ...opts.store, log: (message) => this.log.info(message) },
        onPhase: (phase, ms) => {
          phases[phase] = round(ms);
        },
      });
      this.loads += 1;
      this.host.setReady(engine);
      this.log.info(
        {
          function: this.functionName,
          model,
          phases,
          load_ms: round(performance.now() - start),
          compile_cache: compileCacheState(),
          threads: opts.session?.intraOpNumThreads,
          spinning: opts.session?.allowSpinning !== false,
        },
        "cold start",
      );
    } catch (err) {
      const message = (err as Error).message;
      this.host.setFailed(message);
      this.log.error(
        { function: this.functionName, model, phases, err: message },
        "model failed to load; the next invocation retries",
      );
    }
  }
}
