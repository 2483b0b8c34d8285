import "./ort-env.js";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

/**
 * Session worker threads started before the model is known, so that the thread boots and loads
 * ONNX Runtime (~150 ms) while the main thread is still loading the CLI and reading the model.
 * Kept small on purpose: the CLI imports it before anything else.
 */
const warm: Worker[] = [];

export function sessionWorkerScript(): URL {
  const url = new URL("./session-worker.js", import.meta.url);
  if (existsSync(fileURLToPath(url))) return url;
  // Running from TypeScript sources (tests): use the built worker.
  return new URL("../../../dist/engine/node/session-worker.js", import.meta.url);
}

/** Keep exactly `count` warm workers: start the missing ones, stop the ones not needed. */
export function prewarmWorkers(count: number): void {
  while (warm.length < count) {
    const worker = new Worker(sessionWorkerScript());
    worker.unref();
    warm.push(worker);
  }
  for (const extra of warm.splice(count)) void extra.terminate();
}

/** A warm worker if one is left, else a new one. */
export function takeWorker(): Worker {
  return warm.shift() ?? new Worker(sessionWorkerScript());
}
