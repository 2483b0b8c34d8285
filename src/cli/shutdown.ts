import type { Server } from "node:http";
import type { Logger } from "pino";
import type { ModelHost } from "../api/host.js";
import type { StoreServices } from "../config/store-services.js";
import type { Engine } from "../engine/engine.js";
import type { JobWorker } from "../jobs/index.js";

/**
 * Exiting while a worker thread is still creating its ONNX session aborts natively (no exit
 * code): on a failure after the load started, let it settle (bounded), then close the engine.
 */
export async function closeWhenSettled(loading: Promise<Engine>): Promise<void> {
  const settled = loading.then((engine) => engine.close()).catch(() => undefined);
  await Promise.race([settled, new Promise((r) => setTimeout(r, 10_000).unref())]);
}

/** The ledger (its last rows written) and the store, closed in that order. */
export async function closeServices(services: StoreServices | null, log: Logger): Promise<void> {
  await services?.meter.close().catch((err: Error) => log.error({ err: err.message }, "ledger"));
  await services?.store.close();
}

/** What a serving process closes on the way out. */
export interface Serving {
  server: Server;
  host: ModelHost;
  log: Logger;
  jobs: JobWorker | null;
  services: StoreServices | null;
}

/**
 * `serve`'s SIGTERM and SIGINT, handled from the moment the model starts loading. Before the
 * server listens, a signal stops the load (each session closed once created) and exits 0. Once
 * it listens, the listener closes, in-flight requests finish within the timeout (exit 1 when any
 * had to be cut), then jobs under way, the engines, the ledger and the store close, in that order.
 */
export class Shutdown {
  /** True once a signal came: no further model starts loading. */
  stopping = false;
  /** Every model load (the first and the further ones), each closed once created. */
  private readonly loads: Promise<Engine>[] = [];
  private drain: ((signal: string) => void) | null = null;

  constructor(private readonly timeoutMs: number) {
    process.once("SIGTERM", () => this.stop("SIGTERM"));
    process.once("SIGINT", () => this.stop("SIGINT"));
  }

  /** A model load to close on the way out. */
  track(loading: Promise<Engine>): Promise<Engine> {
    this.loads.push(loading);
    return loading;
  }

  /** Close every engine, waiting (bounded) for loads still under way. */
  async closeEngines(): Promise<void> {
    for (const loading of this.loads) await closeWhenSettled(loading);
  }

  private stop(signal: string): void {
    if (this.stopping) return;
    this.stopping = true;
    if (this.drain) this.drain(signal);
    else void this.closeEngines().then(() => process.exit(0));
  }

  /** The server listens: from now on a signal drains it. Counts the requests in flight. */
  serving(s: Serving): void {
    let inFlight = 0;
    s.server.on("request", (_req, res) => {
      inFlight++;
      res.once("close", () => inFlight--);
    });
    this.drain = (signal) => {
      s.host.state = "stopping";
      s.log.info({ signal }, "shutting down: finishing in-flight requests");
      let cut = 0;
      const force = setTimeout(() => {
        cut = inFlight;
        s.log.warn({ cut }, "shutdown timeout: closing remaining connections");
        s.server.closeAllConnections();
      }, this.timeoutMs);
      force.unref();
      s.server.close(async () => {
        // Jobs under way finish (or their lease lapses); every ledger row recorded is written.
        await s.jobs?.stop();
        // A model may still be loading: its session is closed once created.
        await this.closeEngines();
        await closeServices(s.services, s.log);
        s.log.info({ cut }, "stopped");
        process.exit(cut > 0 ? 1 : 0);
      });
      s.server.closeIdleConnections();
      setInterval(() => s.server.closeIdleConnections(), 50).unref();
    };
  }
}
