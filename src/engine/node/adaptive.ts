import type { ModelConfig } from "../../core/index.js";
import type { Backend, RunHint } from "../backend.js";
import type { OutputRead, PaddedBatch } from "../batch.js";
import type { OnnxModel, OutputTensor, SessionOptions } from "./session.js";
import { WorkerPoolBackend } from "./worker-pool.js";

/**
 * Most padded tokens (sequences × longest) of a micro-batch run on the calling thread: a few
 * milliseconds of a MiniLM-L6 on two cores, the longest the event loop is held by one.
 */
export const INLINE_MAX_TOKENS = 256;

/**
 * Worker threads for work that waits, and a session on the calling thread (the event loop) for a
 * micro-batch that runs alone: a small one, with nothing queued behind it and nothing running in
 * the workers. Such a batch skips the hand-off to a worker and back (two thread wake-ups and the
 * messages, ~0.2–0.3 ms of a lone request's latency here; docs/performance.md). Under load every
 * batch goes to the workers, so the event loop keeps reading, tokenizing and answering while
 * they compute, and a large batch never holds the event loop.
 */
export class AdaptiveBackend implements Backend {
  readonly outputs;
  readonly slots;
  readonly sessions;
  readonly device;
  readonly fallback;
  private inWorkers = 0;

  constructor(
    private readonly workers: Backend,
    private readonly inline: OnnxModel,
    private readonly maxInlineTokens = INLINE_MAX_TOKENS,
  ) {
    this.outputs = workers.outputs;
    this.slots = workers.slots;
    this.sessions = workers.sessions;
    this.device = workers.device;
    this.fallback = workers.fallback;
  }

  async run(
    batch: PaddedBatch,
    reads: readonly OutputRead[],
    hint?: RunHint,
  ): Promise<OutputTensor[]> {
    const small = batch.batch * batch.seqLen <= this.maxInlineTokens;
    if (hint?.alone && small && this.inWorkers === 0) return this.inline.run(batch, reads);
    this.inWorkers++;
    try {
      return await this.workers.run(batch, reads);
    } finally {
      this.inWorkers--;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.inline.release(), this.workers.close()]);
  }
}

/**
 * The workers' sessions and, with `inline`, a session on this thread for lone small batches
 * (both load at once).
 */
export async function startWorkers(
  path: string,
  config: ModelConfig,
  opts: SessionOptions,
  workers: number,
  inline: boolean,
): Promise<Backend> {
  if (!inline) return WorkerPoolBackend.create(path, config, opts, workers);
  const [pool, model] = await Promise.allSettled([
    WorkerPoolBackend.create(path, config, opts, workers),
    import("./session.js").then(({ loadOnnxModel }) => loadOnnxModel(path, config, opts)),
  ]);
  if (pool.status === "fulfilled" && model.status === "fulfilled")
    return new AdaptiveBackend(pool.value, model.value);
  if (pool.status === "fulfilled") await pool.value.close();
  if (model.status === "fulfilled") await model.value.release();
  throw pool.status === "rejected" ? pool.reason : (model as PromiseRejectedResult).reason;
}
