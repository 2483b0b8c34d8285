import type { Engine } from "../engine/engine.js";
import { ServiceUnavailableError } from "./errors.js";

export interface ModelMemory {
  onnx_bytes: number;
  rss_delta_bytes: number;
}

export type HostState = "loading" | "ready" | "failed" | "stopping";

/** Holds the engine while it loads, serves, or shuts down; routes ask it for the engine. */
export class ModelHost {
  state: HostState = "loading";
  engine: Engine | null = null;
  failure: string | null = null;
  readonly servedNames: string[];
  /** What loading cost: the ONNX file's bytes and the process RSS growth during the load. */
  memory: ModelMemory | null = null;

  constructor(servedNames: string[]) {
    this.servedNames = servedNames;
  }

  static ready(engine: Engine, servedNames: string[] = [engine.modelName]): ModelHost {
    const host = new ModelHost(servedNames);
    host.setReady(engine);
    return host;
  }

  setReady(engine: Engine): void {
    this.engine = engine;
    this.state = "ready";
  }

  setFailed(message: string): void {
    this.failure = message;
    this.state = "failed";
  }

  /**
   * The engine, or a 503 while loading or after a failed load. While shutting down the engine is
   * still handed out: the listener no longer accepts connections, and a request accepted before the
   * signal (its body perhaps still arriving) must be answered, not refused.
   */
  require(): Engine {
    if ((this.state === "ready" || this.state === "stopping") && this.engine) return this.engine;
    const why =
      this.state === "loading"
        ? "The model is still loading"
        : this.state === "stopping"
          ? "The server is shutting down"
          : `The model failed to load: ${this.failure ?? "unknown error"}`;
    throw new ServiceUnavailableError(why);
  }
}

/**
 * The host serving `model` among several (one engine, scheduler and limits each, sharing the
 * process's CPU): the first when `model` is absent, null for a name none serves.
 */
export function hostFor(hosts: readonly ModelHost[], model: string | null | undefined) {
  if (!model) return hosts[0]!;
  return hosts.find((h) => h.servedNames.includes(model)) ?? null;
}

/** The hosts, refused when two serve the same name (a request could not tell them apart). */
export function uniqueHosts(hosts: readonly ModelHost[]): readonly ModelHost[] {
  const names = hosts.flatMap((h) => h.servedNames);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new Error(`Two models are served as "${twice}"`);
  return hosts;
}
