import { readdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { ModelConfig } from "../../core/index.js";
import type { Backend, RunHint } from "../backend.js";
import type { OutputRead, PaddedBatch } from "../batch.js";
import {
  INLINE_AFTER_LONE_BATCHES,
  INLINE_RECREATE_AFTER_CREATIONS,
  INLINE_RELEASE_AFTER_BUSY_BATCHES,
  INLINE_SESSION_MAX_MIB,
} from "../defaults.js";
import type { OnnxModel, OutputTensor, SessionOptions } from "./session.js";
import { WorkerPoolBackend } from "./worker-pool.js";

/**
 * Most padded tokens (sequences × longest) of a micro-batch run on the calling thread: a few
 * milliseconds of a MiniLM-L6 on two cores, the longest the event loop is held by one.
 */
export const INLINE_MAX_TOKENS = 256;

/**
 * How long the workers must have run no batch of concurrent traffic (one that was not a lone small
 * batch) before a lone batch runs on this thread. Under load the workers' queue drains now and
 * then (at c=64, while the event loop writes a batch's 64 answers and reads the next requests:
 * ~20–40 ms here), and a batch run here then would hold the event loop while the next requests
 * wait to be read (c=64 throughput ×0.66 with no wait, ×0.80 with 20 ms). Lone batches that ran in
 * the workers do not count: one client sending one request after another is lone traffic.
 */
export const INLINE_AFTER_IDLE_MS = 100;

/** When the session on the calling thread is created, used and released (tests shorten them). */
export interface InlineTuning {
  /** Most padded tokens of a batch run there. */
  maxInlineTokens: number;
  /** See `INLINE_AFTER_IDLE_MS`. */
  afterIdleMs: number;
  /** Lone small batches in a row in the workers before it is created. */
  afterLoneBatches: number;
  /** Batches of concurrent traffic in a row in the workers, none run there, before it is released. */
  releaseAfterBusyBatches: number;
  /** Least time between two creations, in multiples of the last creation's time. */
  recreateAfterCreations: number;
  now: () => number;
}

const DEFAULT_TUNING: InlineTuning = {
  maxInlineTokens: INLINE_MAX_TOKENS,
  afterIdleMs: INLINE_AFTER_IDLE_MS,
  afterLoneBatches: INLINE_AFTER_LONE_BATCHES,
  releaseAfterBusyBatches: INLINE_RELEASE_AFTER_BUSY_BATCHES,
  recreateAfterCreations: INLINE_RECREATE_AFTER_CREATIONS,
  now: () => performance.now(),
};

/**
 * Worker threads for work that waits, and a session on the calling thread (the event loop) for a
 * micro-batch that runs alone: a small one, with nothing queued behind it, nothing running in the
 * workers, and no batch of concurrent traffic in them for the last `INLINE_AFTER_IDLE_MS`. Such a
 * batch skips the hand-off to a worker and back (thread wake-ups and messages; docs/performance.md).
 * Under load every batch goes to the workers, so the event loop keeps reading, tokenizing and
 * answering while they compute, and a large batch never holds it.
 *
 * The session on this thread lives only while traffic is lone. It is created once
 * `INLINE_AFTER_LONE_BATCHES` lone small batches in a row have run in the workers, when the last of
 * them is done: not at start-up, since creating it holds the event loop (~0.1–0.4 s here), and
 * again only once `INLINE_RECREATE_AFTER_CREATIONS` times as long as the last creation took has
 * passed since. It is released once `INLINE_RELEASE_AFTER_BUSY_BATCHES` batches of concurrent
 * traffic in a row have run in the workers with none run here: a server under load holds the
 * memory of the workers' sessions only. Until it is up, and if creating it fails, every batch goes
 * to the workers.
 */
export class AdaptiveBackend implements Backend {
  readonly loneHere = true;
  readonly outputs;
  readonly slots;
  readonly sessions;
  readonly device;
  readonly fallback;
  private readonly tuning: InlineTuning;
  private inWorkers = 0;
  /** Lone small batches in a row that ran in the workers. */
  private loneInWorkers = 0;
  /** Batches of concurrent traffic that ran in the workers since a batch last ran here. */
  private busyInWorkers = 0;
  /** When the workers last finished a batch that was not lone and small (`now()`), or -Infinity. */
  private lastBusy = Number.NEGATIVE_INFINITY;
  /** When the session here may be created again (`now()`). */
  private createAfter = Number.NEGATIVE_INFINITY;
  private inline: OnnxModel | null = null;
  /** Batches running on the session here (its runs are awaited). */
  private inlineRuns = 0;
  private creating: Promise<void> | null = null;
  private releasing: Promise<void> | undefined;
  /** Creating it failed once: every batch runs in the workers from then on. */
  private failed = false;
  private closed = false;

  constructor(
    private readonly workers: Backend,
    private readonly createInline: () => Promise<OnnxModel>,
    private readonly warn: (message: string) => void,
    tuning: Partial<InlineTuning> = {},
  ) {
    this.tuning = { ...DEFAULT_TUNING, ...tuning };
    this.outputs = workers.outputs;
    this.slots = workers.slots;
    this.sessions = workers.sessions;
    this.device = workers.device;
    this.fallback = workers.fallback;
  }

  /** Whether the session on this thread is up (batches may run there). */
  get inlineReady(): boolean {
    return this.inline !== null;
  }

  async run(
    batch: PaddedBatch,
    reads: readonly OutputRead[],
    hint?: RunHint,
  ): Promise<OutputTensor[]> {
    const { maxInlineTokens, afterIdleMs, now } = this.tuning;
    const small = batch.batch * batch.seqLen <= maxInlineTokens;
    const lone = hint?.alone === true && small;
    const idle = this.inWorkers === 0 && now() - this.lastBusy >= afterIdleMs;
    if (this.inline && lone && idle) return this.runHere(this.inline, batch, reads);
    // A request's batch (the load-time probes give no hint): lone and small, or not.
    if (hint) this.loneInWorkers = lone ? this.loneInWorkers + 1 : 0;
    this.inWorkers++;
    try {
      return await this.workers.run(batch, reads);
    } finally {
      this.inWorkers--;
      if (!lone) {
        this.lastBusy = now();
        if (hint) this.busyInWorkers++;
      }
      if (this.busyInWorkers >= this.tuning.releaseAfterBusyBatches) this.releaseInline();
      if (this.loneInWorkers >= this.tuning.afterLoneBatches) this.startInline();
    }
  }

  private async runHere(
    model: OnnxModel,
    batch: PaddedBatch,
    reads: readonly OutputRead[],
  ): Promise<OutputTensor[]> {
    this.busyInWorkers = 0;
    this.inlineRuns++;
    try {
      return await model.run(batch, reads);
    } finally {
      this.inlineRuns--;
    }
  }

  private startInline(): void {
    if (this.inline || this.creating || this.failed || this.closed || this.inWorkers > 0) return;
    const { now, recreateAfterCreations } = this.tuning;
    const started = now();
    if (started < this.createAfter) return;
    this.busyInWorkers = 0;
    this.creating = this.createInline()
      .then(
        async (model) => {
          const took = now() - started;
          this.createAfter = started + took * (1 + recreateAfterCreations);
          if (this.closed) await model.release();
          else this.inline = model;
        },
        (err: Error) => {
          this.failed = true;
          this.warn(
            `The session for lone batches did not start (${err.message}): all run in workers`,
          );
        },
      )
      .finally(() => {
        this.creating = null;
      });
  }

  private releaseInline(): void {
    const model = this.inline;
    if (!model || this.inlineRuns > 0) return;
    this.inline = null;
    this.releasing = model
      .release()
      .catch((err: Error) =>
        this.warn(`The session for lone batches was not released cleanly (${err.message})`),
      );
  }

  /** Resolves once a started creation or release of the session on this thread has finished. */
  async settled(): Promise<void> {
    await Promise.all([this.creating, this.releasing]);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.settled();
    await Promise.all([this.inline?.release(), this.workers.close()]);
  }
}

/**
 * Bytes of an ONNX graph with its external data: the graph file and the files beside it that are
 * not another graph or named after one (`model.onnx_data`, a tensor per file; not
 * `model_fp16.onnx` nor `model_fp16.onnx_data`). Folders are not counted.
 */
export async function graphBytes(onnxPath: string): Promise<number> {
  const dir = dirname(onnxPath);
  const self = basename(onnxPath);
  const names = await readdir(dir);
  const others = names.filter((n) => n !== self && n.endsWith(".onnx"));
  const mine = names.filter(
    (n) => n === self || (!n.endsWith(".onnx") && !others.some((o) => n.startsWith(o))),
  );
  const sizes = await Promise.all(
    mine.map((n) => stat(join(dir, n)).then((s) => (s.isFile() ? s.size : 0))),
  );
  return sizes.reduce((a, b) => a + b, 0);
}

/**
 * The options of the session for lone batches: the workers' own, with ONNX Runtime's memory
 * pattern (one block planned per input shape), which the workers' session leaves off for the many
 * shapes of cross-request batches: this session's shapes are small (at most `INLINE_MAX_TOKENS`
 * padded tokens). A lone request p50 ×0.961, throughput at c=1 ×1.03 (`bench/ab.ts`, 10 rounds);
 * a server's peak RSS after 15 s of lone STS sentences the same, 284 MiB. Like the workers'
 * session it uses the arena (a lone request p50 ×0.957–0.996 against malloc for every tensor),
 * whose largest regions (~15 MiB) only a server that has seen lone traffic holds.
 */
export function inlineSessionOptions(opts: SessionOptions): SessionOptions {
  return { ...opts, enableMemPattern: true };
}

/** With `inline`: `always` for `--inline-session on`, else (auto) up to `maxBytes` of graph. */
export interface InlineChoice {
  warn: (message: string) => void;
  always: boolean;
  maxBytes?: number;
}

/**
 * The workers' sessions and, with `inline`, a session on this thread for lone small batches
 * (created once the server runs, see `AdaptiveBackend`): always, or (auto) for a graph of up to
 * `INLINE_SESSION_MAX_MIB`, whose second copy of the prepacked weights is worth a lone request's
 * hand-off.
 */
export async function startWorkers(
  path: string,
  config: ModelConfig,
  opts: SessionOptions,
  workers: number,
  inline: InlineChoice | null,
): Promise<Backend> {
  const maxBytes = inline?.maxBytes ?? INLINE_SESSION_MAX_MIB * 2 ** 20;
  const [pool, small] = await Promise.all([
    WorkerPoolBackend.create(path, config, opts, workers),
    inline && !inline.always
      ? graphBytes(path).then(
          (bytes) => bytes <= maxBytes,
          () => false,
        )
      : true,
  ]);
  if (!inline || !small) return pool;
  const create = () =>
    import("./session.js").then(({ loadOnnxModel }) =>
      loadOnnxModel(path, config, inlineSessionOptions(opts)),
    );
  return new AdaptiveBackend(pool, create, inline.warn);
}
