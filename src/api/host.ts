import type { Engine } from "../engine/index.js";
import { ServiceUnavailableError } from "./errors.js";

export type HostState = "loading" | "ready" | "failed" | "stopping";

/** Holds the engine while it loads, serves, or shuts down; routes ask it for the engine. */
export class ModelHost {
  state: HostState = "loading";
  engine: Engine | null = null;
  failure: string | null = null;
  readonly servedNames: string[];

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
